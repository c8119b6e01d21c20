"""The playground in a real browser: run a starter, talk to it from the panel, the live URL and another page."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect as ws_connect

from tests.e2e.test_lessons_flow import log_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_playground(page, base_url: str, starter: str = "echo") -> None:
    make_user(f"player-{starter}")
    log_in(page, base_url, f"player-{starter}")
    page.goto(f"{base_url}/playground/{starter}/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-status")).to_have_text("running")


def add_client(page, path: str | None = None):
    if path:
        page.get_by_label("Path").fill(path)
    page.get_by_role("button", name="Add client").click()
    card = page.locator(".client-card").last
    card.get_by_role("button", name="Connect").click()
    expect(card.locator(".client-state")).to_have_text("open")
    return card


def send_from(card, text: str) -> None:
    card.get_by_label("Message").fill(text)
    card.get_by_role("button", name="Send").click()


def test_echo_starter_answers_panel_live_client_and_another_page(page, daphne_server):
    open_playground(page, daphne_server.url)
    card = add_client(page)
    send_from(card, "hello panel")
    expect(card.locator("tr.log-received")).to_contain_text("hello panel")
    expect(card.locator("tr.log-sent")).to_contain_text("hello panel")

    live_url = page.get_by_role("textbox", name="Live URL").input_value()
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/ws/live/[\w-]{20,}/", live_url)

    with ws_connect(live_url + "ws/echo/") as ws:
        ws.send("from websockets")
        assert ws.recv(timeout=5) == "from websockets"

    other = page.context.new_page()
    other.goto(daphne_server.url + "/")
    reply = other.evaluate(
        """(url) => new Promise((resolve, reject) => {
            const ws = new WebSocket(url);
            ws.onopen = () => ws.send("from another page");
            ws.onmessage = (e) => { resolve(e.data); ws.close(); };
            ws.onerror = () => reject(new Error("live socket failed"));
        })""",
        live_url + "ws/echo/",
    )
    assert reply == "from another page"
    other.close()

    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#run-status")).to_contain_text("stopped")
    expect(page.get_by_role("textbox", name="Live URL")).to_have_value("")


def test_chat_room_two_panel_clients_and_two_external_clients(page, daphne_server):
    open_playground(page, daphne_server.url, "chat_room")
    first = add_client(page, "/ws/chat/lobby/")
    second = add_client(page, "/ws/chat/lobby/")
    live_url = page.get_by_role("textbox", name="Live URL").input_value() + "ws/chat/lobby/"

    with ws_connect(live_url) as one, ws_connect(live_url) as two:
        one.send("hi from outside")
        received = [one.recv(timeout=5), two.recv(timeout=5)]
    assert all(json.loads(message)["text"] == "hi from outside" for message in received)
    expect(first.locator("tr.log-received")).to_contain_text("hi from outside")
    expect(second.locator("tr.log-received")).to_contain_text("hi from outside")
    send_from(first, "hi from the panel")
    expect(second.locator("tr.log-received").last).to_contain_text("hi from the panel")


def test_syntax_error_shows_line_and_jumps_the_editor(page, daphne_server):
    make_user("typo")
    log_in(page, daphne_server.url, "typo")
    page.goto(daphne_server.url + "/playground/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    page.evaluate("window.playground.editor.raw.setValue('x = 1\\n\\ndef broken(:\\n    pass\\n', -1)")
    page.get_by_role("button", name="Run", exact=True).click()
    jump = page.get_by_role("button", name="Go to line 3")
    expect(jump).to_be_visible()
    jump.click()
    assert page.evaluate("window.playground.editor.raw.getCursorPosition().row") == 2
    expect(page.locator("#run-status")).to_contain_text("stopped")


def test_anonymous_visitor_reads_but_cannot_run(page, daphne_server):
    page.goto(daphne_server.url + "/playground/json_reply/")
    expect(page.get_by_test_id("login-to-run")).to_be_visible()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    assert "ShoutConsumer" in page.evaluate("window.playground.editor.getValue()")
