"""Site-wide pages: home, the course outline (lessons with quiz scores and challenges) and the friendly error pages.

Pages that draw on several apps live here, above them all: the outline needs quiz scores, and lessons must not import
quizzes (quizzes build on lessons).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """Say what the site is and where to start, or where a returning learner left off."""
    from lessons.catalogue import get_catalogue
    from lessons.learner_progress import load_progress

    catalogue = get_catalogue()
    context: dict[str, object] = {
        # Where the Quizzes and Visualizer cards lead: the first topic that has a quiz, the first with a recorded run.
        "quiz_topic": next((topic for topic in catalogue.topics if topic.quiz), None),
        "execution_topic": next((topic for topic in catalogue.topics if "execution" in topic.modes), None),
    }
    last = load_progress(request).last
    topic = catalogue.get(last[0]) if last else None
    if topic and last and last[1] in topic.modes:
        context.update(continue_topic=topic, continue_mode=topic.modes[last[1]])
    return render(request, "home.html", context)


def outline(request: HttpRequest) -> HttpResponse:
    """The course in order, with the visitor's progress, best quiz scores, challenge statuses and prediction scores on
    each topic."""
    from challenges.loader import get_challenges
    from config.outline import outline_marks, outline_topics
    from lessons.catalogue import get_catalogue

    topics = outline_topics(get_catalogue(), get_challenges(), outline_marks(request))
    return render(request, "lessons/outline.html", {"topics": topics})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Render the 403 page inside the site layout."""
    return render(request, "errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Render the 404 page inside the site layout."""
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Render a self-contained 500 page: no context processors, which may be what failed."""
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
