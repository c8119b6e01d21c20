"""Share links of run replays: who may open a run by its link, and its owner revoking it or setting its expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from playground.models import Run, new_share_token

NEVER = "never"


class ShareError(Exception):
    """A refused change to a share link; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def expiry_choices() -> list[tuple[str, str]]:
    """The lifetimes an owner may pick, as form choices: until revoked, then PLAYGROUND_SHARE_LINK_DAYS."""
    days = sorted(set(settings.PLAYGROUND_SHARE_LINK_DAYS))
    return [(NEVER, "until I revoke it")] + [(str(n), f"{n} day{'s' if n != 1 else ''}") for n in days]


def link_state(run: Run, share: str, now: datetime | None = None) -> str:
    """ "valid", "expired" (the right token past its expiry) or "invalid" (no token or not this run's)."""
    if not share or not constant_time_compare(share, run.share_token):
        return "invalid"
    if run.share_expires_at is not None and (now or timezone.now()) >= run.share_expires_at:
        return "expired"
    return "valid"


@dataclass(frozen=True)
class ShareChange:
    action: str  # "revoke": a new token (the old link stops working), or "expiry": the same link, a new lifetime
    expires: str  # NEVER or a number of days from expiry_choices()


def change_share_link(run: Run | None, user: AbstractBaseUser | AnonymousUser, change: ShareChange) -> Run:
    """The owner revokes the link (a new token) and/or sets how long it lasts; anyone else is told there is no run."""
    if run is None or not user.is_authenticated or run.learner_id != user.pk:
        raise ShareError("No such run.", 404)
    if change.action not in ("revoke", "expiry") or change.expires not in dict(expiry_choices()):
        raise ShareError("Choose how long the link lasts.", 400)
    if change.action == "revoke":
        run.share_token = new_share_token()
    run.share_expires_at = None if change.expires == NEVER else timezone.now() + timedelta(days=int(change.expires))
    run.save(update_fields=["share_token", "share_expires_at"])
    return run
