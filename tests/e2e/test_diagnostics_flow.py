"""Each diagnostic on the playground page, in a real browser, says what a real Daphne does (the Daphne side of each
claim is checked in tests/playground/test_daphne_diagnostics.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import shoot_both_widths
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MISTAKES = """import time
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class Echo(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        if text_data == "forget":
            self.send(text_data="never sent")
        elif text_data == "sleep":
            time.sleep(3600)
        else:
            await self.send(text_data=text_data)


class Silent(AsyncWebsocketConsumer):
    async def connect(self):
        self.asked = True


websocket_urlpatterns = [path("ws/echo/", Echo.as_asgi()), path("ws/silent/", Silent.as_asgi())]
"""
SPINS = """from channels.generic.websocket import AsyncWebsocketConsumer


class Spinner(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        while True:
            pass
"""
# A handshake nobody answers is dropped after 5 s; on a loaded machine the page may hear of it later than that.
DROP_WAIT_MS = 60_000


class ConsoleErrors:
    """Every console error and uncaught page error."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


def run_code(page, base_url: str, user: str, code: str) -> ConsoleErrors:
    console = ConsoleErrors(page)
    make_user(user)
    log_in(page, base_url, user)
    page.goto(base_url + "/playground/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    page.evaluate("(code) => window.playground.editor.raw.setValue(code, -1)", code)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-status")).to_have_text("running")
    return console


def new_client(page, path: str, state: str):
    page.get_by_label("Path").fill(path)
    page.get_by_role("button", name="Add client").click()
    card = page.locator(".client-card").last
    card.get_by_role("button", name="Connect").click()
    expect(card.locator(".client-state")).to_have_text(state)
    return card


def test_each_diagnostic_says_what_daphne_does(page, daphne_server, output_path):
    console = run_code(page, daphne_server.url, "diagnosed", MISTAKES)
    viz = page.get_by_test_id("visualizer")
    table = viz.locator(".viz-table tbody")

    # No route: HTTP 500 as Daphne answers, with the cause on the client's own log and in the table.
    wrong = new_client(page, "/ws/wrong/", "closed")
    expect(wrong.locator(".client-log")).to_contain_text("refused (HTTP 500)")
    why = wrong.locator("tr.log-why")  # the explanation gets a full-width line under the entry
    expect(why).to_contain_text("no route matches /ws/wrong/ (routes: ws/echo/, ws/silent/)")
    expect(why).to_contain_text("a browser reports only close code 1006")
    expect(table.locator('tr[data-kind="reject"]').last).to_contain_text("no route matches /ws/wrong/")
    expect(wrong.locator(".client-log")).not_to_contain_text("403")

    # A close the client started is the client's code; Daphne answers it with 1000.
    closer = new_client(page, "/ws/echo/", "open")
    closer.locator(".close-code").fill("4321")
    closer.get_by_role("button", name="Close").click()
    expect(closer.locator(".client-state")).to_have_text("closed")
    expect(closer.locator(".client-log")).to_contain_text("closed by you (code 4321)")
    expect(closer.locator("tr.log-why")).to_contain_text("Daphne answers with close code 1000")
    expect(table.locator('tr[data-kind="disconnect"]').last).to_contain_text("the client chose it")
    expect(viz).not_to_contain_text("your consumer chose it")

    # send() without await: nothing is sent, the note says why and what Daphne logs; no "print()" row.
    forgetful = new_client(page, "/ws/echo/", "open")
    forgetful.get_by_label("Message").fill("forget")
    forgetful.get_by_role("button", name="Send").click()
    note = table.locator('tr[data-kind="note"]').filter(has_text="without await")
    expect(note).to_contain_text("the frame is never sent")
    expect(note).to_contain_text("Under Daphne at its default verbosity nothing is logged")
    expect(page.locator("#console")).to_contain_text("RuntimeWarning: coroutine 'AsyncWebsocketConsumer.send'")
    expect(table.locator('tr[data-kind="output"]')).to_have_count(0)
    expect(forgetful.locator("tr.log-received")).to_have_count(0)

    # connect() without accept(): dropped at Daphne's handshake timeout, shown on the client.
    silent = new_client(page, "/ws/silent/", "connecting")
    expect(silent.locator(".client-state")).to_have_text("closed", timeout=DROP_WAIT_MS)
    expect(silent.locator(".client-log")).to_contain_text("dropped: no answer to the handshake")
    expect(silent.locator("tr.log-why")).to_contain_text("Daphne's handshake timeout dropped the connection")
    expect(silent.locator("tr.log-why")).to_contain_text("close code 1006")
    shoot_both_widths(page, output_path, "diagnostics-refusals")

    # A handler blocked for good: said while it blocks, and a client connecting meanwhile appears, waiting.
    sleeper = new_client(page, "/ws/echo/", "open")
    sleeper.get_by_label("Message").fill("sleep")
    sleeper.get_by_role("button", name="Send").click()
    held = table.locator('tr[data-kind="note"]').filter(has_text="is still running at line 14 (time.sleep(3600))")
    expect(held).to_have_count(1, timeout=DROP_WAIT_MS)
    waiting = new_client(page, "/ws/echo/", "connecting")
    waiting_id = waiting.locator(".client-name").inner_text()
    expect(table.locator('tr[data-kind="note"]').filter(has_text=f"{waiting_id} opens a WebSocket")).to_contain_text(
        "while receive() (line 14) holds the event loop", timeout=DROP_WAIT_MS
    )
    expect(viz.locator(f'[data-variable="{waiting_id}.connection_state"] td').last).to_have_text("None")
    expect(waiting.locator(".client-state")).to_have_text("connecting")
    shoot_both_widths(page, output_path, "diagnostics-blocked")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#run-status")).to_contain_text("stopped")
    assert console.errors == []


def test_an_endless_loop_ends_at_the_cpu_limit_naming_its_line(page, daphne_server, output_path):
    console = run_code(page, daphne_server.url, "spinner", SPINS)
    card = new_client(page, "/ws/", "open")
    card.get_by_label("Message").fill("go")
    card.get_by_role("button", name="Send").click()
    table = page.get_by_test_id("visualizer").locator(".viz-table tbody")
    expect(table.locator('tr[data-kind="note"]').filter(has_text="is still running at line 9")).to_have_count(
        1, timeout=DROP_WAIT_MS
    )
    expect(page.locator("#run-status")).to_have_text(
        re.compile(r"^stopped: cpu limit reached: the run used its \d+ s of CPU: receive\(\) was still running line 9"),
        timeout=DROP_WAIT_MS,
    )
    shoot_both_widths(page, output_path, "diagnostics-cpu")
    assert console.errors == []
