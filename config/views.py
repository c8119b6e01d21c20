"""Site-wide pages: home and the friendly error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """Say what the site is and where to start, or where a returning learner left off."""
    from lessons.catalogue import get_catalogue
    from lessons.progress import load_progress

    context = {}
    last = load_progress(request).last
    topic = get_catalogue().get(last[0]) if last else None
    if topic and last and last[1] in topic.modes:
        context = {"continue_topic": topic, "continue_mode": topic.modes[last[1]]}
    return render(request, "home.html", context)


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
