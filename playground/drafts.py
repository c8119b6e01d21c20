"""Drafts: the code a learner is writing for each starter, kept on the server as they type so nothing is lost.

A signed-in learner's drafts are Draft rows (any device finds them); a visitor's live in their session and move to
the account when they sign in (a newer account draft is kept). Every limit is checked here, on the server: the code's
size (the run limit max_code_bytes, so a saved draft can always run), PLAYGROUND_DRAFTS_PER_LEARNER starters and
PLAYGROUND_DRAFT_SAVES_PER_MINUTE saves. A save names its page and its number on that page, so the page's own
earlier save is never taken for one made elsewhere (a reload sends the text while the last save is on its way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.throttle import seconds_until_allowed
from playground.models import Draft
from playground.run.limits import run_limits
from playground.starters import all_starters

SESSION_KEY = "playground_drafts"  # {starter: {"code": str, "saved_at": ISO 8601, "page": str, "page_save": int}}
SAVE_WINDOW_SECONDS = 60
PAGE_ID = re.compile(r"[0-9a-f]{32}")  # what static/js/playground/drafts.js makes for each page load
SAVE_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
MAX_PAGE_SAVE = 2**31 - 1  # what Draft.page_save holds on every database


class DraftError(Exception):
    """A draft that is not saved; `message` is shown to the learner after "Not saved:", `status` is the HTTP answer."""

    def __init__(self, message: str, status: int, retry_after: int = 0, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.conflict = conflict  # saved elsewhere since this page last saw it


@dataclass(frozen=True)
class SavedDraft:
    code: str
    saved_at: datetime
    page: str = ""  # the page that saved it, "" when unknown
    page_save: int = 0  # that page's number for the save


@dataclass(frozen=True)
class Sender:
    """The page a save comes from and the save's number there: one page's saves can arrive out of order."""

    page: str
    page_save: int


def read_sender(page: Any, page_save: Any) -> Sender | None:
    """The save's page as the request names it; None when it names none (a page from before pages were named)."""
    if page is None and page_save is None:
        return None
    if not isinstance(page, str) or not PAGE_ID.fullmatch(page):
        raise DraftError("the save named its page wrongly; reload the page, your text stays here until then.", 400)
    if not isinstance(page_save, str) or not SAVE_NUMBER.fullmatch(page_save) or int(page_save) > MAX_PAGE_SAVE:
        raise DraftError(
            "the save carried no valid save number; reload the page, your text stays here until then.", 400
        )
    return Sender(page, int(page_save))


def session_drafts(request: HttpRequest) -> dict[str, dict[str, str | int]]:
    stored = request.session.get(SESSION_KEY)
    return stored if isinstance(stored, dict) else {}


def from_session(entry: Any) -> SavedDraft | None:
    """A session entry as a draft; anything malformed counts as no draft."""
    if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
        return None
    saved_at = parse_datetime(str(entry.get("saved_at", "")))
    page, page_save = entry.get("page", ""), entry.get("page_save", 0)
    if not isinstance(page, str) or not isinstance(page_save, int):
        page, page_save = "", 0
    return SavedDraft(entry["code"], saved_at or timezone.now(), page, page_save)


def learner(request: HttpRequest) -> AbstractBaseUser | None:
    user = request.user
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None


def find_draft(request: HttpRequest, starter: str) -> SavedDraft | None:
    """The learner's draft of `starter`: the account's, else one their session kept (beyond the account's limit)."""
    user = learner(request)
    if user is not None:
        row = Draft.objects.filter(learner_id=user.pk, starter=starter).only("code", "saved_at").first()
        if row is not None:
            return SavedDraft(row.code, row.saved_at)
    return from_session(session_drafts(request).get(starter))


def check_save(request: HttpRequest, starter: str, code: Any) -> str:
    """The code to save, or DraftError: an unknown starter, no text, text over the size limit, or too many saves."""
    if starter not in all_starters():
        raise DraftError("there is no such starter.", 404)
    if not isinstance(code, str):
        raise DraftError("the request carried no code.", 400)
    size, limit = len(code.encode()), run_limits().max_code_bytes
    if size > limit:
        raise DraftError(f"the code is {size:,} bytes; at most {limit:,} bytes can be saved (and run).", 413)
    wait = seconds_until_allowed(
        "playground-draft", saver_key(request), settings.PLAYGROUND_DRAFT_SAVES_PER_MINUTE, SAVE_WINDOW_SECONDS
    )
    if wait:
        per_minute = settings.PLAYGROUND_DRAFT_SAVES_PER_MINUTE
        raise DraftError(f"at most {per_minute} saves a minute; saving again in {wait} s.", 429, retry_after=wait)
    return code


def saver_key(request: HttpRequest) -> str:
    """Whose saves are counted: the account, or the visitor's session (created for its first draft)."""
    user = learner(request)
    if user is not None:
        return f"user:{user.pk}"
    if not request.session.session_key:
        request.session.save()
    return f"session:{request.session.session_key}"


