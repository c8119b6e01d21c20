"""An instructor watches a learner join, answer and run code, live, in two real browser contexts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_lessons_flow import log_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_instructor_sees_a_new_learners_answer_and_run_without_reload(page, browser, daphne_server):
    make_user("prof", instructor=True)
    make_user("student")
    log_in(page, daphne_server.url, "prof")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_label("Name").fill("Tuesday group")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", name="Tuesday group", level=1)).to_be_visible()
    join_url = page.get_by_test_id("join-url").input_value()
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")

    learner_context = browser.new_context()
    learner = learner_context.new_page()
    learner.set_default_timeout(10_000)
    log_in(learner, daphne_server.url, "student")
    learner.goto(join_url)
    learner.get_by_role("button", name="Join Tuesday group").click()
    expect(learner.get_by_text("You joined “Tuesday group”.")).to_be_visible()

    learner.goto(daphne_server.url + "/quizzes/groups/")
    learner.get_by_role("button", name="Start the quiz").click()
    learner.locator("#question-1 input[name=choice]").first.check()
    learner.get_by_role("button", name="Check answer").click()
    expect(learner.locator("#question-1 .result")).to_be_visible()
    expect(page.get_by_test_id("activity")).to_contain_text(re.compile(r"student answered groups-"))

    learner.goto(daphne_server.url + "/playground/")
    expect(learner.locator("#playground")).to_have_attribute("data-connected", "true")
    learner.get_by_role("button", name="Run", exact=True).click()
    expect(learner.locator("#run-status")).to_have_text("running")
    expect(page.get_by_test_id("playing-now")).to_contain_text("student (echo)")
    expect(page.get_by_test_id("activity")).to_contain_text("student started a playground run")
    learner.get_by_role("button", name="Stop").click()
    expect(page.get_by_test_id("playing-now")).not_to_contain_text("student")
    learner_context.close()
