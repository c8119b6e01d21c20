"""The site's URLs plus the benchmarks' floor, `/bench/base/`, and async variants for bench/serving_bench.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path

from bench import async_views


def base_page(request: HttpRequest) -> HttpResponse:
    """The floor: the site's base template and middleware, no query of the view's own."""
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/base/", base_page),
    path("bench/async/base/", async_views.base_page),
    path("bench/async/lessons/<slug:slug>/<slug:mode>/", async_views.topic_mode),
    path("", include("config.urls")),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
