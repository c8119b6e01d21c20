"""JSON for predict.js: a trace's stops and score, one stop's question, and the graded answer with the real step."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from predictions import services
from predictions.services import PredictionError, Source


class PredictRequest(HttpRequest):
    """Anyone may predict; only a signed-in user's answers are recorded."""

    user: User | AnonymousUser


def refused(error: PredictionError) -> JsonResponse:
    return JsonResponse({"error": error.message}, status=error.status)


def stops_json(request: PredictRequest, source: Source) -> JsonResponse:
    score = services.score(request.user, source)
    return JsonResponse(
        {
            "stops": [stop.step for stop in source.stops],
            "every_step": source.every_step,
            "recording": request.user.is_authenticated,
            "score": score.as_json() if score else None,
        }
    )


def step_json(request: PredictRequest, source: Source, step: int) -> JsonResponse:
    """GET: the question (never its answer). POST: the answer graded, the real step, and the score."""
    if request.method == "GET":
        return JsonResponse(source.question(step).public())
    services.check_rate(request)
    outcome = services.predict(request.user, source, step, request.POST.get("answer", ""))
    score = services.score(request.user, source)
    first = outcome.first
    return JsonResponse(
        {
            "correct": outcome.correct,
            "expected": outcome.expected,
            "step": outcome.step,
            "recorded": outcome.recorded,
            "first": {"answer": first.answer, "correct": first.correct} if first else None,
            "score": score.as_json() if score else None,
        }
    )


@require_GET
def topic_stops(request: PredictRequest, slug: str) -> JsonResponse:
    try:
        return stops_json(request, services.topic_source(slug))
    except PredictionError as error:
        return refused(error)


@require_http_methods(["GET", "POST"])
def topic_step(request: PredictRequest, slug: str, step: int) -> JsonResponse:
    try:
        return step_json(request, services.topic_source(slug), step)
    except PredictionError as error:
        return refused(error)


def share_token(request: PredictRequest) -> str:
    return request.POST.get("share", "") if request.method == "POST" else request.GET.get("share", "")


@require_GET
def run_stops(request: PredictRequest, pk: int) -> JsonResponse:
    try:
        return stops_json(request, services.run_source(request.user, pk, share_token(request)))
    except PredictionError as error:
        return refused(error)


@require_http_methods(["GET", "POST"])
def run_step(request: PredictRequest, pk: int, step: int) -> JsonResponse:
    try:
        return step_json(request, services.run_source(request.user, pk, share_token(request)), step)
    except PredictionError as error:
        return refused(error)
