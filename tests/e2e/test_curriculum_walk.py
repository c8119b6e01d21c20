"""One topic walked through every learning mode and its quiz, as a learner would, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from lessons.catalogue import get_catalogue
from quizzes.models import Attempt
from tests.e2e.test_lessons_flow import log_in
from tests.factories import correct_keys, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TOPIC = "groups"


def test_walk_every_mode_of_a_topic_then_pass_its_quiz(page, daphne_server):
    topic = get_catalogue().get(TOPIC)
    make_user("walker")
    log_in(page, daphne_server.url, "walker")
    page.goto(f"{daphne_server.url}/lessons/{TOPIC}/")
    for mode in topic.modes.values():
        page.get_by_role("tab", name=mode.label, exact=True).click()
        expect(page.get_by_role("tabpanel")).to_have_attribute("data-mode", mode.key)
        if mode.headings:
            expect(
                page.get_by_role("tabpanel").get_by_role("heading", name=mode.headings[0].text).first
            ).to_be_visible()
    page.get_by_role("tab", name="Test this pattern").click()
    page.get_by_role("link", name="Start the quiz").click()
    page.get_by_label("Test: answer everything, then submit and review").check()
    page.get_by_role("button", name="Start the quiz").click()
    attempt = Attempt.objects.get()
    for position, question_id in enumerate(attempt.question_ids, start=1):
        for key in correct_keys(question_id):
            page.locator(f"#q{position}-{key}").check()
        expect(page.get_by_test_id(f"saved-{position}")).to_be_visible()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_test_id("score")).to_contain_text(f"{topic.quiz.size} of {topic.quiz.size} correct")
    page.goto(f"{daphne_server.url}/lessons/")
    row = page.locator(f'[data-topic="{TOPIC}"]')
    expect(row.get_by_test_id("completed")).to_be_visible()
    expect(row.get_by_test_id("modes-seen")).to_contain_text(f"{len(topic.modes)} of {len(topic.modes)} modes seen")
