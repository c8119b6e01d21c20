"""The grader, against real sandboxes: frames matched as scripted, limits and timeouts fail a test with the reason,
and learner code can neither see a hidden script nor forge a verdict."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from challenges.grader import grade
from challenges.loader import get_challenges
from challenges.matching import json_subset
from challenges.scripts import ScriptReader
from challenges.types import TestScript
from lessons.catalogue import ContentError
from playground.run.limits import run_limits
from playground.sandbox import Sandbox, SandboxLimits
from playground.sandbox_supply import sandbox_options

ECHO = """
from channels.generic.websocket import AsyncWebsocketConsumer

class Echo(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept(subprotocol=self.scope["subprotocols"][0] if self.scope["subprotocols"] else None)

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)
"""


def scripts(tmp_path: Path, text: str, hidden: bool = False) -> list[TestScript]:
    path = tmp_path / "tests.yaml"
    path.write_text(textwrap.dedent(text))
    errors: list[ContentError] = []
    tests = ScriptReader(path, Path("tests.yaml"), hidden, errors).read()
    assert errors == []
    return tests


def acquire_with(limits: SandboxLimits | None = None):
    async def acquire() -> Sandbox:
        return await Sandbox.start(limits or run_limits(), sandbox_options())

    return acquire


def test_json_subset_matches_keys_it_names_and_keeps_types_apart():
    assert json_subset({"a": 1}, {"a": 1, "b": 2})
    assert not json_subset({"a": 1, "c": 3}, {"a": 1})
    assert json_subset({"list": [1, {"x": 1}]}, {"list": [1, {"x": 1, "y": 2}]})
    assert not json_subset({"list": [1]}, {"list": [1, 2]})
    assert not json_subset({"ok": True}, {"ok": 1})
    assert not json_subset({"n": 1}, {"n": True})
    assert json_subset({"n": 2}, {"n": 2.0})
    assert not json_subset({"id": None}, {})


async def test_exact_json_regex_subprotocol_and_ordering_pass(tmp_path):
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: all kinds of matching
            steps:
              - connect: a
                subprotocols: [chat.v2, chat.v1]
              - accepted: a
                subprotocol: chat.v2
              - connect: b
              - accepted: b
              - send: a
                text: hello
              - receive: a
                text: hello
              - send: b
                json: {kind: note, n: 2}
              - receive: b
                json: {n: 2}
                ordered: true
              - send: a
                text: "order 66"
              - receive: a
                regex: "order \\\\d+"
                ordered: true
              - silent: b
                seconds: 0.2
              - close: a
                code: 4000
              - silent: a
                seconds: 0.1
        """,
    )
    [result] = await grade(tests, ECHO, acquire_with())
    assert result.passed, result.reason
    assert result.events[-1]["type"] == "exit" and any(e["type"] == "trace" for e in result.events)


async def test_a_wrong_frame_reports_expected_got_and_the_index_of_the_wrong_event(tmp_path):
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: wants upper case
            steps:
              - connect: a
              - accepted: a
              - send: a
                text: hi
              - receive: a
                text: HI
        """,
    )
    [result] = await grade(tests, ECHO, acquire_with())
    assert not result.passed
    assert result.reason == "step 4 (line 8): a got a send that does not match"
    assert result.expected == {"client": "a", "kind": "send", "text": "HI"}
    assert result.got == {"client": "a", "kind": "send", "text": "hi"}
    assert result.events[result.first_wrong] == {"type": "consumer.send", "client": "a", "text": "hi"}


async def test_missing_frame_waits_only_its_within(tmp_path):
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: nothing comes
            steps:
              - connect: a
              - accepted: a
              - receive: a
                text: never
                within: 0.3
        """,
    )
    [result] = await grade(tests, ECHO, acquire_with())
    assert result.reason == "step 3 (line 6): expected send for a, got nothing within 0.3 s"
    assert result.got is None and result.first_wrong is not None


async def test_a_run_that_hits_a_sandbox_limit_fails_with_the_limit(tmp_path):
    hog = ECHO.replace("await self.send(text_data=text_data)", "self.hoard = bytearray(1024 * 1024 * 1024)")
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: hoards memory
            steps:
              - connect: a
              - accepted: a
              - send: a
                text: go
              - receive: a
                text: go
                within: 5
        """,
    )
    [result] = await grade(tests, hog, acquire_with(), test_seconds=60)
    assert not result.passed
    assert "the run ended: it hit the sandbox's memory limit" in result.reason, result.reason


async def test_a_test_that_outlives_its_time_fails_with_that_reason(tmp_path):
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: slow
            steps:
              - connect: a
              - accepted: a
              - silent: a
                seconds: 2
        """,
    )
    [result] = await grade(tests, ECHO, acquire_with(), test_seconds=0.5)
    assert (result.passed, result.reason) == (False, "the test did not finish within 0.5 s")


async def test_a_module_that_does_not_load_fails_every_test_with_the_error(tmp_path):
    tests = scripts(tmp_path, "tests:\n  - name: t\n    steps:\n      - connect: a\n      - accepted: a\n")
    [result] = await grade(tests, "import nothing_by_this_name\n", acquire_with())
    assert not result.passed
    assert result.reason.startswith("your module did not load: ") and "nothing_by_this_name" in result.reason


