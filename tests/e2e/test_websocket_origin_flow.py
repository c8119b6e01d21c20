"""Issue 19 item 1: a page served from another port of the site's host name cannot use a signed-in visitor's sockets."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.test_lessons_flow import log_in_with_form
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Opens a socket and reports how it ended: "open" if the handshake succeeded, else the close code.
TRY_SOCKET = """(url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onclose = (event) => resolve(`closed ${event.code}`);
})"""


class AttackerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site on the same host name</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def attacker_url():
    """A web server on another port of 127.0.0.1, as any local user or another service on the host could run."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), AttackerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_page_on_another_port_cannot_open_the_signed_in_visitors_sockets(page, daphne_server, attacker_url):
    make_user("origin-victim", instructor=True)
    log_in_with_form(page, daphne_server.url, "origin-victim")
    playground = daphne_server.ws_url + "/ws/playground/"
    assert page.evaluate(TRY_SOCKET, playground) == "open"  # the site's own page: its cookie makes it a session

    page.goto(attacker_url + "/")
    cookies = {cookie["name"] for cookie in page.context.cookies(playground.replace("ws://", "http://"))}
    assert "sessionid" in cookies  # cookies ignore ports: the browser would send the session with the handshake
    for path in ("/ws/playground/", "/ws/cohorts/1/", "/ws/runs/1/watch/"):
        assert page.evaluate(TRY_SOCKET, daphne_server.ws_url + path) == "closed 1006", path  # refused (403)
