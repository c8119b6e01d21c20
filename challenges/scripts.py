"""The test-script format (tests.yaml, hidden.yaml): client steps and expectations, checked at load with file and line."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

from challenges.types import STEP_KINDS, Step, TestScript
from lessons.catalogue import ContentError
from lessons.catalogue.loader import as_plain
from lessons.catalogue.yaml_lines import LineDict, LineList, load_yaml
from playground.sandbox.shared import protocol

# How long one expectation may wait for its frame by default, and at most (the whole test is bounded by the
# CHALLENGE_TEST_SECONDS setting as well); a `silent` step's bounded wait for absence may last at most MAX_SILENT.
DEFAULT_WITHIN_SECONDS = 2.0
MAX_WITHIN_SECONDS = 5.0
MAX_SILENT_SECONDS = 2.0
MAX_STEPS = 200
MAX_USERNAME_CHARS = 150  # Django's username length
FRAME_FIELDS = ("text", "json", "regex", "bytes")  # how a received frame is matched: exact, JSON subset, regex, exact
SEND_FIELDS = ("text", "json", "bytes")
# Fields each step kind may carry besides its own key, and which of them are required.
ALLOWED: dict[str, set[str]] = {
    "connect": {"path", "query", "headers", "subprotocols", "user"},
    "send": set(SEND_FIELDS),
    "close": {"code"},
    "accepted": {"subprotocol", "within"},
    "receive": {*FRAME_FIELDS, "within", "ordered"},
    "closed": {"code", "within"},
    "rejected": {"within"},
    "silent": {"seconds"},
}


class ScriptReader:
    """Validates one test file; errors go to the shared list with the file, line and field."""

    def __init__(self, path: Path, display: Path, hidden: bool, errors: list[ContentError]) -> None:
        self.path, self.display, self.hidden, self.errors = path, display, hidden, errors

    def error(self, line: int, field: str, message: str) -> None:
        self.errors.append(ContentError(self.display, line, field, message))

    def read(self) -> list[TestScript]:
        data = load_yaml(self.path, self.display, self.errors)
        if data is None:
            return []
        if not isinstance(data, LineDict) or set(data) != {"tests"} or not isinstance(data["tests"], LineList):
            self.error(getattr(data, "line", 1), "tests", "the file must hold exactly one key, tests: a list")
            return []
        if not data["tests"]:
            self.error(data.line_of("tests"), "tests", "list at least one test")
        tests = []
        for index, item in enumerate(data["tests"]):
            test = self.read_test(item, f"tests[{index}]", data["tests"].line_of(index))
            if test is not None:
                tests.append(test)
        return tests

    def read_test(self, item: Any, where: str, line: int) -> TestScript | None:
        if not isinstance(item, LineDict) or set(item) != {"name", "steps"}:
            self.error(line, where, "a test is a mapping of exactly name and steps")
            return None
        name, steps = item["name"], item["steps"]
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            self.error(item.line_of("name"), f"{where}.name", "must be a short text (at most 100 characters)")
            return None
        where = f"{where} ({name})"
        if not isinstance(steps, LineList) or not 1 <= len(steps) <= MAX_STEPS:
            self.error(item.line_of("steps"), f"{where}.steps", f"must be a list of 1 to {MAX_STEPS} steps")
            return None
        before = len(self.errors)
        parsed = [self.read_step(step, f"{where}.steps[{i}]", steps.line_of(i)) for i, step in enumerate(steps)]
        if len(self.errors) > before:
            return None
        checked = [step for step in parsed if step is not None]
        self.check_sequence(checked, where, item.line)
        if not any(step.kind not in ("connect", "send", "close") for step in checked):
            self.error(item.line, where, "a test needs at least one expectation (accepted, receive, ...)")
        if len(self.errors) > before:
            return None
        return TestScript(name=name.strip(), hidden=self.hidden, steps=tuple(checked))

    def read_step(self, step: Any, where: str, line: int) -> Step | None:
        if not isinstance(step, LineDict):
            self.error(line, where, "a step is a mapping such as {send: alice, text: hi}")
            return None
        kinds = [key for key in step if key in STEP_KINDS]
        if len(kinds) != 1:
            self.error(line, where, f"a step names exactly one of {', '.join(STEP_KINDS)}")
            return None
        kind = kinds[0]
        client = step[kind]
        if not isinstance(client, str) or not protocol.CLIENT_ID.match(client):
            self.error(step.line_of(kind), f"{where}.{kind}", "must be a client name: 1-32 letters, digits, . _ -")
            return None
        fields = {key: as_plain(value) for key, value in step.items() if key != kind}
        for key in fields:
            if key not in ALLOWED[kind]:
                allowed = ", ".join(sorted(ALLOWED[kind])) or "nothing else"
                self.error(step.line_of(key), f"{where}.{key}", f"unknown for a {kind} step (allowed: {allowed})")
        problem = self.check_fields(kind, fields)
        if problem:
            self.error(line, where, problem)
            return None
        return Step(kind=kind, client=client, line=line, fields=MappingProxyType(fields))

    def check_fields(self, kind: str, fields: dict[str, Any]) -> str | None:
        """Why a step's fields are wrong for its kind, or None."""
        if "within" in fields and not _seconds(fields["within"], MAX_WITHIN_SECONDS):
            return f"within must be a number of seconds above 0 and at most {MAX_WITHIN_SECONDS:g}"
        if kind == "silent" and not _seconds(fields.get("seconds"), MAX_SILENT_SECONDS):
            return f"a silent step needs seconds: above 0 and at most {MAX_SILENT_SECONDS:g} (a bounded wait)"
        if "code" in fields and not (isinstance(fields["code"], int) and 1000 <= fields["code"] <= 4999):
            return "code must be a whole number from 1000 to 4999"
        if "ordered" in fields and not isinstance(fields["ordered"], bool):
            return "ordered must be true or false"
        if "subprotocol" in fields and not isinstance(fields["subprotocol"], str | None):
            return "subprotocol must be text or null"
        if kind == "connect":
            user = fields.get("user")
            if "user" in fields and not (isinstance(user, str) and 0 < len(user) <= MAX_USERNAME_CHARS):
                return f"user must be a username (1 to {MAX_USERNAME_CHARS} characters): the client signs in as them"
            headers = fields.get("headers", {})
            if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
                return "headers must map header names to text"
            return protocol.check_op(connect_op(Step(kind, "c", 0, MappingProxyType(fields))), 1)
        if kind in ("send", "receive"):
            present = [key for key in (SEND_FIELDS if kind == "send" else FRAME_FIELDS) if key in fields]
            if len(present) != 1:
                return (
                    f"a {kind} step needs exactly one of {', '.join(SEND_FIELDS if kind == 'send' else FRAME_FIELDS)}"
                )
            return _frame_problem(present[0], fields[present[0]])
        return None

    def check_sequence(self, steps: list[Step], where: str, line: int) -> None:
        """A client is connected before anything else happens to it, and not connected twice while open."""
        connected: set[str] = set()
        for step in steps:
            if step.kind == "connect":
                if step.client in connected:
                    self.error(step.line, where, f"{step.client} is connected twice")
                connected.add(step.client)
            elif step.client not in connected:
                self.error(step.line, where, f"{step.kind} {step.client} before connect {step.client}")
        if len(connected) > 20:
            self.error(line, where, "a test may use at most 20 clients (the sandbox's max_clients)")


def _seconds(value: Any, most: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= most


def _frame_problem(key: str, value: Any) -> str | None:
    if key in ("text", "regex") and not isinstance(value, str):
        return f"{key} must be text"
    if key == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            return f"regex does not compile: {exc}"
    if key == "bytes":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            return "bytes must be base64"
    return None


def connect_op(step: Step) -> dict[str, Any]:
    """The client.connect op a connect step sends; `user` makes scope["user"] that signed-in user (anonymous without)."""
    op: dict[str, Any] = {
        "type": protocol.CLIENT_CONNECT,
        "client": step.client,
        "path": step.get("path", "/"),
        "query": step.get("query", ""),
        "headers": [[name, value] for name, value in (step.get("headers") or {}).items()],
        "subprotocols": list(step.get("subprotocols", [])),
    }
    if step.get("user"):
        op["user"] = {"username": step.get("user")}
    return op
