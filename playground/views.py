"""The playground page: editor, run controls, client panel and the live URL."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cohorts.access import instructs_learner
from playground import sharing
from playground.models import Run
from playground.starters import all_starters


def playground(request: HttpRequest, starter: str = "echo") -> HttpResponse:
    """Anyone may read the page; running code needs a signed-in account (the socket enforces it)."""
    starters = all_starters()
    if starter not in starters:
        raise Http404("No such starter.")
    return render(request, "playground/playground.html", {"starter": starters[starter], "starters": starters.values()})


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
