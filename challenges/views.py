"""Challenge pages: the list with the learner's status, a challenge (brief, editor, Run tests, results, hints), and
a failed test's run in the step-through."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from challenges import services
from challenges.loader import get_challenges
from challenges.models import GradingRun
from challenges.presenters import brief_body, result_rows, step_text
from challenges.progress import statuses_of
from challenges.types import DIFFICULTIES, Challenge
from cohorts.access import instructs_learner
from lessons.catalogue import get_catalogue

FRAGMENT_HEADER = "X-Challenge-Fragment"  # challenges.js asks for the results alone


def get_challenge_or_404(slug: str) -> Challenge:
    challenge = get_challenges().get(slug)
    if challenge is None:
        raise Http404("No such challenge.")
    return challenge


def challenge_list(request: HttpRequest) -> HttpResponse:
    """Every challenge under its topic, easiest first, with the learner's status; ?difficulty= narrows the list."""
    difficulty = request.GET.get("difficulty", "")
    chosen = [c for c in get_challenges().challenges if difficulty not in DIFFICULTIES or c.difficulty == difficulty]
    mine = statuses_of(request.user)
    topics = []
    for topic in get_catalogue().topics:
        here = sorted(
            (c for c in chosen if c.topic == topic.slug), key=lambda c: (DIFFICULTIES.index(c.difficulty), c.number)
        )
        if here:
            topics.append((topic, [(challenge, mine.get(challenge.slug)) for challenge in here]))
    context = {"topics": topics, "difficulties": DIFFICULTIES, "difficulty": difficulty, "shown": len(chosen)}
    return render(request, "challenges/index.html", context)


def challenge_context(request: HttpRequest, challenge: Challenge) -> dict[str, Any]:
    latest = services.latest_submission(request.user, challenge.slug)
    opened = services.hints_taken(request.user, challenge.slug)
    return {
        "challenge": challenge,
        "brief_html": brief_body(challenge.brief_html),
        "topic": get_catalogue().get(challenge.topic),
        "code": latest.code if latest else challenge.starter,
        "submission": latest,
        "rows": result_rows(latest) if latest else [],
        "hints": challenge.hints[:opened],
        "hints_left": len(challenge.hints) - opened,
        "status": statuses_of(request.user).get(challenge.slug),
        "examples": [(test.name, [step_text(step) for step in test.steps]) for test in challenge.visible_tests],
        "hidden_count": len(challenge.hidden_tests),
    }


def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Anyone may read the brief and the examples; running the tests needs an account."""
    challenge = get_challenge_or_404(slug)
    return render(request, "challenges/detail.html", challenge_context(request, challenge))


def _results(request: HttpRequest, challenge: Challenge) -> HttpResponse:
    return render(request, "challenges/_results.html", challenge_context(request, challenge))


def _refused(request: HttpRequest, challenge: Challenge, refusal: services.GradingRefused) -> HttpResponse:
    context = {"message": refusal.message, "retry_after": refusal.retry_after}
    if request.headers.get(FRAGMENT_HEADER):
        response = render(request, "challenges/_refused.html", context, status=429 if refusal.retry_after else 409)
    else:
        page = {**challenge_context(request, challenge), "refusal": context}
        response = render(request, "challenges/detail.html", page, status=429 if refusal.retry_after else 409)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@require_POST
async def run_tests(request: HttpRequest, slug: str) -> HttpResponse:
    """Grade the posted code against every test (seconds of work, in this process's sandboxes); answers with the
    results fragment for challenges.js, or goes back to the page without JavaScript."""
    challenge = get_challenge_or_404(slug)
    user = await request.auser()
    if not user.is_authenticated:
        if request.headers.get(FRAGMENT_HEADER):
            return HttpResponse("Sign in to run the tests.", status=401, content_type="text/plain; charset=utf-8")
        return redirect_to_login(reverse("challenges:detail", args=[slug]))
    request.user = user  # the templates read it; the lazy one would query the database outside a thread
    try:
        await services.grade_submission(user, slug, request.POST.get("code", ""))
    except services.GradingRefused as refusal:
        return await sync_to_async(_refused)(request, challenge, refusal)
    if request.headers.get(FRAGMENT_HEADER):
        return await sync_to_async(_results)(request, challenge)
    return redirect(reverse("challenges:detail", args=[slug]) + "#results")


@require_POST
def hint(request: HttpRequest, slug: str) -> HttpResponse:
    """Open the next hint, recorded as used."""
    challenge = get_challenge_or_404(slug)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("challenges:detail", args=[slug]))
    services.reveal_hint(request.user, challenge)
    return redirect(reverse("challenges:detail", args=[slug]) + "#hints")


def grading_run(request: HttpRequest, pk: int) -> HttpResponse:
    """A failed test's run in the step-through, opened where it went wrong: for its learner and their instructors."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    run = GradingRun.objects.filter(pk=pk).select_related("submission__learner").first()
    if run is None:
        raise Http404("No such run: it may belong to an earlier grading, which is not kept.")
    submission = run.submission
    is_learner = submission.learner_id == request.user.pk
    if not is_learner and not instructs_learner(request.user, submission.learner_id):
        raise Http404("No such run.")
    challenge = get_challenges().get(submission.challenge)
    rows = result_rows(submission)
    if run.position >= len(rows):
        raise Http404("No such run.")
    context = {
        "run": run,
        "submission": submission,
        "challenge": challenge,
        "row": rows[run.position],
        "is_learner": is_learner,
        "start_at": run.first_wrong_step if run.first_wrong_step is not None else 0,
    }
    return render(request, "challenges/run.html", context)
