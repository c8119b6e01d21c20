"""The playground page: editor, run controls, client panel and the live URL."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare

from dashboards.services import instructs_learner
from playground.models import Run
from playground.starters import all_starters


def playground(request: HttpRequest, starter: str = "echo") -> HttpResponse:
    """Anyone may read the page; running code needs a signed-in account (the socket enforces it)."""
    starters = all_starters()
    if starter not in starters:
        raise Http404("No such starter.")
    return render(request, "playground/playground.html", {"starter": starters[starter], "starters": starters.values()})


def replay(request: HttpRequest, pk: int) -> HttpResponse:
    """A recorded run with the step-through viewer: its owner, its owner's instructors, or anyone with its share link."""
    run = Run.objects.filter(pk=pk).select_related("learner").first()
    share = request.GET.get("share", "")
    allowed = run is not None and (
        (request.user.is_authenticated and run.learner_id == request.user.pk)
        or (share and constant_time_compare(share, run.share_token))
        or (request.user.is_authenticated and instructs_learner(request.user, run.learner_id))
    )
    if not allowed:
        raise Http404("No such run.")
    share_url = request.build_absolute_uri(f"{request.path}?share={run.share_token}")
    return render(
        request,
        "playground/replay.html",
        {"run": run, "share_url": share_url, "is_learner": run.learner_id == request.user.pk},
    )
