"""Every page template of the site, filled with data, opened as the visitor, learner or instructor who would see it.

`walk_every_page` seeds a demo cohort (dashboards/demo.py), quiz attempts in each state and a recorded run, then opens
each page in a real browser and hands it to a check; the width and accessibility tests share it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from django.contrib.auth.tokens import default_token_generator
from django.db import connections
from django.template import loader
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from challenges.loader import get_challenges
from challenges.models import GradingRun, Submission
from challenges.services import reveal_hint
from dashboards.demo import make_demo_cohort
from dashboards.services import create_cohort
from lessons.catalogue import get_catalogue
from playground.models import Run
from quizzes import services
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import BROWSER_WAIT_MS
from tests.factories import correct_keys, make_attempt, make_user, wrong_key

WALKED_TOPIC = "groups"  # offers all ten learning modes, a recorded trace and a starter
Check = Callable[[Page, str], None]
T = TypeVar("T")


@dataclass
class Seeded:
    """The rows the walked pages show."""

    learner: object
    instructor: object
    cohort: object
    other_cohort: object
    practice: object
    test: object
    finished: object
    run: Run
    stats_topic: str
    grading_run: GradingRun


WALKED_CHALLENGE = "shout-echo"


def seed_challenge(learner) -> GradingRun:
    """A graded challenge with a passed, a failed visible and a failed hidden test, and the failed runs' traces."""
    challenge = get_challenges().get(WALKED_CHALLENGE)
    now = timezone.now()
    results = [
        {"test": challenge.tests[0].name, "hidden": False, "passed": True, "reason": "passed", "expected": None,
         "got": None, "seconds": 0.41, "first_wrong": None},
        {"test": challenge.tests[1].name, "hidden": False, "passed": False,
         "reason": "step 4 (line 14): ann got a send that does not match",
         "expected": {"client": "ann", "kind": "send", "text": "HELLO"},
         "got": {"client": "ann", "kind": "send", "text": "hello"}, "seconds": 0.83, "first_wrong": 6},
        {"test": challenge.hidden_tests[0].name, "hidden": True, "passed": False,
         "reason": "step 6: expected send for ann, got nothing within 2 s", "seconds": 2.4, "first_wrong": 9},
    ]  # fmt: skip
    submission = Submission.objects.create(
        learner=learner, challenge=challenge.slug, code=challenge.known_wrong[0].code,
        content_hash=challenge.content_hash, started_at=now, finished_at=now, passed=False, passed_tests=1,
        total_tests=len(results), seconds=3.64, results=results,
    )  # fmt: skip
    events = list(get_catalogue().get(WALKED_TOPIC).trace.events)
    GradingRun.objects.create(submission=submission, position=2, events=events, first_wrong_step=len(events) // 2)
    reveal_hint(learner, challenge)
    return GradingRun.objects.create(submission=submission, position=1, events=events, first_wrong_step=3)


def seed() -> Seeded:
    """A cohort with activity, a learner with a practice, a test and a finished attempt, and a recorded run."""
    instructor = make_user("teacher", instructor=True)
    learner = make_user("learner", email="learner@example.org")
    make_user("forgetful")  # signs in wrongly until locked out
    cohort = make_demo_cohort(instructor, learner)
    other_cohort = create_cohort(make_user(instructor=True), "Autumn cohort")
    practice = make_attempt(learner, "consumer-lifecycle", "practice")
    first = practice.question_ids[0]
    services.submit_answer(practice, first, [wrong_key(first)])
    test = make_attempt(learner, "routing", "test")
    services.submit_answer(test, test.question_ids[0], correct_keys(test.question_ids[0]))
    finished = make_attempt(learner, WALKED_TOPIC, "test")
    for position, question_id in enumerate(finished.question_ids):
        keys = correct_keys(question_id) if position % 3 else [wrong_key(question_id)]
        services.submit_answer(finished, question_id, keys)
    services.finish_attempt(finished)
    topic = get_catalogue().get(WALKED_TOPIC)
    now = timezone.now()
    run = Run.objects.create(
        learner=learner,
        starter=topic.starter,
        code="# the chat room starter\n",
        started_at=now,
        ended_at=now,
        end_reason=Run.EndReason.STOPPED,
        events=list(topic.trace.events),
        event_count=len(topic.trace.events),
    )
    stats_topic = get_catalogue().topics[0].slug  # every demo learner has activity in the first topics
    grading_run = seed_challenge(learner)
    return Seeded(learner, instructor, cohort, other_cohort, practice, test, finished, run, stats_topic, grading_run)


def in_own_thread(work: Callable[[], T]) -> T:
    try:
        return work()
    finally:
        connections.close_all()


def anonymous_pages(data: Seeded) -> list[tuple[str, str]]:
    topic = get_catalogue().get(WALKED_TOPIC)
    user = data.learner
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return [
        ("home", "/"),
        ("outline", "/lessons/"),
        ("search", "/lessons/search/?q=group_send"),
        ("search-page-2", "/lessons/search/?q=consumer&page=2"),
        *[(f"topic-{mode}", f"/lessons/{WALKED_TOPIC}/{mode}/") for mode in topic.modes],
        ("playground", "/playground/"),
        ("playground-chat-room", f"/playground/{topic.starter}/"),
        ("quiz-start", f"/quizzes/{WALKED_TOPIC}/"),
        ("replay-shared", f"/playground/runs/{data.run.pk}/?share={data.run.share_token}"),
        ("challenges", "/challenges/"),
        ("challenges-hard", "/challenges/?difficulty=hard"),
        ("challenge", f"/challenges/{WALKED_CHALLENGE}/"),
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
        ("password-reset", "/accounts/password/reset/"),
        ("password-reset-done", "/accounts/password/reset/done/"),
        ("password-reset-confirm", f"/accounts/password/reset/{uid}/{token}/"),
        ("password-reset-bad-link", f"/accounts/password/reset/{uid}/wrong-token/"),
        ("password-reset-complete", "/accounts/password/reset/complete/"),
        ("not-found", "/no/such/page/"),
    ]


def learner_pages(data: Seeded) -> list[tuple[str, str]]:
    return [
        ("home-continue", "/"),
        ("outline-progress", "/lessons/"),
        ("quiz-start-resume", "/quizzes/consumer-lifecycle/"),
        ("quiz-practice", f"/quizzes/attempt/{data.practice.pk}/?q=1"),
        ("quiz-test", f"/quizzes/attempt/{data.test.pk}/"),
        ("quiz-review", f"/quizzes/attempt/{data.finished.pk}/review/"),
        ("replay-own", f"/playground/runs/{data.run.pk}/"),
        ("my-runs", "/playground/runs/"),
        ("challenges-status", "/challenges/"),
        ("challenge-results", f"/challenges/{WALKED_CHALLENGE}/"),
        ("challenge-run", f"/challenges/runs/{data.grading_run.pk}/"),
        ("my-cohorts", "/dashboard/my-cohorts/"),
        ("join", f"/dashboard/join/{data.other_cohort.join_code}/"),
        ("password-change", "/accounts/password/change/"),
        ("password-change-done", "/accounts/password/change/done/"),
        ("forbidden", "/dashboard/"),
    ]


def instructor_pages(data: Seeded) -> list[tuple[str, str]]:
    cohort = data.cohort.pk
    return [
        ("dashboard", "/dashboard/"),
        ("cohort", f"/dashboard/cohorts/{cohort}/"),
        ("cohort-learner", f"/dashboard/cohorts/{cohort}/learners/{data.learner.pk}/"),
        ("question-statistics", f"/dashboard/cohorts/{cohort}/questions/{data.stats_topic}/"),
        ("replay-instructor", f"/playground/runs/{data.run.pk}/"),
        ("cohort-challenges", f"/dashboard/cohorts/{cohort}/challenges/"),
        ("challenge-run-instructor", f"/challenges/runs/{data.grading_run.pk}/"),
    ]


def open_and_check(page: Page, base_url: str, pages: list[tuple[str, str]], check: Check) -> None:
    for name, path in pages:
        page.goto(base_url + path)
        check(page, name)


def open_quiz_error(page: Page, base_url: str, check: Check) -> None:
    """quizzes/error.html: a start form whose mode the server does not know."""
    page.goto(f"{base_url}/quizzes/{WALKED_TOPIC}/")
    page.locator("#mode-practice").evaluate("input => { input.value = 'no-such-mode'; }")
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.locator("main")).to_contain_text("mode")
    check(page, "quiz-error")


