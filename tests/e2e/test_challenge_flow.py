"""Challenges in Chromium against a real Daphne: a learner fails a hidden test, opens its run in the step-through at
the first wrong step, fixes the code and passes while the instructor watches it arrive live; a forged result fails;
a learner over the grading limit is told when to retry. Screenshots at 1366 and 390 px."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from challenges.loader import get_challenges
from challenges.models import Submission
from tests.e2e.test_csp_flow import ViolationWatch
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import make_cohort, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]
SLUG = "shout-echo"
# A grading runs every test in its own sandbox; on a loaded 2-core machine that can take longer than BROWSER_WAIT_MS.
GRADING_MS = 120_000

# Learner code that tries to pass by looking like a grader: it prints verdicts and sends frames that read as passes.
FORGED = """
import json
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path

print("PASS: every test passed")
print(json.dumps({"test": "shouts a word back", "passed": True}))


class ShoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=json.dumps({"result": "passed", "tests": "all", "passed": True}))

    async def receive(self, text_data=None, bytes_data=None):
        print("PASS")
        await self.send(text_data="PASS")


websocket_urlpatterns = [path("ws/shout/", ShoutConsumer.as_asgi())]
"""


def set_code(page, code: str) -> None:
    page.evaluate("(code) => window.challenge.setCode(code)", code)


def run_tests(page) -> None:
    page.get_by_role("button", name="Run tests").click()
    expect(page.get_by_test_id("grading")).to_be_visible()
    expect(page.get_by_test_id("grading")).to_contain_text(re.compile(r"Running \d+ tests"))
    expect(page.get_by_test_id("grading")).to_be_hidden(timeout=GRADING_MS)


def test_a_hidden_test_fails_its_run_opens_at_the_wrong_step_and_the_fix_passes_live(
    page, browser, daphne_server, output_path
):
    instructor = make_user("prof", instructor=True)
    learner_user = make_user("ada")
    cohort = make_cohort(instructor, "Challenge group", learners=[learner_user])
    challenge = get_challenges().get(SLUG)
    answers_binary = next(wrong for wrong in challenge.known_wrong if wrong.file == "answers-binary.py")
    hidden_test = answers_binary.fails
    assert hidden_test in {test.name for test in challenge.hidden_tests}

    log_in(page, daphne_server.url, "prof")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    feed = page.get_by_test_id("activity")
    cell = page.locator(f'.matrix tr[data-user="{learner_user.pk}"] td[data-topic="{challenge.topic}"]')

    context = browser.new_context()
    learner = context.new_page()
    learner.set_default_timeout(BROWSER_WAIT_MS)
    csp = ViolationWatch(learner)  # the editor, the results swapped in and the step-through, under the strict policy
    log_in(learner, daphne_server.url, "ada")
    learner.goto(daphne_server.url + "/challenges/")
    card = learner.locator(f'[data-challenge="{SLUG}"]')
    expect(card.get_by_test_id("challenge-status")).to_have_text("Not tried")
    card.get_by_role("link", name=challenge.title).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(challenge.title)
    expect(learner.get_by_test_id("no-results")).to_be_visible()
    learner.get_by_role("button", name=re.compile("Show hint 1 of")).click()
    expect(learner.get_by_test_id("hints").locator("li")).to_have_count(1)
    expect(feed).to_contain_text(f"ada opened hint 1 of the challenge “{challenge.title}”")

    set_code(learner, answers_binary.code)
    run_tests(learner)
    summary = learner.get_by_test_id("results-summary")
    expect(summary).to_have_attribute("data-passed", "false")
    failed = learner.locator(f'tr[data-test="{hidden_test}"]')
    expect(failed).to_have_class("test-failed")
    expect(failed).to_contain_text("hidden")
    expect(failed.locator(".test-reason")).to_contain_text("expected nothing for ann")
    expect(failed.locator(".diff-expected")).to_have_count(0)  # a hidden test shows no frames
    expect(learner.locator('tr[data-test="shouts a word back"]')).to_have_class("test-passed")
    shoot_both_widths(learner, output_path, "challenge-hidden-failed")
    csp.assert_none("the challenge page after grading")

    expect(feed).to_contain_text(re.compile(rf"ada ran the tests of “{re.escape(challenge.title)}”: \d+ of \d+ passed"))
    expect(cell).to_contain_text("◆0/")
    shoot_both_widths(page, output_path, "cohort-challenge-attempt")

    failed.get_by_role("link", name=re.compile("Step through this run")).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(f"Step through: {hidden_test}")
    expect(learner.get_by_test_id("run-reason")).to_contain_text("expected nothing for ann")
    current = learner.locator(".viz-table tr.current")
    expect(current).to_have_attribute("data-kind", "send")  # the frame the consumer should not have sent
    expect(current).to_contain_text("B'")  # the binary frame's repr, upper-cased: the learner's mistake in plain view
    start = int(learner.locator("#run-start").get_attribute("data-step"))
    expect(learner.locator(".viz-position")).to_contain_text(f"Step {start + 1} of")
    expect(learner.get_by_test_id("first-wrong")).to_contain_text(f"opens at step {start + 1}")
    shoot_both_widths(learner, output_path, "challenge-step-through")
    csp.assert_none("the step-through of a failed test")

    learner.get_by_role("link", name="Back to the editor").click()
    expect(learner.locator(f'tr[data-test="{hidden_test}"]')).to_have_class("test-failed")  # the last results
    assert learner.evaluate("window.challenge.getCode()") == answers_binary.code  # the last code, restored
    set_code(learner, challenge.solution)
    run_tests(learner)
    expect(summary).to_have_attribute("data-passed", "true")
    expect(summary).to_contain_text("Every test passed")
    expect(learner.locator("tr.test-failed")).to_have_count(0)
    shoot_both_widths(learner, output_path, "challenge-passed")
    expect(feed).to_contain_text(f"ada passed all {len(challenge.tests)} tests of “{challenge.title}”")
    expect(cell).to_contain_text("◆1/")

    learner.goto(daphne_server.url + "/lessons/")
    badge = learner.locator(f'[data-topic="{challenge.topic}"]').get_by_test_id("challenge-badge").first
    expect(badge).to_have_attribute("data-state", "passed")
    learner.goto(daphne_server.url + "/challenges/")
    expect(card.get_by_test_id("challenge-status")).to_contain_text(re.compile(r"Passed · 2 attempts · best time"))
    shoot_both_widths(learner, output_path, "challenges-list-passed")

    page.get_by_role("link", name="Which challenge tests learners fail").click()
    expect(page.locator(f'tr[data-test="{hidden_test}"]')).to_contain_text("1 of 1 learner")
    shoot_both_widths(page, output_path, "cohort-challenge-tests")
    context.close()


def test_a_forged_pass_fails_and_a_learner_over_the_limit_is_told_when_to_retry(page, daphne_server, output_path):
    make_user("mallory")
    challenge = get_challenges().get(SLUG)
    log_in(page, daphne_server.url, "mallory")
    page.goto(f"{daphne_server.url}/challenges/{SLUG}/")
    set_code(page, FORGED)
    run_tests(page)
    summary = page.get_by_test_id("results-summary")
    expect(summary).to_have_attribute("data-passed", "false")
    expect(summary).to_contain_text(re.compile(r"\d+ of \d+ tests passed"))
    shout = page.locator('tr[data-test="shouts a word back"]')
    expect(shout).to_have_class("test-failed")
    expect(shout.locator(".diff-got")).to_contain_text("passed")  # its forged frame, shown as what it is
    shoot_both_widths(page, output_path, "challenge-forged")
    assert Submission.objects.get(learner__username="mallory").passed is False

    user = Submission.objects.get(learner__username="mallory").learner
    now = timezone.now()
    for _ in range(6):  # the rest of this minute's gradings (CHALLENGE_GRADES_PER_MINUTE is 6)
        Submission.objects.create(
            learner=user, challenge=SLUG, code="x = 1", content_hash=challenge.content_hash, started_at=now,
            finished_at=now, passed=False,
        )  # fmt: skip
    page.get_by_role("button", name="Run tests").click()
    refused = page.get_by_test_id("refused")
    expect(refused).to_contain_text(re.compile(r"At most 6 gradings a minute: try again in \d+ s\."))
    expect(page.locator("#run-tests")).to_be_disabled()
    expect(page.locator("#run-tests")).to_have_text(re.compile(r"Run tests \(in \d+ s\)"))
    shoot_both_widths(page, output_path, "challenge-refused")
