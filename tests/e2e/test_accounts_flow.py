"""A visitor signs up, logs out, logs back in, and the site knows them; in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_signup_logout_login_home_shows_user(page, daphne_server):
    page.goto(daphne_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password:", exact=True).fill("weak")
    page.get_by_label("Password confirmation").fill("weak")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("This password is too short.")).to_be_visible()

    page.get_by_label("Password:", exact=True).fill("a-long-unusual-pass-9")
    page.get_by_label("Password confirmation").fill("a-long-unusual-pass-9")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_test_id("current-user")).to_have_text("grace")

    page.get_by_text("Signed in as").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()

    page.get_by_role("link", name="Log in", exact=True).click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password:", exact=True).fill("a-long-unusual-pass-9")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_text("grace")
    expect(page.get_by_text("Welcome back, grace.")).to_be_visible()


def test_keyboard_user_can_skip_to_content(page, daphne_server):
    page.goto(daphne_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()


def test_unknown_page_shows_friendly_404(page, daphne_server):
    response = page.goto(daphne_server.url + "/missing-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
