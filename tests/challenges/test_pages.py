"""The challenge pages over HTTP: the list with statuses, the brief for anyone, Run tests for a signed-in learner only
(CSRF, limits with when to retry, code size), results with frame diffs, hints one at a time, and the step-through of a
failed test for its learner and their instructors only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from challenges.loader import get_challenges
from challenges.models import GradingRun, HintsTaken, Submission
from challenges.presenters import brief_body
from challenges.runs import first_wrong_row
from playground.run.limits import run_limits
from tests.factories import make_cohort, make_user

SLUG = "shout-echo"
FRAGMENT = {"HTTP_X_CHALLENGE_FRAGMENT": "1"}


def graded(user, slug: str = SLUG, *, passed: bool, seconds: float = 1.5, results=None, ago: float = 0, code="x = 1"):
    """A finished grading as the service records it."""
    started = timezone.now() - timedelta(seconds=ago)
    return Submission.objects.create(
        learner=user,
        challenge=slug,
        code=code,
        content_hash=get_challenges().get(slug).content_hash,
        started_at=started,
        finished_at=started,
        passed=passed,
        passed_tests=1 if passed else 0,
        total_tests=1,
        seconds=seconds,
        results=results or [],
    )


FAILED_RESULTS = [
    {"test": "accepts the connection", "hidden": False, "passed": True, "reason": "passed", "expected": None,
     "got": None, "seconds": 0.4, "first_wrong": None},
    {"test": "shouts a word back", "hidden": False, "passed": False, "reason": "step 4 (line 14): ann got a send that "
     "does not match", "expected": {"client": "ann", "kind": "send", "text": "HELLO"},
     "got": {"client": "ann", "kind": "send", "text": "<b>hello</b>"}, "seconds": 0.8, "first_wrong": 6},
    {"test": "upper-cases beyond ASCII", "hidden": True, "passed": False, "reason": "step 4: ann got a send that does "
     "not match", "seconds": 0.7, "first_wrong": 6},
]  # fmt: skip


@pytest.mark.django_db
def test_the_list_shows_each_challenge_under_its_topic_with_the_learners_status(client):
    user = make_user()
    graded(user, "shout-echo", passed=False, ago=30)
    graded(user, "shout-echo", passed=True, seconds=2.25, ago=20)
    graded(user, "shout-echo", passed=True, seconds=1.75, ago=10)
    graded(user, "json-calculator", passed=False)
    HintsTaken.objects.create(learner=user, challenge="json-calculator", count=2)
    client.force_login(user)
    page = client.get("/challenges/").content.decode()
    challenges = get_challenges().challenges
    assert all(f'data-challenge="{c.slug}"' in page for c in challenges)
    card = re.search(r'data-challenge="shout-echo".*?</li>', page, re.S)[0]
    assert 'data-state="passed"' in card and "3 attempts" in card and "best time 1.8 s" in card
    card = re.search(r'data-challenge="json-calculator".*?</li>', page, re.S)[0]
    assert 'data-state="failing"' in card and "1 attempt" in card and "2 hints" in card
    card = re.search(r'data-challenge="chat-rooms".*?</li>', page, re.S)[0]
    assert 'data-state="not-tried"' in card
    hard = client.get("/challenges/?difficulty=hard").content.decode()
    assert all((f'data-challenge="{c.slug}"' in hard) == (c.difficulty == "hard") for c in challenges)


@pytest.mark.django_db
def test_a_visitor_reads_the_brief_and_examples_but_must_sign_in_to_run_tests(client):
    challenge = get_challenges().get(SLUG)
    page = client.get(f"/challenges/{SLUG}/").content.decode()
    assert challenge.title in page and 'data-testid="login-to-run"' in page and "Run tests</button>" not in page
    assert page.count("<h1") == 1  # the brief's own title is the page's heading
    assert "shouts a word back" in page  # a visible example's name and steps
    assert "keeps the order of several messages" not in page  # a hidden test's name is not shown before grading
    assert "TWO WORDS" not in page  # nor anything of its script
    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": challenge.solution})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": challenge.solution}, **FRAGMENT)
    assert response.status_code == 401
    assert client.post(f"/challenges/{SLUG}/hint/").status_code == 302
    assert not Submission.objects.exists() and not HintsTaken.objects.exists()
    assert client.get("/challenges/no-such-thing/").status_code == 404


@pytest.mark.django_db
def test_run_tests_and_hints_need_the_csrf_token():
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(f"/challenges/{SLUG}/run-tests/", {"code": "x = 1"}).status_code == 403
    assert client.post(f"/challenges/{SLUG}/hint/").status_code == 403
    assert not Submission.objects.exists() and not HintsTaken.objects.exists()


@pytest.mark.django_db
def test_the_page_restores_the_last_code_and_shows_results_with_frame_diffs(client):
    user = make_user()
    graded(user, passed=False, ago=60, code="# older")
    latest = graded(user, passed=False, results=FAILED_RESULTS, code="print('<latest>')")
    run = GradingRun.objects.create(submission=latest, position=1, events=[], first_wrong_step=None)
    client.force_login(user)
    page = client.get(f"/challenges/{SLUG}/").content.decode()
    assert "print(&#x27;&lt;latest&gt;&#x27;)" in page and "# older" not in page
    rows = re.findall(r'<tr class="test-(passed|failed)" data-test="([^"]+)"', page)
    assert rows == [("passed", "accepts the connection"), ("failed", "shouts a word back"),
                    ("failed", "upper-cases beyond ASCII")]  # fmt: skip
    failed = re.search(r'data-test="shouts a word back".*?</tr>', page, re.S)[0]
    assert "<mark>HELLO</mark>" in failed and "<mark>&lt;b&gt;hello&lt;/b&gt;</mark>" in failed  # escaped, marked
    assert f'href="/challenges/runs/{run.pk}/"' in failed
    hidden = re.search(r'data-test="upper-cases beyond ASCII".*?</tr>', page, re.S)[0]
    assert "diff-expected" not in hidden and "step-through" not in hidden  # no frames, and no run was kept


@pytest.mark.django_db
def test_hints_open_one_at_a_time_are_recorded_and_stop_at_the_last(client):
    user = make_user()
    challenge = get_challenges().get(SLUG)
    client.force_login(user)
    assert 'data-testid="hints"' not in client.get(f"/challenges/{SLUG}/").content.decode()
    for number in range(1, len(challenge.hints) + 2):
        response = client.post(f"/challenges/{SLUG}/hint/")
        assert response.status_code == 302 and response["Location"].endswith("#hints")
        opened = min(number, len(challenge.hints))
        assert HintsTaken.objects.get(learner=user, challenge=SLUG).count == opened
        page = client.get(f"/challenges/{SLUG}/").content.decode()
        assert page.count("<li>", page.index('data-testid="hints"')) >= opened
    assert "Every hint is open." in page
    assert challenge.hints[-1] in page


@pytest.mark.django_db
def test_a_failed_tests_run_opens_for_its_learner_and_their_instructor_only(client):
    learner, stranger = make_user(), make_user()
    instructor = make_user(instructor=True)
    make_cohort(instructor, learners=[learner])
    other_instructor = make_user(instructor=True)
    make_cohort(other_instructor, learners=[stranger])
    submission = graded(learner, passed=False, results=FAILED_RESULTS, code="<script>alert(1)</script>")
    events = [{"step": n, "client": "ann", "kind": "send", "action": f"row {n}"} for n in range(1, 6)]
    run = GradingRun.objects.create(submission=submission, position=2, events=events, first_wrong_step=3)
    url = f"/challenges/runs/{run.pk}/"
    assert client.get(url).status_code == 302  # a visitor signs in first
    for user, status in ((learner, 200), (instructor, 200), (stranger, 404), (other_instructor, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
    client.force_login(learner)
    page = client.get(url).content.decode()
    assert 'data-step="3"' in page and "opens at step 4 of 5" in page
    assert "upper-cases beyond ASCII" in page and "script stays hidden" in page
    assert "<script>alert(1)</script>" not in page  # the code travels as escaped JSON
    assert client.get("/challenges/runs/999999/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_over_the_per_minute_limit_the_refusal_says_when_to_retry(client, settings):
    settings.CHALLENGE_GRADES_PER_MINUTE = 2
    user = make_user()
    graded(user, passed=False, ago=45)  # leaves the minute in about 15 s
    graded(user, passed=False, ago=5)
    client.force_login(user)
    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": "x = 1"}, **FRAGMENT)
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 13 <= wait <= 16
    assert f"At most 2 gradings a minute: try again in {wait} s." in response.content.decode()
    page = client.post(f"/challenges/{SLUG}/run-tests/", {"code": "x = 1"})  # without JavaScript: the whole page
    assert page.status_code == 429 and "try again in" in page.content.decode() and "Run tests" in page.content.decode()
    assert Submission.objects.filter(learner=user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_code_over_the_sandboxs_size_limit_or_empty_is_refused_before_anything_is_recorded(client):
    user = make_user()
    client.force_login(user)
    most = run_limits().max_code_bytes
    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": "#" * (most + 1)}, **FRAGMENT)
    assert response.status_code == 409 and f"at most {most:,} bytes" in response.content.decode()
    response = client.post(f"/challenges/{SLUG}/run-tests/", {"code": "   \n"}, **FRAGMENT)
    assert response.status_code == 409 and "no code to test" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_step_through_opens_at_the_wrong_frames_row_or_the_last_row_before_a_missing_one():
    def trace(step, kind, client="ann"):
        return {"type": "trace", "step": step, "kind": kind, "client": client}

    events = [
        {"type": "loaded"},
        trace(1, "connect"),
        {"type": "consumer.accept", "client": "ann"},  # an accept's row comes after its frame
        trace(2, "accept"),
        trace(3, "receive"),
        trace(4, "send"),  # a send's row comes before its frame
        trace(5, "send"),
        {"type": "consumer.send", "client": "ann", "text": "first"},
        {"type": "consumer.send", "client": "ann", "text": "second"},
        {"type": "exit", "reason": "stopped"},
    ]
    assert first_wrong_row(events, 2) == 1  # the accept row
    assert first_wrong_row(events, 7) == 3  # the first send frame: the first send row
    assert first_wrong_row(events, 8) == 4  # the second send frame: the second send row, not the nearest
    assert first_wrong_row(events, 9) == 4  # nothing came: the last row before the test gave up
    assert first_wrong_row(events, None) is None
    assert first_wrong_row([{"type": "loaded"}, {"type": "exit"}], 1) is None  # nothing traced


def test_the_brief_drops_its_title_and_sits_under_the_pages_heading():
    html = '<h1 id="t">Title</h1>\n<p>a</p><h2 id="s">Part</h2><h3>Sub</h3></h3>'
    assert brief_body(html) == '<p>a</p><h3 id="s">Part</h3><h4>Sub</h4></h4>'
