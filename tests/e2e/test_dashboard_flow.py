"""An instructor watches a learner join, answer and run code, live, in two real browser contexts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_lessons_flow import log_in, log_in_with_form
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_instructor_sees_a_new_learners_answer_and_run_without_reload(page, browser, daphne_server):
    make_user("prof", instructor=True)
    make_user("student")
    log_in_with_form(page, daphne_server.url, "prof")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_label("Name").fill("Tuesday group")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", name="Tuesday group", level=1)).to_be_visible()
    join_url = page.get_by_test_id("join-url").input_value()
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")

    learner_context = browser.new_context()
    learner = learner_context.new_page()
    learner.set_default_timeout(BROWSER_WAIT_MS)
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


def test_instructor_follows_a_learners_running_run_live_from_the_dashboard(page, browser, daphne_server, output_path):
    from tests.e2e.test_playground_flow import add_client, send_from
    from tests.factories import make_cohort

    instructor = make_user("coach", instructor=True)
    learner_user = make_user("runner")
    make_user("bystander")
    cohort = make_cohort(instructor, "Thursday group", learners=[learner_user])

    learner_context = browser.new_context()
    learner = learner_context.new_page()
    learner.set_default_timeout(BROWSER_WAIT_MS)
    log_in(learner, daphne_server.url, "runner")
    learner.goto(daphne_server.url + "/playground/")
    expect(learner.locator("#playground")).to_have_attribute("data-connected", "true")
    learner.get_by_role("button", name="Run", exact=True).click()
    expect(learner.locator("#run-status")).to_have_text("running")
    card = add_client(learner)
    send_from(card, "before the coach came")
    expect(card.locator("tr.log-received")).to_contain_text("before the coach came")

    log_in(page, daphne_server.url, "coach")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/learners/{learner_user.pk}/")
    page.get_by_role("link", name="watch live").click()
    state = page.get_by_test_id("watch-state")
    expect(state).to_have_attribute("data-state", "live")
    expect(state).to_have_attribute("aria-live", "polite")
    expect(state).to_contain_text("Live")
    expect(page.get_by_role("heading", level=1)).to_contain_text("live")
    rows = page.locator(".viz-table tbody tr")
    expect(rows).to_have_count(4)  # connect, accept, receive, send: the events so far
    expect(rows.nth(2)).to_contain_text("before the coach came")
    page.evaluate("window.sameDocument = true")

    send_from(card, "while the coach watches")
    expect(card.locator("tr.log-received").last).to_contain_text("while the coach watches")
    expect(rows).to_have_count(6)
    expect(rows.nth(4)).to_contain_text("while the coach watches")
    traffic = page.get_by_test_id("watch-log")
    expect(traffic).to_contain_text("sent to c1: while the coach watches")
    assert page.evaluate("window.sameDocument") is True

    shoot_both_widths(page, output_path, "live-replay")

    outsider_context = browser.new_context()
    outsider = outsider_context.new_page()
    log_in(outsider, daphne_server.url, "bystander")
    run_path = page.url.removeprefix(daphne_server.url)
    assert outsider.goto(daphne_server.url + run_path).status == 404
    watch_path = state.get_attribute("data-watch-path")
    opened = outsider.evaluate(
        """(url) => new Promise((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve(true);
            ws.onclose = () => resolve(false);
        })""",
        daphne_server.url.replace("http", "ws", 1) + watch_path,
    )
    assert opened is False
    outsider_context.close()

    own_replay = learner_context.new_page()  # the learner follows their own run the same way
    own_replay.goto(daphne_server.url + run_path)
    expect(own_replay.get_by_test_id("watch-state")).to_have_attribute("data-state", "live")
    expect(own_replay.locator(".viz-table tbody tr")).to_have_count(6)

    learner.get_by_role("button", name="Stop").click()
    expect(state).to_have_attribute("data-state", "ended")
    expect(state).to_contain_text("ended")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Replay of run \d+$"))
    expect(own_replay.get_by_test_id("watch-state")).to_have_attribute("data-state", "ended")
    page.screenshot(path=f"{output_path}/ended-replay-1366.png", full_page=True)
    page.get_by_test_id("visualizer").get_by_role("button", name="First").click()
    expect(page.locator(".viz-table tr.current")).to_have_attribute("data-kind", "connect")
    assert page.evaluate("window.sameDocument") is True
    learner_context.close()
