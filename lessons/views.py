"""Lesson pages: a topic in one learning mode, completion and search (the outline is in config.views)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.requests import HtmxHttpRequest
from lessons.catalogue import Topic, get_catalogue
from lessons.catalogue.rendering import pygments_css as build_pygments_css
from lessons.learner_progress import CompletionRefused, Progress, load_topic_progress, mark_complete, record_visit
from lessons.practice_reveals import PracticeError, PracticeItem, find_question, practice_items, reveal_solution
from lessons.search import search as run_search
from lessons.topic_parts import optional_url, topic_parts


def get_topic_or_404(slug: str) -> Topic:
    topic = get_catalogue().get(slug)
    if topic is None:
        raise Http404("No such topic.")
    return topic


def topic_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A topic opened in the learner's preferred mode (or its first mode)."""
    topic = get_topic_or_404(slug)
    progress = load_topic_progress(request, topic)
    preferred = progress.preferred_mode
    mode = preferred if preferred is not None and preferred in topic.modes else topic.mode_keys[0]
    return render_mode(request, topic, mode, chosen=False, progress=progress)


def mode_detail(request: HtmxHttpRequest, slug: str, mode: str) -> HttpResponse:
    """A topic in the mode the learner chose; htmx gets just the tabs and panel."""
    topic = get_topic_or_404(slug)
    if mode not in topic.modes:
        raise Http404("This topic does not offer that learning mode.")
    return render_mode(request, topic, mode, chosen=True)


def render_mode(
    request: HtmxHttpRequest,
    topic: Topic,
    mode: str,
    *,
    chosen: bool,
    practice_error: tuple[str, str] | None = None,
    status: int = 200,
    progress: Progress | None = None,
) -> HttpResponse:
    progress = progress or load_topic_progress(request, topic)
    record_visit(request, topic, mode, chosen=chosen, progress=progress)
    context = {
        "topic": topic,
        "parts": topic_parts(get_catalogue(), topic, mode),
        "completed": topic.slug in progress.completed,
        "practice": practice_items(request, topic, practice_error) if mode == "practice" else None,
    }
    template = "lessons/_mode_region.html" if request.htmx else "lessons/topic.html"
    return render(request, template, context, status=status)


@require_POST
def complete(request: HttpRequest, slug: str) -> HttpResponse:
    """Mark a topic complete where the topic's rule allows it; otherwise say what completes it (409)."""
    topic = get_topic_or_404(slug)
    try:
        mark_complete(request, topic)
    except CompletionRefused as refused:
        context = {"topic": topic, "message": str(refused), "quiz_url": optional_url("quizzes:start", topic.slug)}
        return render(request, "lessons/not_complete.html", context, status=refused.status)
    messages.success(request, f"“{topic.title}” is marked complete.")
    return redirect("lessons:topic", slug=topic.slug)


@require_POST
def practice_answer(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Check a practice answer (or open an open question) and show its solution; htmx gets just that question."""
    topic = get_topic_or_404(slug)
    question = find_question(topic, request.POST.get("question", ""))
    try:
        reveal = reveal_solution(request, topic, question.id, request.POST.getlist("choice"))
    except PracticeError as error:
        if not request.htmx:
            return render_mode(
                request, topic, "practice", chosen=False, practice_error=(question.id, error.message), status=400
            )
        item = PracticeItem(question=question, reveal=None, error=error.message)
        return render(request, "lessons/_practice_question.html", {"topic": topic, "item": item}, status=error.status)
    if request.htmx:
        item = PracticeItem(question=question, reveal=reveal)
        return render(request, "lessons/_practice_question.html", {"topic": topic, "item": item})
    return redirect(reverse("lessons:mode", args=[topic.slug, "practice"]) + f"#practice-{question.id}")


def search(request: HttpRequest) -> HttpResponse:
    """Ranked results with highlighted snippets, a page at a time; an over-long query is refused with a message."""
    query = request.GET.get("q", "").strip()
    error = None
    results = []
    if len(query) > settings.LESSON_SEARCH_MAX_QUERY_CHARS:
        error = f"Search for at most {settings.LESSON_SEARCH_MAX_QUERY_CHARS} characters."
    elif query:
        results = run_search(get_catalogue(), query, settings.LESSON_SEARCH_MAX_TERMS)
    page = Paginator(results, settings.LESSON_SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "lessons/search.html",
        {"query": query, "results": page, "total": len(results), "error": error},
        status=400 if error else 200,
    )


def pygments_css(request: HttpRequest) -> HttpResponse:
    """Code highlighting styles, generated from Pygments once per process."""
    response = HttpResponse(build_pygments_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={settings.STATIC_MAX_AGE}"
    return response
