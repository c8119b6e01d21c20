"""The owner<->sandbox JSON-lines protocol: names, shapes and the checks both sides apply (stdlib only)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

# Owner -> sandbox operations.
CLIENT_OPS = ("connect", "receive", "disconnect")
CONTROL_OPS = ("pause", "step")  # {"op": "pause", "on": bool}, {"op": "step"}: step through Channels calls
OPS = ("load", *CLIENT_OPS, *CONTROL_OPS, "sync", "stop")

# Sandbox -> owner events, and the ones only the owner may produce.
SANDBOX_EVENTS = (
    "ready", "loaded", "accept", "send", "close", "reject", "error", "trace", "limit", "synced", "paused", "resumed",
)  # fmt: skip
OWNER_EVENTS = ("output", "limit", "error", "exit")

TRACE_KINDS = (
    "connect", "accept", "reject", "receive", "send", "close", "disconnect",
    "group_add", "group_discard", "group_send", "handler", "exception", "output", "note",
)  # fmt: skip
# Calls a paused run holds (a subset of TRACE_KINDS), and why a held call went on.
PAUSE_KINDS = (
    "connect", "receive", "disconnect", "handler", "accept", "send", "close", "group_add", "group_discard", "group_send",
)  # fmt: skip
RESUMED_BY = ("step", "unpause", "cancelled")
# `topic` of a `note` trace row: which diagnostic wrote it (see diagnose.py).
NOTE_TOPICS = (
    "pending_handshake", "unawaited", "await_without_call", "await_sync_result", "not_called", "blocking",
    "group_send_type", "group_send_handler", "send_before_accept",
)  # fmt: skip
STATES = ("none", "connecting", "accepted", "open", "closing", "closed")
LIMIT_NAMES = (
    "cpu", "memory", "output", "time", "idle", "events", "processes", "file_size", "message_size", "clients", "code_size",
)  # fmt: skip
EXIT_REASONS = ("stopped", "error", "limit", "protocol", "crashed", "start_failed")

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
MAX_PATH = 2048
MAX_HEADERS = 32
MAX_HEADER_CHARS = 1024
MAX_SUBPROTOCOLS = 8
# Truncation applied by the harness so that one event stays small.
MAX_TRACEBACK_CHARS = 8000
MAX_MESSAGE_CHARS = 1000
MAX_VARS = 24
MAX_VAR_CHARS = 120
MAX_WORDS_CHARS = 400


class ProtocolViolation(ValueError):
    """A line from the sandbox that is not a valid event; it ends the run."""


def message_bytes(op: dict[str, Any]) -> int:
    """Size of the WebSocket payload an op or event carries (text as UTF-8, bytes decoded)."""
    if isinstance(op.get("text"), str):
        return len(op["text"].encode("utf-8", "surrogatepass"))
    if isinstance(op.get("bytes"), str):
        return len(op["bytes"]) * 3 // 4
    return 0


def check_client_op(op: dict[str, Any], max_message_bytes: int) -> str | None:
    """Why a client operation from the owner's caller is invalid (None when it is fine)."""
    client = op.get("client")
    if not isinstance(client, str) or not CLIENT_ID.match(client):
        return "client must be 1-32 letters, digits, '.', '_' or '-'"
    kind = op["op"]
    if kind == "connect":
        path = op.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH:
            return f"path must be a string starting with '/' of at most {MAX_PATH} characters"
        if not isinstance(op.get("query", ""), str) or len(op.get("query", "")) > MAX_PATH:
            return f"query must be a string of at most {MAX_PATH} characters"
        headers = op.get("headers", [])
        if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
            return f"headers must be a list of at most {MAX_HEADERS} [name, value] pairs"
        for pair in headers:
            if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                return "each header must be a [name, value] pair of strings"
            if sum(len(x) for x in pair) > MAX_HEADER_CHARS:
                return f"a header may hold at most {MAX_HEADER_CHARS} characters"
        subprotocols = op.get("subprotocols", [])
        if not isinstance(subprotocols, list) or len(subprotocols) > MAX_SUBPROTOCOLS:
            return f"subprotocols must be a list of at most {MAX_SUBPROTOCOLS} strings"
        if not all(isinstance(s, str) and 0 < len(s) <= 128 for s in subprotocols):
            return "each subprotocol must be a non-empty string of at most 128 characters"
        user = op.get("user")
        if user is not None and not isinstance(user, dict):
            return "user must be an object or null"
        if user and len(json.dumps(user, default=str)) > MAX_HEADER_CHARS:
            return f"user may hold at most {MAX_HEADER_CHARS} characters of JSON"
    elif kind == "receive":
        has_text, has_bytes = "text" in op, "bytes" in op
        if has_text == has_bytes:
            return "receive needs exactly one of text or bytes"
        if has_text and not isinstance(op["text"], str):
            return "text must be a string"
        if has_bytes:
            try:
                base64.b64decode(op["bytes"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                return "bytes must be base64"
        size = message_bytes(op)
        if size > max_message_bytes:
            return f"message is {size} bytes; the playground accepts at most {max_message_bytes} bytes"
    elif kind == "disconnect":
        code = op.get("code", 1000)
        if not isinstance(code, int) or isinstance(code, bool) or not 1000 <= code <= 4999:
            return "code must be an integer between 1000 and 4999"
    return None


def check_control_op(op: dict[str, Any], paused: bool) -> str | None:
    """Why a pause/step operation is invalid (None when it is fine); a step only makes sense while paused."""
    if op["op"] == "pause" and not isinstance(op.get("on"), bool):
        return "pause needs on: true or false"
    if op["op"] == "step" and not paused:
        return "step only works while pause is on"
    return None


CLIENT_OP_FIELDS = {
    "connect": ("client", "path", "query", "headers", "subprotocols", "user"),
    "receive": ("client", "text", "bytes"),
    "disconnect": ("client", "code"),
}


def clean_client_op(op: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the harness understands, so nothing else reaches the sandbox."""
    return {"op": op["op"], **{key: op[key] for key in CLIENT_OP_FIELDS[op["op"]] if key in op}}


def clean_control_op(op: dict[str, Any]) -> dict[str, Any]:
    """pause/step with only their own fields."""
    return {"op": "pause", "on": op["on"]} if op["op"] == "pause" else {"op": "step"}


def _is(value: Any, kinds: tuple[type, ...]) -> bool:
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


_STR = (str,)
_OPT_STR = (str, type(None))
_INT = (int,)
_OPT_INT = (int, type(None))
_NUM = (int, float)
_BOOL = (bool,)
_LIST = (list,)
_DICT = (dict,)
# ev -> {field: (allowed types, required)}
EVENT_FIELDS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "ready": {"preload": (_STR, False), "python": (_STR, False)},
    "loaded": {"mode": (_STR, True), "consumers": (_LIST, True), "routes": (_LIST, True)},
    "accept": {"client": (_STR, True), "subprotocol": (_OPT_STR, False), "headers": (_LIST, False)},
    "send": {"client": (_STR, True), "text": (_STR, False), "bytes": (_STR, False)},
    "close": {"client": (_STR, True), "code": (_INT, True), "reason": (_STR, False), "by": (_STR, True)},
    "reject": {"client": (_STR, True), "status": (_INT, True)},
    "error": {
        "client": (_OPT_STR, False),
        "method": (_OPT_STR, False),
        "message": (_STR, True),
        "traceback": (_OPT_STR, False),
        "line": (_OPT_INT, False),
    },
    "trace": {
        "step": (_INT, True),
        "t": (_NUM, True),
        "client": (_OPT_STR, False),
        "kind": (_STR, True),
        "method": (_OPT_STR, False),
        "line": (_OPT_INT, False),
        "action": (_STR, True),
        "evaluation": (_STR, True),
        "result": (_STR, True),
        "state": (_STR, True),
        "vars": (_DICT, True),
        "groups": (_LIST, True),
        "topic": (_STR, False),
    },
    "limit": {"what": (_STR, True), "detail": (_STR, False)},
    "synced": {"id": (_STR, True), "idle": (_BOOL, True)},
    "paused": {
        "id": (_INT, True),
        "client": (_OPT_STR, True),
        "kind": (_STR, True),
        "method": (_OPT_STR, False),
        "line": (_OPT_INT, False),
        "action": (_STR, True),
        "step": (_INT, True),
        "waiting": (_INT, True),
    },
    "resumed": {"id": (_INT, True), "by": (_STR, True), "waiting": (_INT, True)},
}


def sanitize_event(raw: Any, known_clients: set[str] | frozenset[str]) -> dict[str, Any]:
    """Rebuild a sandbox event from its allowed fields, or raise ProtocolViolation."""
    if not isinstance(raw, dict):
        raise ProtocolViolation("event is not a JSON object")
    ev = raw.get("ev")
    if ev not in EVENT_FIELDS:
        raise ProtocolViolation(f"unknown event {str(ev)[:40]!r}")
    clean: dict[str, Any] = {"ev": ev}
    for field, (kinds, required) in EVENT_FIELDS[ev].items():
        if field not in raw:
            if required:
                raise ProtocolViolation(f"{ev} event lacks {field}")
            continue
        if not _is(raw[field], kinds):
            raise ProtocolViolation(f"{ev}.{field} has the wrong type")
        clean[field] = raw[field]
    client = clean.get("client")
    if client is not None and client not in known_clients:
        raise ProtocolViolation(f"{ev} event names unknown client {str(client)[:40]!r}")
    if ev == "send" and ("text" in clean) == ("bytes" in clean):
        raise ProtocolViolation("send event needs exactly one of text or bytes")
    if ev == "close" and clean["by"] not in ("server", "client"):
        raise ProtocolViolation("close.by must be server or client")
    if ev == "limit" and clean["what"] not in LIMIT_NAMES:
        raise ProtocolViolation("limit.what is not a known limit")
    if ev == "loaded" and not all(isinstance(x, str) for x in clean["consumers"] + clean["routes"]):
        raise ProtocolViolation("loaded lists must hold strings")
    if ev == "accept" and "headers" in clean:
        if not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in clean["headers"]
        ):
            raise ProtocolViolation("accept.headers must be [name, value] string pairs")
    if ev == "paused" and (clean["kind"] not in PAUSE_KINDS or len(clean["action"]) > MAX_WORDS_CHARS):
        raise ProtocolViolation("paused.kind is not a call a run can hold, or its action is too long")
    if ev == "resumed" and clean["by"] not in RESUMED_BY:
        raise ProtocolViolation("resumed.by is not step, unpause or cancelled")
    if ev == "trace":
        if clean["kind"] not in TRACE_KINDS or clean["state"] not in STATES:
            raise ProtocolViolation("trace kind or state is not a known value")
        if "topic" in clean and (clean["kind"] != "note" or clean["topic"] not in NOTE_TOPICS):
            raise ProtocolViolation("trace.topic is only for notes, and must be a known topic")
        if len(clean["vars"]) > MAX_VARS + 4 or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in clean["vars"].items()
        ):
            raise ProtocolViolation("trace.vars must map names to strings")
        if not all(isinstance(g, str) for g in clean["groups"]):
            raise ProtocolViolation("trace.groups must hold strings")
    return clean
