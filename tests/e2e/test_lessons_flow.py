"""A learner reads a topic, switches learning modes by mouse and keyboard, completes it by passing its quiz, and keeps
it across log-in."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, correct_keys, make_attempt, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url: str, username: str) -> None:
    """Sign the page's browser in as `username` with a session made here, as the login form makes one. The form costs a
    test two page loads (about 1 CPU-s in a suite bound by CPU); tests of what signing in does use log_in_with_form.
    A page that has been somewhere goes through the form: a response of its still on the way (an htmx tab, a draft
    sent on leaving) would set the visitor's session cookie back over this one, and navigating to the form ends them."""
    if page.url != "about:blank":
        log_in_with_form(page, base_url, username)
        return
    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])


def log_in_with_form(page, base_url: str, username: str) -> None:
    """Sign in through the login form, and land where it sends this user."""
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password:", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_text(username)


def pass_the_quiz(user, topic_slug: str) -> None:
    """Answer every question right and submit, through the quiz services the pages use."""
    from quizzes.services import finish_attempt, submit_answer

    attempt = make_attempt(user, topic_slug)
    for question_id in attempt.question_ids:
        submit_answer(attempt, question_id, correct_keys(question_id))
    finish_attempt(attempt)


def test_outline_topic_modes_complete_and_progress_survives_login(page, daphne_server):
    make_user("reader")
    log_in_with_form(page, daphne_server.url, "reader")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lessons").click()
    page.get_by_role("link", name="The WebSocket consumer lifecycle").click()
    expect(page.get_by_role("tab", name="Concept")).to_have_attribute("aria-selected", "true")

    # Mouse: the tab swaps the panel over htmx and the URL follows.
    page.get_by_role("tab", name="Common mistakes").click()
    expect(page.get_by_role("tab", name="Common mistakes")).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(r"/lessons/consumer-lifecycle/mistakes/$"))
    expect(page.get_by_role("tabpanel")).to_have_attribute("data-mode", "mistakes")

    # Keyboard: arrow keys move between tabs and open them.
    page.get_by_role("tab", name="Common mistakes").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tabpanel")).to_have_attribute("data-mode", "practice")
    expect(page.get_by_role("tab", name="Practice")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Practice")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tabpanel")).to_have_attribute("data-mode", "mistakes")
    expect(page.get_by_role("tab", name="Common mistakes")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Performance")).to_be_focused()
    expect(page.get_by_role("tabpanel")).to_have_attribute("data-mode", "performance")

    page.get_by_role("tab", name="Step-by-step execution").click()
    viewer = page.get_by_test_id("visualizer")
    expect(viewer.locator(".viz-table tbody tr")).to_have_count(5)
    expect(viewer.locator(".viz-position")).to_have_text("Step 1 of 5")
    viewer.get_by_role("button", name="Forward").click()
    expect(viewer.locator('[data-variable="c1.connection_state"] td').last).to_have_text("Accepted")
    # Complete means passing the quiz: the page says so and offers no "Mark complete" that would pretend otherwise.
    expect(page.get_by_test_id("completion-rule")).to_have_text(
        "This topic is complete when you pass its quiz with 70% or more. Take the quiz"
    )
    expect(page.get_by_role("button", name="Mark complete")).to_have_count(0)
    pass_the_quiz(User.objects.get(username="reader"), "consumer-lifecycle")
    page.reload()
    expect(page.get_by_test_id("topic-completed")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lessons").click()
    topic = page.locator('[data-topic="consumer-lifecycle"]')
    expect(topic.get_by_test_id("completed")).to_be_visible()
    expect(topic.get_by_test_id("modes-seen")).to_contain_text("5 of")

    page.get_by_text("Signed in as").click()
    page.get_by_role("button", name="Log out").click()
    log_in_with_form(page, daphne_server.url, "reader")
    expect(page.get_by_test_id("continue")).to_contain_text("Step-by-step execution")
    page.goto(daphne_server.url + "/lessons/")
    expect(page.locator('[data-topic="consumer-lifecycle"]').get_by_test_id("completed")).to_be_visible()
    page.goto(daphne_server.url + "/lessons/consumer-lifecycle/")
    expect(page.get_by_role("tab", name="Step-by-step execution")).to_have_attribute("aria-selected", "true")


def test_tabs_work_without_javascript(browser, daphne_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(daphne_server.url + "/lessons/consumer-lifecycle/")
    page.get_by_role("tab", name="Cheat sheet").click()
    expect(page).to_have_url(re.compile(r"/snapshot/$"))
    expect(page.get_by_role("tab", name="Cheat sheet")).to_have_attribute("aria-selected", "true")
    context.close()


def test_search_from_outline(page, daphne_server):
    page.goto(daphne_server.url + "/lessons/")
    page.get_by_label("Search the lessons").fill("accept")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_contain_text("for “accept”")
    expect(page.locator(".search-results mark").first).to_be_visible()
