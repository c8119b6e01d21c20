"""Quizzes in a real browser: practice by keyboard only, and test mode across a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from quizzes.bank import get_bank
from quizzes.models import Attempt
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import shoot_both_widths
from tests.factories import correct_keys, make_user, wrong_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tab_to(page, locator, limit: int = 60) -> None:
    """Press Tab until the locator has focus, as a keyboard user would."""
    for _ in range(limit):
        if locator.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError("could not reach the element with Tab")


def test_practice_quiz_by_keyboard_only_with_hint_and_solution(page, daphne_server):
    make_user("keys")
    log_in(page, daphne_server.url, "keys")
    page.goto(daphne_server.url + "/quizzes/consumer-lifecycle/")
    tab_to(page, page.get_by_label(re.compile("^Practice")))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Start the quiz"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/quizzes/attempt/\d+/$"))
    attempt = Attempt.objects.get()

    for position, qid in enumerate(attempt.question_ids, start=1):
        article = page.locator(f"#question-{position}")
        expect(article).to_be_visible()
        if position == 1:
            tab_to(page, article.get_by_role("button", name=re.compile("Show hint 1")))
            page.keyboard.press("Enter")
            expect(article.locator(".hints li").first).to_have_text(re.compile(r"\S"))
        keys = correct_keys(qid) if position % 2 else [wrong_key(qid)]
        order = attempt.choice_orders[qid]
        for key in keys:
            tab_to(page, page.locator(f"#q{position}-{order[0]}"))
            # Radios move with arrow keys; checkboxes are reached with Tab.
            target = page.locator(f"#q{position}-{key}")
            if get_bank().questions[qid].is_multiple:
                tab_to(page, target)
            else:
                for _ in range(order.index(key)):
                    page.keyboard.press("ArrowDown")
            page.keyboard.press("Space")
            expect(target).to_be_checked()
        tab_to(page, article.get_by_role("button", name="Check answer"))
        page.keyboard.press("Enter")
        article = page.locator(f"#question-{position}")
        expect(article.get_by_role("heading", name="Step-by-step solution")).to_be_visible()
        expect(article.locator(".result")).to_contain_text("Correct." if position % 2 else "Not quite.")
        if position < len(attempt.question_ids):
            tab_to(page, article.get_by_role("link", name="Next question"))
            page.keyboard.press("Enter")

    tab_to(page, page.get_by_role("button", name="Finish and see results"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("score")).to_contain_text("5 of 10 correct")


def test_test_mode_resumes_after_reload_then_submits_and_reviews(page, daphne_server):
    make_user("tester")
    log_in(page, daphne_server.url, "tester")
    page.goto(daphne_server.url + "/quizzes/consumer-lifecycle/")
    page.get_by_label(re.compile("^Test")).check()
    page.get_by_role("button", name="Start the quiz").click()
    attempt = Attempt.objects.get()
    first, second = attempt.question_ids[:2]
    page.locator(f"#q1-{correct_keys(first)[0]}").check()
    expect(page.get_by_test_id("saved-1")).to_be_visible()
    page.locator(f"#q2-{wrong_key(second)}").check()
    expect(page.get_by_test_id("saved-2")).to_be_visible()
    expect(page.locator("#quiz-progress")).to_contain_text("2 of 10 answered")

    page.reload()
    expect(page.locator(f"#q1-{correct_keys(first)[0]}")).to_be_checked()
    expect(page.locator(f"#q2-{wrong_key(second)}")).to_be_checked()
    page.goto(daphne_server.url + "/quizzes/consumer-lifecycle/")
    page.get_by_role("link", name="Resume it").click()
    expect(page.locator(f"#q2-{wrong_key(second)}")).to_be_checked()

    page.get_by_role("button", name="Submit answers").click()
    page.get_by_role("button", name="Submit anyway").click()
    expect(page.get_by_test_id("score")).to_contain_text("1 of 10 correct")
    expect(page.locator("#question-1 .result")).to_contain_text("Correct.")
    expect(page.locator("#question-2 .result")).to_contain_text("Not quite.")
    expect(page.locator("#question-3 .result")).to_contain_text("Not answered.")


def test_practice_navigator_states_and_every_choices_feedback(page, daphne_server, output_path):
    make_user("navigator")
    log_in(page, daphne_server.url, "navigator")
    page.goto(daphne_server.url + "/quizzes/consumer-lifecycle/")
    page.get_by_label(re.compile("^Practice")).check()
    page.get_by_role("button", name="Start the quiz").click()
    attempt = Attempt.objects.get()
    first, second = attempt.question_ids[:2]
    nav = page.get_by_role("navigation", name="Questions")
    expect(nav.get_by_role("link", name="Question 1, not answered")).to_have_attribute("aria-current", "step")

    page.locator(f"#q1-{correct_keys(first)[0]}").check()
    page.locator("#question-1").get_by_role("button", name="Check answer").click()
    expect(nav.get_by_role("link", name="Question 1, right")).to_be_visible()
    choices = len(get_bank().questions[first].choices)
    expect(page.locator("#question-1 .choice .feedback")).to_have_count(choices)
    expect(page.locator("#question-1 .choice .verdict")).to_have_count(choices)

    page.locator("#question-1").get_by_role("link", name="Next question").click()
    expect(nav.get_by_role("link", name="Question 2, not answered")).to_have_attribute("aria-current", "step")
    page.locator(f"#q2-{wrong_key(second)}").check()
    page.locator("#question-2").get_by_role("button", name="Check answer").click()
    expect(nav.get_by_role("link", name="Question 2, wrong")).to_have_attribute("aria-current", "step")
    expect(page.locator("#question-2 .choice .feedback")).to_have_count(len(get_bank().questions[second].choices))
    expect(page.locator("#question-2 .choice.is-wrong .mistake")).to_contain_text("The mistake behind it:")
    expect(nav.get_by_role("link", name="Question 1, right")).not_to_have_attribute("aria-current", "step")
    expect(nav.get_by_role("link", name=re.compile(r"^Question \d+, not answered$"))).to_have_count(8)
    shoot_both_widths(page, output_path, "quiz-practice-answered")


def test_test_mode_asks_before_submitting_unanswered_then_results_explain_every_choice(
    page, daphne_server, output_path
):
    make_user("hasty")
    log_in(page, daphne_server.url, "hasty")
    page.goto(daphne_server.url + "/quizzes/consumer-lifecycle/")
    page.get_by_label(re.compile("^Test")).check()
    page.get_by_role("button", name="Start the quiz").click()
    attempt = Attempt.objects.get()
    first, second = attempt.question_ids[:2]
    page.locator(f"#q1-{correct_keys(first)[0]}").check()
    expect(page.get_by_test_id("saved-1")).to_be_visible()
    page.locator(f"#q2-{wrong_key(second)}").check()
    expect(page.get_by_test_id("saved-2")).to_be_visible()
    nav = page.get_by_role("navigation", name="Questions")
    expect(nav.get_by_role("link", name="Question 2, answered")).to_be_visible()
    expect(nav.get_by_role("link", name=re.compile(r", (right|wrong)$"))).to_have_count(0)
    shoot_both_widths(page, output_path, "quiz-test-attempt")

    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_test_id("confirm-unanswered")).to_have_text("8 of 10 unanswered: submit anyway?")
    shoot_both_widths(page, output_path, "quiz-confirm-unanswered")
    page.get_by_role("link", name="Back to the questions").click()
    expect(page.locator(f"#q2-{wrong_key(second)}")).to_be_checked()
    Attempt.objects.get(finished_at__isnull=True)

    page.get_by_role("button", name="Submit answers").click()
    page.get_by_role("button", name="Submit anyway").click()
    expect(page.get_by_test_id("score")).to_contain_text("1 of 10 correct")
    for position, question_id in enumerate(attempt.question_ids, start=1):
        choices = len(get_bank().questions[question_id].choices)
        expect(page.locator(f"#question-{position} .choice .feedback")).to_have_count(choices)
    expect(page.locator("#question-2 .choice.is-wrong .verdict")).to_have_text("your answer, wrong")
    shoot_both_widths(page, output_path, "quiz-results")
