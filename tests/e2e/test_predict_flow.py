"""Predict mode in a real browser: on a lesson's execution page and on a run's replay a learner predicts, gets it
wrong and right, sees the real step, and the score is recorded; the instructor sees it live and in the drill-down.
Screenshots at 1366 and 390 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lessons.catalogue import get_catalogue
from playground.models import Run
from predictions.models import Prediction
from tests.e2e.test_every_page import AXE, axe_violations
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import make_cohort, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TOPIC = "consumer-lifecycle"  # stops (content/predictions/consumer-lifecycle-echo.yaml): 2 state, 3 handler, 4 frame, 5 code


def predict_panel(page):
    panel = page.get_by_test_id("predict")
    expect(panel).to_be_visible()
    return panel


def answer(panel, choice: str) -> None:
    panel.get_by_label(choice, exact=True).check()
    panel.get_by_role("button", name="Check my prediction").click()


def test_a_learner_predicts_on_a_lesson_trace_and_the_instructor_sees_it(browser, daphne_server, output_path):
    instructor, learner = make_user("prof", instructor=True), make_user("ana")
    cohort = make_cohort(instructor, "Evening group", learners=[learner])
    topic = get_catalogue().get(TOPIC)

    dashboard_context = browser.new_context()
    dashboard = dashboard_context.new_page()
    dashboard.set_default_timeout(BROWSER_WAIT_MS)
    log_in(dashboard, daphne_server.url, "prof")
    dashboard.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    expect(dashboard.locator("#live-state")).to_have_attribute("data-state", "live")

    learner_context = browser.new_context()
    learner_context.add_init_script(path=str(AXE))  # injected outside the page's CSP, as the page walk does
    page = learner_context.new_page()
    page.set_default_timeout(BROWSER_WAIT_MS)
    log_in(page, daphne_server.url, "ana")
    page.goto(f"{daphne_server.url}/lessons/{TOPIC}/execution/")
    viz = page.get_by_test_id("visualizer")
    panel = predict_panel(page)
    rows = viz.locator(".viz-table tbody tr")
    expect(rows).to_have_count(5)
    panel.get_by_test_id("predict-toggle").click()
    expect(panel.get_by_test_id("predict-toggle")).to_have_attribute("aria-pressed", "true")
    expect(panel.get_by_test_id("predict-status")).to_contain_text("stops before 4 steps")
    expect(viz.locator(".viz-table tbody tr:visible")).to_have_count(1)  # no row past the current step is shown

    viz.get_by_role("button", name="Forward").click()
    question = panel.get_by_test_id("predict-question")
    expect(question).to_be_visible()
    prompt = question.locator("legend")
    expect(prompt).to_have_text("Before step 2: What is c1's connection state after the next step?")
    expect(prompt).to_be_focused()
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 1 of 5"))
    viz.get_by_role("button", name="Last").click()  # jumping past a stop is held at it
    expect(viz.locator(".viz-position")).to_have_text(re.compile(r"^Step 1 of 5"))
    assert axe_violations(page) == []
    shoot_both_widths(page, output_path, "predict-lesson-asking")

    answer(panel, "Open")
    result = panel.get_by_test_id("predict-result")
    expect(result).to_contain_text("Not this time.")
    expect(result).to_contain_text("You said: Open. The trace says: Accepted.")
    expect(result).to_contain_text("Recorded in your progress.")
    expect(result).to_be_focused()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "accept")  # the real step
    expect(panel.get_by_test_id("predict-score")).to_have_text(
        "Your recorded predictions here: 0 right of 1 answered (4 stops)."
    )
    shoot_both_widths(page, output_path, "predict-lesson-wrong")

    panel.get_by_role("button", name="Continue stepping").click()
    expect(viz.get_by_role("button", name="Forward")).to_be_focused()
    page.keyboard.press("Enter")  # Forward, from the keyboard
    expect(prompt).to_have_text("Before step 3: Which handler does Channels call next?")
    answer(panel, "receive() of c1's consumer")
    expect(result).to_contain_text("Right.")
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "receive")

    viz.get_by_role("button", name="Forward").click()
    expect(prompt).to_contain_text("Before step 4: Which frame goes to which client next?")
    panel.get_by_role("button", name="Skip: show the step").click()
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "send")

    viz.get_by_role("button", name="Forward").click()
    expect(prompt).to_contain_text("Before step 5: Which close code")
    panel.get_by_label("Your answer").fill("1000")
    page.keyboard.press("Enter")
    expect(result).to_contain_text("Right.")
    expect(panel.get_by_test_id("predict-score")).to_have_text(
        "Your recorded predictions here: 2 right of 3 answered (4 stops)."
    )
    shoot_both_widths(page, output_path, "predict-lesson-right")
    rows_stored = Prediction.objects.filter(user=learner).order_by("step").values_list("step", "correct")
    assert list(rows_stored) == [(2, False), (3, True), (5, True)]

    feed = dashboard.get_by_test_id("activity")
    expect(feed).to_contain_text(f"ana predicted step 2 of {topic.number}. {topic.title} (wrong)")
    expect(feed).to_contain_text(f"ana predicted step 5 of {topic.number}. {topic.title} (right)")
    dashboard.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/learners/{learner.pk}/")
    expect(dashboard.get_by_test_id("predictions").locator("tbody tr").first).to_contain_text(topic.title)
    expect(dashboard.get_by_test_id("predictions").locator("tbody tr td").nth(1)).to_have_text("3")
    expect(dashboard.get_by_test_id("predictions").locator("tbody tr td").nth(2)).to_have_text("2")
    shoot_both_widths(dashboard, output_path, "predict-drill-down")
    dashboard_context.close()

    page.goto(f"{daphne_server.url}/lessons/")
    expect(page.locator(f'[data-topic="{TOPIC}"] [data-testid="prediction-score"]')).to_have_text(
        "Predictions 2 of 4 right"
    )
    learner_context.close()


def ended_echo_run(learner) -> Run:
    code = (Path(__file__).resolve().parents[2] / "content" / "starters" / "echo.py").read_text()
    now = timezone.now()
    events = list(get_catalogue().get(TOPIC).trace.events)
    return Run.objects.create(
        learner=learner,
        starter="echo",
        code=code,
        started_at=now,
        ended_at=now,
        end_reason="stopped",
        events=events,
        event_count=len(events),
    )


def test_a_learner_predicts_every_step_of_their_own_runs_replay(page, browser, daphne_server, output_path):
    learner = make_user("ana")
    run = ended_echo_run(learner)
    log_in(page, daphne_server.url, "ana")
    page.goto(f"{daphne_server.url}/playground/runs/{run.pk}/")
    viz = page.get_by_test_id("visualizer")
    panel = predict_panel(page)
    expect(panel).to_contain_text("It stops before every step after the first")
    panel.get_by_test_id("predict-toggle").click()
    expect(panel.get_by_test_id("predict-status")).to_contain_text("stops before every step")
    viz.get_by_role("button", name="Forward").click()
    prompt = panel.locator("legend")
    expect(prompt).to_have_text("Before step 2: What happens next?")
    shoot_both_widths(page, output_path, "predict-replay-asking")
    answer(panel, "accept()")
    result = panel.get_by_test_id("predict-result")
    expect(result).to_contain_text("Right.")
    expect(viz.locator(".viz-table tr.current")).to_have_attribute("data-kind", "accept")

    viz.get_by_role("button", name="Forward").click()
    expect(prompt).to_have_text("Before step 3: Which handler does Channels call next?")
    answer(panel, "disconnect() of c1's consumer")
    expect(result).to_contain_text("Not this time.")
    expect(result).to_contain_text("The trace says: receive() of c1's consumer.")
    expect(panel.get_by_test_id("predict-score")).to_have_text(
        "Your recorded predictions here: 1 right of 2 answered (4 steps)."
    )
    shoot_both_widths(page, output_path, "predict-replay-answered")
    assert list(Prediction.objects.filter(run=run).order_by("step").values_list("step", "correct")) == [
        (2, True),
        (3, False),
    ]

    # A visitor with the share link may try too, and is told the answers are not recorded.
    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.set_default_timeout(BROWSER_WAIT_MS)
    visitor.goto(f"{daphne_server.url}/playground/runs/{run.pk}/?share={run.share_token}")
    panel = predict_panel(visitor)
    panel.get_by_test_id("predict-toggle").click()
    expect(panel.get_by_test_id("predict-note")).to_be_visible()
    expect(panel.get_by_test_id("predict-note")).to_contain_text("not logged in")
    visitor.get_by_test_id("visualizer").get_by_role("button", name="Forward").click()
    answer(panel, "accept()")
    expect(panel.get_by_test_id("predict-result")).to_contain_text("Not recorded: you are not logged in.")
    visitor_context.close()
    assert Prediction.objects.filter(run=run).count() == 2