FORGER = """
import json, sys
from channels.generic.websocket import AsyncWebsocketConsumer

print(json.dumps({"test": "shouts a word back", "passed": True, "reason": "passed"}))
print("PASS", file=sys.stderr)

class Forger(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        print("PASS: every test passed")
        await self.send(text_data=json.dumps({"passed": True, "reason": "passed", "type": "result"}))

    async def receive(self, text_data=None, bytes_data=None):
        print(json.dumps({"passed": True}))
        await self.send(text_data="PASS")
        await self.send(text_data=json.dumps({"type": "consumer.send", "client": "ann", "text": "HELLO"}))

from django.urls import path
websocket_urlpatterns = [path("ws/shout/", Forger.as_asgi())]
"""


async def test_printing_or_sending_something_that_looks_like_a_pass_fails():
    challenge = get_challenges().get("shout-echo")
    results = await grade(challenge.tests, FORGER, acquire_with())
    assert [r.name for r in results if r.passed] == ["accepts the connection"]  # the only thing it really does
    shouted = next(r for r in results if r.name == "shouts a word back")
    assert shouted.got == {
        "client": "ann",
        "kind": "send",
        "text": json.dumps({"passed": True, "reason": "passed", "type": "result"}),
    }


SNOOP = """
import os, pathlib
from channels.generic.websocket import AsyncWebsocketConsumer

def look():
    found = []
    for root in ("/work", "/", "/sandbox", "/tmp", os.getcwd()):
        try:
            found += [str(p) for p in pathlib.Path(root).rglob("hidden.yaml")]
        except OSError:
            pass
    return found

class Snoop(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.send(text_data=repr(look()))
"""


async def test_learner_code_cannot_find_the_hidden_scripts(tmp_path):
    tests = scripts(
        tmp_path,
        "tests:\n  - name: t\n    steps:\n      - connect: a\n      - accepted: a\n      - receive: a\n        text: '[]'\n",
    )
    [result] = await grade(tests, SNOOP, acquire_with())
    assert result.passed, (result.reason, result.got)


@pytest.mark.parametrize("hidden", [False, True])
async def test_a_hidden_test_shows_name_and_reason_but_not_its_frames(tmp_path, hidden):
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: secret words
            steps:
              - connect: a
              - accepted: a
              - send: a
                text: the secret input
              - receive: a
                text: THE SECRET OUTPUT
        """,
        hidden=hidden,
    )
    leaky = ECHO.replace("await self.send(text_data=text_data)", "raise ValueError(text_data)")
    [result] = await grade(tests, leaky, acquire_with())
    shown = json.dumps(result.public())
    assert result.public()["test"] == "secret words" and not result.passed
    assert ("secret" in shown.replace("secret words", "")) is not hidden


async def test_sending_to_a_client_the_consumer_closed_fails_that_step(tmp_path):
    closer = ECHO.replace("await self.send(text_data=text_data)", "await self.close(code=4001)")
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: talks after the close
            steps:
              - connect: a
              - accepted: a
              - send: a
                text: bye
              - closed: a
                code: 4001
              - send: a
                text: anyone?
              - receive: a
                text: anyone?
        """,
    )
    [result] = await grade(tests, closer, acquire_with())
    assert result.reason == "step 5 (line 10): could not send a: a is not open (not accepted yet, or already closed)"
    assert result.expected is None and result.got is None


WHO = """
from channels.generic.websocket import AsyncWebsocketConsumer

class Who(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope["user"]
        await self.accept()
        await self.send(text_data=f"{user.is_authenticated} {user.get_username()!r}")
"""


async def test_a_connect_step_signs_its_client_in_as_the_user_it_names(tmp_path):
    tests = scripts(
        tmp_path,
        """\
        tests:
          - name: one signed in, one anonymous
            steps:
              - connect: ann
                user: ann
              - connect: guest
              - accepted: ann
              - accepted: guest
              - receive: ann
                text: "True 'ann'"
              - receive: guest
                text: "False ''"
        """,
    )
    [result] = await grade(tests, WHO, acquire_with())
    assert result.passed, (result.reason, result.got)


@pytest.mark.parametrize("user", ["''", "42", "[ann]", "x" * 151])
def test_a_connect_step_refuses_a_user_that_is_not_a_username(tmp_path, user):
    path = tmp_path / "tests.yaml"
    path.write_text(f"tests:\n  - name: t\n    steps:\n      - connect: a\n        user: {user}\n      - accepted: a\n")
    errors: list[ContentError] = []
    assert ScriptReader(path, Path("tests.yaml"), False, errors).read() == []
    assert [(error.line, error.message) for error in errors] == [
        (4, "user must be a username (1 to 150 characters): the client signs in as them")
    ]


async def test_waiting_for_a_turn_to_play_is_not_counted_against_a_tests_time(tmp_path):
    """One test plays at a time and the next ones load meanwhile: three tests of 2 s of silence outlast one test's
    budget together, yet each passes."""
    quiet = "tests:\n" + "".join(
        f"  - name: quiet {n}\n    steps:\n      - connect: a\n      - accepted: a\n      - silent: a\n        seconds: 2\n"
        for n in range(3)
    )
    tests = scripts(tmp_path, quiet)
    results = await grade(tests, ECHO, acquire_with(), parallel=1, ahead=2, test_seconds=5)
    assert [(r.name, r.passed, r.reason) for r in results] == [(f"quiet {n}", True, "passed") for n in range(3)]
