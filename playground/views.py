"""The playground page: editor, run controls, client panel and the live URL; drafts, the learner's runs, replays."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cohorts.access import instructs_learner
from playground import drafts, sharing
from playground.models import Run
from playground.starters import all_starters


def playground(request: HttpRequest, starter: str = "echo") -> HttpResponse:
    """Anyone may read the page and write code (kept as a draft); running code needs a signed-in account (the socket
    enforces it)."""
    starters = all_starters()
    if starter not in starters:
        raise Http404("No such starter.")
    draft = drafts.find_draft(request, starter)
    context = {
        "starter": starters[starter],
        "starters": starters.values(),
        "draft": {"code": draft.code, "saved_at": draft.saved_at.isoformat()} if draft else None,
    }
    return render(request, "playground/playground.html", context)


def draft_refused(error: drafts.DraftError) -> JsonResponse:
    response = JsonResponse({"error": error.message, "conflict": error.conflict}, status=error.status)
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


@require_POST
def save_draft(request: HttpRequest, starter: str) -> JsonResponse:
    """The editor's text for this starter, sent as the learner pauses typing; the answer says when it was saved.
    `base` is the saved_at of the draft the page holds ("" for none); without it the page's text wins. `page` and
    `page_save` name the page load and its save's number."""
    try:
        sender = drafts.read_sender(request.POST.get("page"), request.POST.get("page_save"))
        saved = drafts.save_draft(request, starter, request.POST.get("code"), request.POST.get("base"), sender)
    except drafts.DraftError as error:
        return draft_refused(error)
    return JsonResponse({"saved_at": saved.saved_at.isoformat()})


@require_POST
def reset_draft(request: HttpRequest, starter: str) -> JsonResponse:
    """ "Reset to starter": the draft is dropped; the page shows the starter's code and offers to undo."""
    try:
        drafts.discard_draft(request, starter)
    except drafts.DraftError as error:
        return draft_refused(error)
    return JsonResponse({"reset": True})


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    """The learner's own runs, newest first, with their replays (instructors see learners' runs on the dashboards)."""
    mine = (
        Run.objects.filter(learner_id=request.user.pk)
        .order_by("-started_at", "-pk")
        .only("starter", "started_at", "ended_at", "end_reason", "end_detail", "event_count", "error_count")
    )
    page = Paginator(mine, settings.PLAYGROUND_RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    titles = {name: starter.title for name, starter in all_starters().items()}
    rows = [{"run": run, "starter": titles.get(run.starter, run.starter), "duration": duration(run)} for run in page]
    return render(request, "playground/runs.html", {"page": page, "rows": rows})


def duration(run: Run) -> str:
    """How long the run lasted, as a learner reads it ("2 min 5 s"); empty while it runs."""
    if run.ended_at is None:
        return ""
    seconds = max(0, round((run.ended_at - run.started_at).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{seconds} s"]
    return " ".join(part for part in parts if part) if (hours or minutes or seconds) else "under 1 s"


def replay(request: HttpRequest, pk: int) -> HttpResponse:
    """A recorded run with the step-through viewer: its owner, its owner's instructors, or anyone with its share link.

    A visitor who is not signed in and has no share link of the run is asked to sign in (the link may be their own run).

    While the run is still going, its owner and their instructors follow it live over the watch socket.
    """
    run = Run.objects.filter(pk=pk).select_related("learner").first()
    user = request.user
    link = sharing.link_state(run, request.GET.get("share", "")) if run is not None else "invalid"
    if not user.is_authenticated and link == "invalid":
        return redirect_to_login(request.get_full_path())  # whether the run exists is told only after sign-in
    if run is None:
        raise Http404("No such run.")
    is_learner = user.is_authenticated and run.learner_id == user.pk
    may_watch = is_learner or (user.is_authenticated and instructs_learner(user, run.learner_id))
    if not may_watch:
        if link == "expired":
            return render(request, "playground/share_expired.html", status=410)
        if link != "valid":
            raise Http404("No such run.")
    share_url = request.build_absolute_uri(f"{request.path}?share={run.share_token}")
    watch_path = f"/ws/runs/{run.pk}/watch/" if run.is_running and may_watch else ""
    context = {
        "run": run,
        "share_url": share_url,
        "share_choices": sharing.expiry_choices(),
        "is_learner": is_learner,
        "watch_path": watch_path,
    }
    return render(request, "playground/replay.html", context)


@require_POST
def change_share(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's owner revokes its share link (a new one replaces it) or sets how long it lasts."""
    change = sharing.ShareChange(request.POST.get("action", ""), request.POST.get("expires", ""))
    try:
        run = sharing.change_share_link(Run.objects.filter(pk=pk).first(), request.user, change)
    except sharing.ShareError as error:
        if error.status == 404:
            raise Http404(error.message) from None
        return HttpResponse(error.message, status=error.status, content_type="text/plain; charset=utf-8")
    done = "A new share link replaces the old one, which no longer works." if change.action == "revoke" else ""
    messages.success(request, done or "The share link's lifetime is set.")
    return redirect("playground:replay", pk=run.pk)
