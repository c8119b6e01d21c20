"""Quiz pages: start or resume, answer (htmx or plain POST), hints, submit and review."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.requests import HtmxHttpRequest
from lessons.views import get_topic_or_404
from quizzes import services
from quizzes.models import Attempt
from quizzes.presenters import present_attempt, present_question, present_review

CONFIRM_UNANSWERED = "submit-with-unanswered"  # the confirm step's button value


def quiz_error(request: HtmxHttpRequest, error: services.QuizError, attempt: Attempt | None = None) -> HttpResponse:
    """A clear message with the error's status, as a fragment for htmx or a page otherwise."""
    template = "quizzes/_error.html" if request.htmx else "quizzes/error.html"
    response = render(request, template, {"message": error.message, "attempt": attempt}, status=error.status)
    if request.htmx:
        response["HX-Retarget"] = "#quiz-messages"
        response["HX-Reswap"] = "innerHTML"
    return response


def start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """GET shows the quiz and any attempt to resume; POST starts a new attempt in the chosen mode."""
    topic = get_topic_or_404(slug)
    if topic.quiz is None:
        return render(request, "quizzes/error.html", {"message": "This topic has no quiz."}, status=404)
    if request.method == "POST":
        try:
            attempt = services.start_attempt(request, topic, request.POST.get("mode", ""))
        except services.QuizError as error:
            return quiz_error(request, error)
        return redirect("quizzes:attempt", pk=attempt.pk)
    context = {
        "topic": topic,
        "resume": services.unfinished_attempt(request, topic),
        "scores": services.scores_by_topic(request).get(topic.slug),
        "modes": Attempt.Mode.choices,
    }
    return render(request, "quizzes/start.html", context)


def attempt_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Practice shows one question (?q=N, default the first unanswered); test shows them all."""
    attempt = services.get_attempt_or_404(request, pk)
    if attempt.is_finished:
        return redirect("quizzes:review", pk=attempt.pk)
    context = present_attempt(attempt, request.GET.get("q"))
    return render(request, "quizzes/attempt.html", context)


def _after_change(request: HtmxHttpRequest, attempt: Attempt, question_id: str) -> HttpResponse:
    if request.htmx:
        return render(request, "quizzes/_question.html", present_question(attempt, question_id))
    position = attempt.question_ids.index(question_id) + 1
    if attempt.mode == Attempt.Mode.PRACTICE:
        return redirect(f"{reverse('quizzes:attempt', args=[attempt.pk])}?q={position}")
    return redirect(f"{reverse('quizzes:attempt', args=[attempt.pk])}#question-{position}")


@require_POST
def answer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save and grade one answer the moment it is given; any client-sent score or correctness is ignored."""
    attempt = services.get_attempt_or_404(request, pk)
    question_id = request.POST.get("question", "")
    try:
        services.submit_answer(attempt, question_id, request.POST.getlist("choice"))
    except services.QuizError as error:
        return quiz_error(request, error, attempt)
    return _after_change(request, attempt, question_id)


@require_POST
def hint(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Reveal the next hint of one question."""
    attempt = services.get_attempt_or_404(request, pk)
    question_id = request.POST.get("question", "")
    try:
        services.reveal_hint(attempt, question_id)
    except services.QuizError as error:
        return quiz_error(request, error, attempt)
    return _after_change(request, attempt, question_id)


@require_POST
def finish(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Grade and close the attempt (repeating it changes nothing), then show the review.

    With questions unanswered, the first POST answers with a confirm step (a form, so it works without JS).
    """
    attempt = services.get_attempt_or_404(request, pk)
    try:
        services.finish_attempt(
            attempt, request=request, unanswered_confirmed=request.POST.get("confirm") == CONFIRM_UNANSWERED
        )
    except services.UnansweredQuestions as pending:
        context = {
            "attempt": attempt,
            "topic": get_topic_or_404(attempt.topic),
            "pending": pending,
            "confirm_value": CONFIRM_UNANSWERED,
        }
        return render(request, "quizzes/confirm_finish.html", context)
    return redirect("quizzes:review", pk=attempt.pk)


def review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Per question: the learner's answer, the correct one, feedback, solution, mistakes, hints and time."""
    attempt = services.get_attempt_or_404(request, pk)
    if not attempt.is_finished:
        return redirect("quizzes:attempt", pk=attempt.pk)
    return render(request, "quizzes/review.html", present_review(attempt))
