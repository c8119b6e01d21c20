"""The instructor's cohort page in Chromium: a join, a lesson read, a hint and an answer arrive live; a reload keeps
the feed; the statistics page shows its charts. Screenshots at 1366 and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboards.models import ActivityItem
from lessons.catalogue import get_catalogue
from quizzes.services import finish_attempt, submit_answer
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import correct_keys, make_attempt, make_cohort, make_user, wrong_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_new_learners_join_read_hint_and_answer_update_the_matrix_and_feed_live(
    page, browser, daphne_server, output_path
):
    instructor = make_user("prof", instructor=True)
    make_user("student")
    cohort = make_cohort(instructor, "Evening group")
    log_in(page, daphne_server.url, "prof")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("matrix-heading")).to_have_text("Progress (0 of 0 learners)")
    expect(page.get_by_test_id("chart-activity-days")).to_contain_text("No answers yet in the last 14 days.")
    shoot_both_widths(page, output_path, "cohort-empty")

    learner_context = browser.new_context()
    learner = learner_context.new_page()
    learner.set_default_timeout(BROWSER_WAIT_MS)
    log_in(learner, daphne_server.url, "student")
    learner.goto(page.get_by_test_id("join-url").input_value())
    learner.get_by_role("button", name="Join Evening group").click()
    expect(learner.get_by_text("You joined “Evening group”.")).to_be_visible()

    feed = page.get_by_test_id("activity")
    row = page.locator('.matrix tr[data-user]:has-text("student")')
    expect(row).to_have_count(1)
    expect(page.get_by_test_id("matrix-heading")).to_have_text("Progress (1 of 1 learner)")
    learner_id = row.get_attribute("data-user")
    expect(row.get_by_role("link", name="student", exact=True)).to_have_attribute(
        "href", f"/dashboard/cohorts/{cohort.pk}/learners/{learner_id}/"
    )
    expect(row.get_by_role("link", name="Remove student")).to_have_attribute(
        "href", f"/dashboard/cohorts/{cohort.pk}/members/{learner_id}/remove/"
    )
    expect(feed).to_contain_text("student joined the cohort")

    topic = get_catalogue().get("groups")
    mode = topic.mode_keys[0]
    learner.goto(f"{daphne_server.url}/lessons/groups/{mode}/")
    expect(row.locator('td[data-topic="groups"]')).to_contain_text(f"1/{len(topic.modes)}")
    expect(feed).to_contain_text(f"student read 9. Groups and broadcast ({mode})")

    learner.goto(daphne_server.url + "/quizzes/groups/")
    learner.get_by_label(re.compile("^Practice")).check()
    learner.get_by_role("button", name="Start the quiz").click()
    learner.locator("#question-1").get_by_role("button", name=re.compile("Show hint 1")).click()
    expect(learner.locator("#question-1 .hints li")).to_have_count(1)
    expect(row.locator('td[data-topic="groups"]')).to_contain_text("1h")
    expect(feed).to_contain_text(re.compile(r"student opened hint 1 of groups-"))

    learner.locator("#question-1 input[name=choice]").first.check()
    learner.get_by_role("button", name="Check answer").click()
    expect(feed).to_contain_text(re.compile(r"student answered groups-"))
    shoot_both_widths(page, output_path, "cohort-live")

    stored = ActivityItem.objects.filter(cohort=cohort).count()
    page.reload()
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(feed.locator("li[data-item]")).to_have_count(stored)
    expect(feed).to_contain_text("student joined the cohort")

    learner.locator("#question-1").get_by_role("link", name="Next question").click()
    learner.locator("#question-2 input[name=choice]").first.check()
    learner.get_by_role("button", name="Check answer").click()
    expect(feed.locator("li[data-item]")).to_have_count(stored + 1)
    newest = feed.locator("li[data-item]").first
    expect(newest).to_contain_text(re.compile(r"student answered groups-"))
    item_ids = feed.locator("li[data-item]").evaluate_all("items => items.map((item) => item.dataset.item)")
    assert len(item_ids) == len(set(item_ids))  # no item twice
    learner_context.close()


def test_the_statistics_page_shows_question_text_counts_and_both_charts(page, daphne_server, output_path):
    instructor = make_user("prof", instructor=True)
    learners = [make_user(f"learner{n}") for n in range(6)]
    cohort = make_cohort(instructor, "Stats group", learners=learners)
    for number, learner in enumerate(learners):
        attempt = make_attempt(learner, "groups", seed=1)
        for position, qid in enumerate(attempt.question_ids):
            right = position < number * 2  # stronger learners get more right
            submit_answer(attempt, qid, correct_keys(qid) if right else [wrong_key(qid)])
        finish_attempt(attempt)

    log_in(page, daphne_server.url, "prof")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    answers = page.get_by_test_id("chart-activity-days")
    expect(answers.locator("text.value")).to_have_text(["60"])  # six learners, ten answers each, all today
    expect(answers.locator("text.tick").first).to_be_visible()
    shoot_both_widths(page, output_path, "cohort-charts")
    page.get_by_role("link", name="Question statistics of Groups and broadcast").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Question statistics: Groups and broadcast")
    expect(page.get_by_test_id("selection")).to_contain_text("first finished attempt: the default")
    expect(page.get_by_test_id("quiz-summary")).to_contain_text("Median score")
    expect(page.get_by_test_id("chart-scores").locator("svg text.value").first).to_be_visible()
    expect(page.get_by_test_id("chart-facility-discrimination").locator("circle.dot").first).to_be_visible()
    first_report = page.get_by_test_id("question-report").first
    expect(first_report).to_contain_text("picked it")
    expect(first_report.locator(".stem")).not_to_be_empty()
    shoot_both_widths(page, output_path, "question-statistics")

    page.get_by_label("Attempts analysed", exact=True).select_option("all")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"\?.*attempts=all"))
    expect(page.get_by_test_id("selection")).to_have_text("Analysing every finished attempt.")

    page.get_by_label("Topic", exact=True).select_option("routing")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Routing")
    expect(page.get_by_test_id("quiz-summary")).to_contain_text("No finished attempts yet")
    expect(page.get_by_test_id("chart-scores")).to_contain_text("No finished attempts yet")
    shoot_both_widths(page, output_path, "question-statistics-empty")
