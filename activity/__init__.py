"""Learner activity announcements: the learning apps say what a learner did; whoever cares (dashboards) subscribes.

The learning apps sit below the dashboards that report on them, so they announce through these signals instead of
importing the dashboards. Receivers must never let a failure of their own (a channel layer down) break the learner's
action; a receiver that has effects outside the database defers them until the learner's transaction has committed.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# Sent by `announce` from sync code, inside the learner's request and transaction: user, kind, details.
learner_acted = Signal()
# Sent by `aannounce` from async code (the playground's run owner), outside any transaction: user, kind, details.
learner_acted_async = Signal()


def announce(user: Any, kind: str, **details: Any) -> None:
    """From sync code: tell the subscribers what `user` did (`kind`, with JSON-serialisable `details`)."""
    learner_acted.send(sender=None, user=user, kind=kind, details=details)


async def aannounce(user: Any, kind: str, **details: Any) -> None:
    """From async code: tell the subscribers what `user` did, awaiting the async receivers."""
    await learner_acted_async.asend(sender=None, user=user, kind=kind, details=details)
