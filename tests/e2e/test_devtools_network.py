"""What the performance pages' "DevTools: Network" sections tell learners to look for, checked in this machine's
Chromium's own DevTools (the frontend it serves on its remote-debugging port): the Socket filter chip, the 101
handshake, the Messages list without the close frame, and a refused handshake's error."""

from __future__ import annotations

import http
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from tests.conftest import CHROMIUM
from tests.e2e.views import BROWSER_WAIT_MS

pytestmark = [pytest.mark.e2e]

# The page's script: one socket that talks and is closed by the server with 4001, one the server refuses with 403.
OPEN_SOCKETS = """(port) => {
  window.closedWith = null;
  const socket = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  socket.onopen = () => socket.send("hi");
  socket.onmessage = () => socket.send("bye");
  socket.onclose = (event) => { window.closedWith = event.code; new WebSocket(`ws://127.0.0.1:${port}/deny`); };
}"""


def echo_then_close(connection: ServerConnection) -> None:
    for message in connection:
        if message == "bye":
            connection.close(4001, "done")
            return
        connection.send(f"echo {message}")


def refuse_deny(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/deny":
        return connection.respond(http.HTTPStatus.FORBIDDEN, "denied\n")
    return None


@pytest.fixture
def socket_server() -> Iterator[int]:
    with serve(echo_then_close, "127.0.0.1", 0, process_request=refuse_deny) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.socket.getsockname()[1]
        server.shutdown()
    thread.join(10)


def test_chromium_devtools_shows_what_the_performance_pages_describe(playwright, tmp_path: Path, socket_server):
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=["--remote-debugging-port=0"]
    )
    try:
        port_file = tmp_path / "profile" / "DevToolsActivePort"
        page = context.new_page()
        page.set_content("<title>devtools-target</title><p>target</p>")
        debug_port = port_file.read_text().split()[0]
        targets = context.request.get(f"http://127.0.0.1:{debug_port}/json/list").json()
        target = next(t for t in targets if t["type"] == "page" and t["title"] == "devtools-target")
        tools = context.new_page()
        tools.set_viewport_size({"width": 1366, "height": 900})
        tools.goto(
            f"http://127.0.0.1:{debug_port}/devtools/inspector.html"
            f"?ws=127.0.0.1:{debug_port}/devtools/page/{target['id']}&panel=network"
        )
        socket_chip = tools.get_by_text("Socket", exact=True)  # "WS" until Chromium renamed it
        expect(socket_chip).to_be_visible(timeout=BROWSER_WAIT_MS)
        screencast = tools.get_by_role("button", name="Toggle screencast")
        screencast.click()  # the panel takes the whole window, as when DevTools is docked apart
        expect(screencast).to_have_attribute("aria-pressed", "false")
        page.evaluate(OPEN_SOCKETS, socket_server)
        page.wait_for_function("window.closedWith === 4001", timeout=BROWSER_WAIT_MS)
        socket_chip.click()

        rows = tools.get_by_role("row")
        expect(rows.filter(has_text="deny")).to_contain_text("Finished", timeout=BROWSER_WAIT_MS)
        echo = rows.filter(has_text="echo").filter(has_text="websocket")
        expect(echo).to_contain_text("101")
        echo.get_by_role("cell", name="echo").click()
        expect(tools.get_by_text("101 Switching Protocols")).to_be_visible(timeout=BROWSER_WAIT_MS)
        tools.get_by_role("tab", name="Messages").click()
        frames = tools.get_by_role("row", name=re.compile(r"^[⬆⬇]"))  # up: sent, down: received
        expect(frames).to_have_count(3, timeout=BROWSER_WAIT_MS)  # the close frame (4001, "done") is not listed
        for frame, (data, length) in zip(frames.all(), (("⬆hi", "2"), ("⬇echo hi", "7"), ("⬆bye", "3")), strict=True):
            expect(frame.get_by_role("cell").nth(0)).to_have_accessible_name(data)
            expect(frame.get_by_role("cell").nth(1)).to_have_text(length)
            expect(frame.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$"))

        rows.filter(has_text="deny").get_by_role("cell", name="deny").click()
        tools.get_by_role("tab", name="Messages").click()
        expect(tools.get_by_text("Error during WebSocket handshake: Unexpected response code: 403")).to_be_visible(
            timeout=BROWSER_WAIT_MS
        )
    finally:
        context.close()
