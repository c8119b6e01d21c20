"""Live cohort updates: learner activity (announced through `activity`) is stored in each cohort's feed and sent to
the cohort groups that instructors' dashboards join."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.db import transaction

from cohorts.access import learner_cohort_ids
from config.layer import quietly
from dashboards.feed import Update, record

logger = logging.getLogger(__name__)


def cohort_group(cohort_id: int) -> str:
    return f"cohort.{cohort_id}"


async def _send(cohort_ids: list[int], message: dict[str, Any]) -> None:
    """Redis being down is expected now and then: a warning, not a traceback, and the learner's action goes on."""
    layer = get_channel_layer()
    if layer is None:
        logger.warning("no channel layer is configured; cohort %s not told", cohort_ids)
        return
    for cohort_id in cohort_ids:
        if not await quietly(layer.group_send(cohort_group(cohort_id), message), f"announcing to cohort {cohort_id}"):
            return


async def _send_updates(updates: list[Update]) -> None:
    for update in updates:
        await _send([update.cohort_id], {"type": "cohort.event", "event": update.event})


def _deliver(cohort_ids: list[int], message: dict[str, Any]) -> None:
    """A dashboard update must never break the learner's action: layer failures are logged, not raised."""
    try:
        async_to_sync(_send)(cohort_ids, message)
    except Exception:
        logger.exception("could not announce %s to cohorts %s", message.get("event", {}).get("kind"), cohort_ids)


def target_cohorts(user: User, details: dict[str, Any]) -> list[int]:
    """Joining and leaving concern one cohort (named in the details); anything else, every cohort the learner is in."""
    if "cohort" in details:
        return [int(details["cohort"])]
    return learner_cohort_ids(user.pk)


def _record(user: User, kind: str, details: dict[str, Any]) -> list[Update]:
    return record(target_cohorts(user, details), user, kind, details)


def _record_and_deliver(user: User, kind: str, details: dict[str, Any]) -> None:
    """After the learner's transaction: store the feed lines, then tell the dashboards; failures only logged."""
    try:
        updates = _record(user, kind, details)
        if updates:  # most learners are in no cohort: no event loop to start for them
            async_to_sync(_send_updates)(updates)
    except Exception:
        logger.exception("could not record or announce %s of user %s", kind, user.pk)


def announce_to_cohorts(sender: Any, user: User, kind: str, details: dict[str, Any], **kwargs: Any) -> None:
    """Receiver of activity.learner_acted (sync code): record and tell the cohorts once the transaction has committed."""
    transaction.on_commit(lambda: _record_and_deliver(user, kind, details))


async def aannounce_to_cohorts(sender: Any, user: User, kind: str, details: dict[str, Any], **kwargs: Any) -> None:
    """Receiver of activity.learner_acted_async (the playground owner): record and tell the cohorts now."""
    try:
        updates = await database_sync_to_async(_record)(user, kind, details)
        await _send_updates(updates)
    except Exception:
        logger.exception("could not record or announce %s of user %s", kind, user.pk)


def revoke_instructor(cohort_id: int, user_id: int) -> None:
    """A removed instructor's open dashboard sockets close themselves on this message."""
    transaction.on_commit(lambda: _deliver([cohort_id], {"type": "cohort.revoke", "user_id": user_id}))
