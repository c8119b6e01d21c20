"""Async variants of the floor and of a topic page, for bench/serving_bench.py only (issue #14's serving decision).

They do what the site's sync views do, with the per-learner queries through Django's async ORM, so the benchmark can
set "async views" beside "sync views in Daphne's thread pool" on the same process. Not part of the site.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.roles import CACHE_ATTRIBUTE, INSTRUCTORS_GROUP
from lessons.learner_progress import Progress, load_progress, record_visit, visit_changes_nothing
from lessons.models import LearningPreference, ModeVisit, TopicCompletion
from lessons.views import get_topic_or_404, render_mode


async def base_page(request: HttpRequest) -> HttpResponse:
    """The floor as an async view: base.html, no query of the view's own."""
    request.user = await request.auser()  # the template's `user`, looked up without a sync call
    return render(request, "base.html", {})


async def aload_user_progress(user) -> Progress:
    """lessons.learner_progress.load_user_progress with the async ORM (the same three queries)."""
    progress = Progress()
    latest = None
    async for visit in ModeVisit.objects.filter(user=user).only("topic", "mode", "last_seen"):
        progress.seen.setdefault(visit.topic, set()).add(visit.mode)
        if latest is None or visit.last_seen > latest.last_seen:
            latest = visit
    progress.last = (latest.topic, latest.mode) if latest else None
    progress.last_seen = latest.last_seen if latest else None
    progress.completed = {
        slug async for slug in TopicCompletion.objects.filter(user=user).values_list("topic", flat=True)
    }
    preference = await LearningPreference.objects.filter(user=user).afirst()
    progress.preferred_mode = preference.preferred_mode if preference else None
    return progress


async def topic_mode(request: HttpRequest, slug: str, mode: str) -> HttpResponse:
    """lessons.views.mode_detail as an async view: session, user, progress and role through the async ORM; the
    rendering (no query once these are known) is the site's own."""
    user = await request.auser()
    request.user = user
    topic = get_topic_or_404(slug)
    if mode not in topic.modes:
        raise Http404("This topic does not offer that learning mode.")
    if user.is_authenticated:
        progress = await aload_user_progress(user)
        setattr(user, CACHE_ATTRIBUTE, await user.groups.filter(name=INSTRUCTORS_GROUP).aexists())
    else:
        progress = await sync_to_async(load_progress)(request)
    if not visit_changes_nothing(progress, topic, mode, chosen=True):
        await sync_to_async(record_visit)(request, topic, mode, chosen=True, progress=progress)
    return render_mode(request, topic, mode, chosen=True, progress=progress)
