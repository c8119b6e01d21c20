"""Live cohort updates: learner activity (announced through `activity`) is sent to the cohort groups that
instructors' dashboards join."""

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


def _deliver(cohort_ids: list[int], message: dict[str, Any]) -> None:
    """A dashboard update must never break the learner's action: layer failures are logged, not raised."""
    try:
        async_to_sync(_send)(cohort_ids, message)
    except Exception:
        logger.exception("could not announce %s to cohorts %s", message.get("event", {}).get("kind"), cohort_ids)


def announce_to_cohorts(sender: Any, user: User, kind: str, details: dict[str, Any], **kwargs: Any) -> None:
    """Receiver of activity.learner_acted (sync code): tell the learner's cohorts once the transaction has committed."""
    cohort_ids = learner_cohort_ids(user.pk)
    if not cohort_ids:
        return
    event = {"kind": kind, "user_id": user.pk, "username": user.get_username(), **details}
    transaction.on_commit(lambda: _deliver(cohort_ids, {"type": "cohort.event", "event": event}))


async def aannounce_to_cohorts(sender: Any, user: User, kind: str, details: dict[str, Any], **kwargs: Any) -> None:
    """Receiver of activity.learner_acted_async (the playground owner): tell the learner's cohorts now."""
    cohort_ids = await database_sync_to_async(learner_cohort_ids)(user.pk)
    if not cohort_ids:
        return
    event = {"kind": kind, "user_id": user.pk, "username": user.get_username(), **details}
    try:
        await _send(cohort_ids, {"type": "cohort.event", "event": event})
    except Exception:
        logger.exception("could not announce %s to cohorts %s", kind, cohort_ids)


def revoke_instructor(cohort_id: int, user_id: int) -> None:
    """A removed instructor's open dashboard sockets close themselves on this message."""
    transaction.on_commit(lambda: _deliver([cohort_id], {"type": "cohort.revoke", "user_id": user_id}))
