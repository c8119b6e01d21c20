"""A learner answering a quiz over plain HTTP against a running server, as the page's forms do."""

from __future__ import annotations

import re
import secrets
import urllib.parse
import urllib.request

from quizzes.views import CONFIRM_UNANSWERED


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class QuizLearner:
    """Signed in by session cookie; a CSRF cookie of its own choosing, echoed in the header as Django expects."""

    def __init__(self, base_url: str, session_key: str) -> None:
        self.base_url = base_url
        self.csrf = secrets.token_hex(16)
        self.cookie = f"sessionid={session_key}; csrftoken={self.csrf}"
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """Status, Location header and body of one request (redirects are returned, not followed)."""
        data = urllib.parse.urlencode(form or {}).encode() if method == "POST" else None
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.csrf, "HX-Request": "true"}
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode(errors="replace")

    def start(self, topic: str) -> tuple[int, list[tuple[str, str]]]:
        """A new test-mode attempt: its id and (question id, first choice key) for each question."""
        status, location, _ = self.request("POST", f"/quizzes/{topic}/", {"mode": "test"})
        assert status == 302, f"starting an attempt returned {status}"
        attempt_id = int(re.search(r"/attempt/(\d+)/", location).group(1))
        _, _, html = self.request("GET", location)
        questions = list(dict.fromkeys(re.findall(r'name="question" value="([^"]+)"', html)))
        return attempt_id, [(qid, re.findall(rf'id="q{n}-([a-z])"', html)[0]) for n, qid in enumerate(questions, 1)]

    def answer(self, attempt_id: int, question: str, choice: str) -> int:
        return self.request("POST", f"/quizzes/attempt/{attempt_id}/answer/", {"question": question, "choice": choice})[
            0
        ]

    def finish(self, attempt_id: int) -> int:
        """Submit, confirming any unanswered questions as the confirm step's button does."""
        return self.request("POST", f"/quizzes/attempt/{attempt_id}/finish/", {"confirm": CONFIRM_UNANSWERED})[0]
