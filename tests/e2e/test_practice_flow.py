"""Lesson practice mode in a real browser: try first, then check or reveal; the reveal survives a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lessons.catalogue import get_catalogue
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
TOPIC = "consumer-lifecycle"


def practice_questions():
    questions = get_catalogue().get(TOPIC).modes["practice"].practice.questions
    with_choices = next(q for q in questions if q.choices)
    open_question = next(q for q in questions if not q.choices)
    return with_choices, open_question


def choice_label(question, key: str) -> str:
    return re.sub(r"<[^>]+>", "", question.choice(key).text_html)


def test_practice_checks_a_choice_then_shows_the_solution_and_remembers_it(page, daphne_server, output_path):
    with_choices, open_question = practice_questions()
    wrong = next(c.key for c in with_choices.choices if c.key != with_choices.answer)
    make_user("practiser")
    log_in(page, daphne_server.url, "practiser")
    page.goto(f"{daphne_server.url}/lessons/{TOPIC}/practice/")
    asked = page.locator(f"#practice-{with_choices.id}")
    opened = page.locator(f"#practice-{open_question.id}")
    expect(page.locator(".practice-question .solution")).to_have_count(0)

    asked.get_by_role("button", name="Check").click()  # nothing chosen: the browser asks for a choice first
    expect(asked.locator("input[name=choice]:invalid").first).to_be_attached()
    expect(asked.locator(".solution")).to_have_count(0)

    asked.get_by_label(choice_label(with_choices, wrong), exact=True).check()
    asked.get_by_role("button", name="Check").click()
    asked = page.locator(f"#practice-{with_choices.id}")
    expect(asked.locator(".result")).to_have_text("Not quite: compare with the solution.")
    expect(asked.locator(".result")).to_be_focused()
    expect(asked.get_by_role("heading", name="Solution")).to_be_visible()
    expect(asked.locator(".choice.is-correct .verdict")).to_have_text(re.compile("^right answer"))
    expect(asked.locator(".choice.is-wrong .verdict")).to_have_text("your answer, wrong")
    expect(opened.locator(".solution")).to_have_count(0)

    opened.get_by_role("button", name="Show solution").click()
    expect(page.locator(f"#practice-{open_question.id} .solution")).to_be_visible()
    page.locator(f"#practice-{with_choices.id}").scroll_into_view_if_needed()
    shoot_both_widths(page, output_path, "practice-revealed")

    page.reload()
    asked = page.locator(f"#practice-{with_choices.id}")
    chosen = page.locator(f"#practice-{with_choices.id}-{wrong}")  # its label now carries the verdict too
    expect(chosen).to_be_checked()
    expect(chosen).to_be_disabled()
    expect(asked.get_by_role("heading", name="Solution")).to_be_visible()
    expect(page.locator(f"#practice-{open_question.id} .solution")).to_be_visible()
    expect(page.locator(".practice-question .solution")).to_have_count(2)


def test_practice_works_as_plain_forms_without_javascript(browser, daphne_server, output_path):
    with_choices, open_question = practice_questions()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(BROWSER_WAIT_MS)
    page.goto(f"{daphne_server.url}/lessons/{TOPIC}/practice/")
    shoot_both_widths(page, output_path, "practice-asking")
    asked = page.locator(f"#practice-{with_choices.id}")
    asked.get_by_label(choice_label(with_choices, with_choices.answer), exact=True).check()
    asked.get_by_role("button", name="Check").click()
    expect(page).to_have_url(re.compile(rf"/lessons/{TOPIC}/practice/#practice-{with_choices.id}$"))
    expect(page.locator(f"#practice-{with_choices.id} .result")).to_have_text("Right.")
    page.locator(f"#practice-{open_question.id}").get_by_role("button", name="Show solution").click()
    expect(page.locator(f"#practice-{open_question.id} .solution")).to_be_visible()
    page.goto(f"{daphne_server.url}/lessons/{TOPIC}/practice/")  # a visitor's reveals live in the session
    expect(page.locator(".practice-question .solution")).to_have_count(2)
    context.close()