def locked_out_page() -> tuple[str, int]:
    """registration/locked_out.html as the app answers a locked user name (the test server allows 1000 failures)."""
    with override_settings(AXES_FAILURE_LIMIT=1):
        client = Client()
        for _ in range(2):
            response = client.post("/accounts/login/", {"username": "forgetful", "password": "not-the-password"})
    html = response.content.decode()
    assert "Sign-in is locked for a while" in html
    return html, response.status_code


def open_rendered(page: Page, base_url: str, name: str, html: str, status: int, check: Check) -> None:
    """A page the test server cannot be made to answer, as the app renders it, served at a path of the site."""
    url = f"{base_url}/rendered/{name}/"
    page.route(url, lambda route: route.fulfill(status=status, body=html, content_type="text/html; charset=utf-8"))
    page.goto(url)
    check(page, name)


READERS = ("visitor", "learner", "instructor")


def walk_every_page(
    browser, base_url: str, reader: str, check: Check, init_script: Path | None = None, **context_options
) -> list[str]:
    """Open every page template `reader` sees and run `check` on each; returns the names of the pages checked.
    `init_script` runs in every page before the page's own scripts (Playwright injects it outside the page's CSP)."""
    with ThreadPoolExecutor(1) as pool:  # Playwright runs an event loop in this thread; the ORM's signals need none
        data = pool.submit(in_own_thread, seed).result()
        locked_out = pool.submit(in_own_thread, locked_out_page).result() if reader == "visitor" else None
    checked: list[str] = []

    def counted(page: Page, name: str) -> None:
        checked.append(name)
        check(page, name)

    context = browser.new_context(**context_options)
    if init_script is not None:
        context.add_init_script(path=str(init_script))
    page = context.new_page()
    page.set_default_timeout(BROWSER_WAIT_MS)
    if reader == "visitor":
        open_and_check(page, base_url, anonymous_pages(data), counted)
        open_rendered(page, base_url, "server-error", loader.get_template("errors/500.html").render(), 500, counted)
        open_rendered(page, base_url, "locked-out", *locked_out, counted)
    elif reader == "learner":
        log_in(page, base_url, data.learner.username)
        open_and_check(page, base_url, learner_pages(data), counted)
        open_quiz_error(page, base_url, counted)
    else:
        log_in(page, base_url, data.instructor.username)
        open_and_check(page, base_url, instructor_pages(data), counted)
    context.close()
    return checked