def too_many(count: int) -> DraftError:
    return DraftError(
        f"drafts are kept for at most {settings.PLAYGROUND_DRAFTS_PER_LEARNER} starters; reset one you no longer "
        f"need (you have {count}).",
        409,
    )


def kept_instead(current: SavedDraft | None, base: str | None, sender: Sender | None) -> SavedDraft | None:
    """The draft to keep instead of this save: a later save from the same page (the page's own earlier save is never
    "elsewhere": its answer may still be on the way when the page sends the next). DraftError when check_base refuses."""
    if current is not None and sender is not None and current.page == sender.page:
        return current if current.page_save >= sender.page_save else None
    check_base(current, base)
    return None


def check_base(current: SavedDraft | None, base: str | None) -> None:
    """Refuse to overwrite a draft saved elsewhere (another tab, another device) since the page last saw it; `base` is
    the saved_at the page knows ("" for none), None when the learner chose to keep this page's text."""
    if base is None or current is None:
        return
    known = parse_datetime(base) if base else None
    if known != current.saved_at:
        at = current.saved_at.astimezone(UTC).strftime("%H:%M:%S")
        raise DraftError(
            f"this starter's code was changed on another page or device at {at} (UTC). Keep this version, or load "
            "the other one.",
            409,
            conflict=True,
        )


def save_draft(
    request: HttpRequest, starter: str, code: Any, base: str | None = None, sender: Sender | None = None
) -> SavedDraft:
    """Save the learner's code for `starter` (checked by check_save and kept_instead); a new starter counts against the
    draft limit. Returns the draft kept: a later save from the same page, already kept, stays."""
    code = check_save(request, starter, code)
    now = timezone.now()
    page, page_save = (sender.page, sender.page_save) if sender else ("", 0)
    user = learner(request)
    if user is None:
        drafts = session_drafts(request)
        kept = kept_instead(from_session(drafts.get(starter)), base, sender)
        if kept is not None:
            return kept
        if starter not in drafts and len(drafts) >= settings.PLAYGROUND_DRAFTS_PER_LEARNER:
            raise too_many(len(drafts))
        drafts[starter] = {"code": code, "saved_at": now.isoformat(), "page": page, "page_save": page_save}
        request.session[SESSION_KEY] = drafts
        return SavedDraft(code, now, page, page_save)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one learner's saves, one at a time
        row = Draft.objects.filter(learner_id=user.pk, starter=starter).first()
        kept = kept_instead(SavedDraft(row.code, row.saved_at, row.page, row.page_save) if row else None, base, sender)
        if kept is not None:
            return kept
        if row is not None:
            Draft.objects.filter(pk=row.pk).update(code=code, saved_at=now, page=page, page_save=page_save)
        else:
            count = Draft.objects.filter(learner_id=user.pk).count()
            if count >= settings.PLAYGROUND_DRAFTS_PER_LEARNER:
                raise too_many(count)
            Draft.objects.create(
                learner_id=user.pk, starter=starter, code=code, saved_at=now, page=page, page_save=page_save
            )
    forget_session_draft(request, starter)  # the account's copy is the one from now on
    return SavedDraft(code, now, page, page_save)


def forget_session_draft(request: HttpRequest, starter: str) -> None:
    drafts = session_drafts(request)
    if starter in drafts:
        del drafts[starter]
        request.session[SESSION_KEY] = drafts


def discard_draft(request: HttpRequest, starter: str) -> None:
    """Reset to the starter: the learner's draft of it is gone (the page keeps the text for its undo)."""
    if starter not in all_starters():
        raise DraftError("there is no such starter.", 404)
    user = learner(request)
    if user is not None:
        Draft.objects.filter(learner_id=user.pk, starter=starter).delete()
    forget_session_draft(request, starter)


def claim_session_drafts(request: HttpRequest, user: AbstractBaseUser) -> None:
    """At sign-in the visitor's drafts move to the account, unless the account's draft of a starter is newer; drafts
    beyond the account's limit stay in the session, where find_draft still finds them."""
    drafts = session_drafts(request)
    if not drafts:
        return
    left: dict[str, dict[str, str | int]] = {}
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        mine = {row.starter: row for row in Draft.objects.filter(learner_id=user.pk).only("starter", "saved_at")}
        for starter, entry in drafts.items():
            draft = from_session(entry)
            if draft is None or starter not in all_starters():
                continue
            row = mine.get(starter)
            if row is not None:
                if draft.saved_at > row.saved_at:
                    Draft.objects.filter(pk=row.pk).update(
                        code=draft.code, saved_at=draft.saved_at, page=draft.page, page_save=draft.page_save
                    )
            elif len(mine) < settings.PLAYGROUND_DRAFTS_PER_LEARNER:
                mine[starter] = Draft.objects.create(
                    learner_id=user.pk,
                    starter=starter,
                    code=draft.code,
                    saved_at=draft.saved_at,
                    page=draft.page,
                    page_save=draft.page_save,
                )
            else:
                left[starter] = entry
    request.session[SESSION_KEY] = left
