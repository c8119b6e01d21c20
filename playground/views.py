"""The playground page: editor, run controls, client panel and the live URL."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare

from cohorts.access import instructs_learner
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

    A visitor who is not signed in and has no valid share link is asked to sign in (the link may be their own run).

    While the run is still going, its owner and their instructors follow it live over the watch socket.
    """
    run = Run.objects.filter(pk=pk).select_related("learner").first()
    user = request.user
    share = request.GET.get("share", "")
    shared = run is not None and bool(share) and constant_time_compare(share, run.share_token)
    if not user.is_authenticated and not shared:
        return redirect_to_login(request.get_full_path())  # whether the run exists is told only after sign-in
    if run is None:
        raise Http404("No such run.")
    is_learner = user.is_authenticated and run.learner_id == user.pk
    may_watch = is_learner or (user.is_authenticated and instructs_learner(user, run.learner_id))
    if not (may_watch or shared):
        raise Http404("No such run.")
    share_url = request.build_absolute_uri(f"{request.path}?share={run.share_token}")
    watch_path = f"/ws/runs/{run.pk}/watch/" if run.is_running and may_watch else ""
    return render(
        request,
        "playground/replay.html",
        {"run": run, "share_url": share_url, "is_learner": is_learner, "watch_path": watch_path},
    )
