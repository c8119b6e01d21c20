"""The run protocol's vocabulary, defined once: every message name and its fields, the trace row, connection
states, exit statuses and close-code meanings, and the checks applied at the host's trust boundary (stdlib only).

Every layer (browser <-> page socket, host <-> inside JSON lines, the channel layer) keys a message by `type`.
Client traffic is named after what happens on the WebSocket, identically in every layer: a client connects,
sends a frame, closes (`client.*`); the consumer accepts, sends, closes or rejects it (`consumer.*`).
static/js/protocol.js is generated from this module (`python -m playground.protocol_js`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

# What a client does to the consumer: browser -> page -> host -> inside, and live proxy -> run owner.
CLIENT_CONNECT = "client.connect"
CLIENT_SEND = "client.send"
CLIENT_CLOSE = "client.close"
# What the consumer does to a client: inside -> host -> page, and run owner -> live proxy.
CONSUMER_ACCEPT = "consumer.accept"
CONSUMER_SEND = "consumer.send"
CONSUMER_CLOSE = "consumer.close"  # `by: "client"` when the server answers a client's close frame
CONSUMER_REJECT = "consumer.reject"  # an HTTP answer to the handshake: 403 (close() before accept()) or 500
CONSUMER_DROP = "consumer.drop"  # no answer at all: the server's handshake timeout closed the TCP connection
CLIENT_OPS = (CLIENT_CONNECT, CLIENT_SEND, CLIENT_CLOSE)
CONSUMER_EVENTS = (CONSUMER_ACCEPT, CONSUMER_SEND, CONSUMER_CLOSE, CONSUMER_REJECT, CONSUMER_DROP)

# Host -> inside operations besides client traffic.
LOAD = "load"
SYNC = "sync"
STOP = "stop"
PAUSE = "pause"  # {"type": "pause", "on": bool}: every Channels call waits at a gate
STEP = "step"  # lets the oldest waiting call go on
CONTROL_OPS = (PAUSE, STEP)
OPS = (LOAD, *CLIENT_OPS, *CONTROL_OPS, SYNC, STOP)

# Inside -> host events, and the ones only the host may produce.
READY = "ready"
LOADED = "loaded"
ERROR = "error"
TRACE = "trace"
LIMIT = "limit"
SYNCED = "synced"
PAUSED = "paused"
RESUMED = "resumed"
OUTPUT = "output"
EXIT = "exit"
SANDBOX_EVENTS = (READY, LOADED, *CONSUMER_EVENTS, ERROR, TRACE, LIMIT, SYNCED, PAUSED, RESUMED)
HOST_EVENTS = (OUTPUT, LIMIT, ERROR, EXIT)

# Browser <-> page socket names besides the above (the page also gets `consumer.*`, `output`, `error`, `paused`...).
RUN = "run"
STATUS = "status"  # {"state": "starting" | "running" | "stopped", "reason", "replay"?}
LIVE = "live"  # {"url"}: the run's live endpoint
EVENTS = "events"  # {"events": [trace rows]}
BATCH = "batch"  # {"messages": [page messages]}: a flood, in order
ATTACH = "attach"  # {"run"}: a reloaded page asks to show its run, still going, again
ATTACHED = "attached"  # {"run", "replay"}: it does; status, live URL and the trace so far follow
RUN_STATES = ("starting", "running", "stopped")

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
    "group_send_type", "group_send_handler", "send_before_accept", "loop_held",
)  # fmt: skip
# A client's connection state in trace rows, and how the visualizer and lessons label it.
STATE_LABELS = {
    "none": "None",
    "connecting": "Connecting",
    "accepted": "Accepted",
    "open": "Open",
    "closing": "Closing",
    "closed": "Closed",
}
STATES = tuple(STATE_LABELS)
LIMIT_NAMES = (
    "cpu", "memory", "output", "time", "idle", "events", "processes", "file_size", "message_size", "clients", "code_size",
)  # fmt: skip
EXIT_REASONS = ("stopped", "error", "limit", "protocol", "crashed", "start_failed")
# The harness's own process exit statuses (the host reads them in launch.describe_exit).
EXIT_OK = 0
EXIT_LOAD_ERROR = 3
EXIT_LIMIT = 4
EXIT_SETUP_FAILED = 5

CLOSE_CODES = {
    1000: "normal closure: the conversation ended on purpose",
    1001: "going away: the page was closed or the server is shutting down",
    1002: "protocol error: a peer broke the WebSocket rules",
    1003: "unsupported data: a peer got a kind of frame it cannot handle",
    1005: "no status: the close frame carried no code",
    1006: "abnormal closure: no close frame at all (the connection dropped, or the handshake was refused)",
    1007: "invalid data: a text frame was not valid UTF-8",
    1008: "policy violation",
    1009: "message too big",
    1011: "server error: the consumer raised an exception",
    403: "handshake refused (HTTP 403): close() or DenyConnection before accept(); a browser reports 1006",
    500: "handshake failed (HTTP 500): an exception before accept(); a browser reports 1006",
}


def close_meaning(code: Any, by: str = "server") -> str:
    """What a close code (or a refused handshake's HTTP status) means, in plain words; `by` says who chose it."""
    if code in CLOSE_CODES:
        return CLOSE_CODES[code]
    if isinstance(code, int) and 4000 <= code <= 4999:
        chooser = "the client chose it" if by == "client" else "your consumer chose it"
        return f"application-defined (4000-4999): {chooser}, so its meaning is yours to document"
    if isinstance(code, int) and 3000 <= code <= 3999:
        return "registered for libraries and frameworks (3000-3999)"
    return "not a standard close code"


CLIENT_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
MAX_PATH = 2048
MAX_HEADERS = 32
MAX_HEADER_CHARS = 1024
MAX_SUBPROTOCOLS = 8
MAX_SUBPROTOCOL_CHARS = 128
# Truncation applied by the harness so that one event stays small.
MAX_TRACEBACK_CHARS = 8000
MAX_MESSAGE_CHARS = 1000
MAX_VARS = 24
MAX_VAR_CHARS = 120
MAX_WORDS_CHARS = 400


class ProtocolViolation(ValueError):
    """A line from the sandbox that is not a valid event; it ends the run."""


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
_OPT_DICT = (dict, type(None))
Fields = dict[str, tuple[tuple[type, ...], bool]]  # field -> (allowed types, required)

# One trace row: what the harness writes, the host lets through, the Run row and content/traces/ keep.
TRACE_FIELDS: Fields = {
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
    "topic": (_STR, False),  # notes only
}
# The fields of every host <-> inside message besides `type`: ops the host writes, events it accepts.
FIELDS: dict[str, Fields] = {
    CLIENT_CONNECT: {
        "client": (_STR, True),
        "path": (_STR, False),
        "query": (_STR, False),
        "headers": (_LIST, False),
        "subprotocols": (_LIST, False),
        "user": (_OPT_DICT, False),
    },
    CLIENT_SEND: {"client": (_STR, True), "text": (_STR, False), "bytes": (_STR, False)},
    CLIENT_CLOSE: {"client": (_STR, True), "code": (_INT, False)},
    PAUSE: {"on": (_BOOL, True)},
    STEP: {},
    READY: {"preload": (_STR, False), "python": (_STR, False)},
    LOADED: {"mode": (_STR, True), "consumers": (_LIST, True), "routes": (_LIST, True)},
    CONSUMER_ACCEPT: {"client": (_STR, True), "subprotocol": (_OPT_STR, False), "headers": (_LIST, False)},
    CONSUMER_SEND: {"client": (_STR, True), "text": (_STR, False), "bytes": (_STR, False)},
    CONSUMER_CLOSE: {"client": (_STR, True), "code": (_INT, True), "reason": (_STR, False), "by": (_STR, True)},
    CONSUMER_REJECT: {"client": (_STR, True), "status": (_INT, True), "reason": (_STR, False)},
    CONSUMER_DROP: {"client": (_STR, True), "reason": (_STR, False)},
    ERROR: {
        "client": (_OPT_STR, False),
        "method": (_OPT_STR, False),
        "message": (_STR, True),
        "traceback": (_OPT_STR, False),
        "line": (_OPT_INT, False),
    },
    TRACE: TRACE_FIELDS,
    LIMIT: {"what": (_STR, True), "detail": (_STR, False)},
    SYNCED: {"id": (_STR, True), "idle": (_BOOL, True)},
    PAUSED: {
        "id": (_INT, True),
        "client": (_OPT_STR, True),
        "kind": (_STR, True),
        "method": (_OPT_STR, False),
        "line": (_OPT_INT, False),
        "action": (_STR, True),
        "step": (_INT, True),
        "waiting": (_INT, True),
    },
    RESUMED: {"id": (_INT, True), "by": (_STR, True), "waiting": (_INT, True)},
}


def trace_row(event: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a `trace` event (what the page, the Run row and content/traces/ keep)."""
    return {name: event[name] for name in TRACE_FIELDS if name in event}


def message_bytes(op: dict[str, Any]) -> int:
    """Size of the WebSocket payload an op or event carries (text as UTF-8, bytes decoded)."""
    if isinstance(op.get("text"), str):
        return len(op["text"].encode("utf-8", "surrogatepass"))
    if isinstance(op.get("bytes"), str):
        return len(op["bytes"]) * 3 // 4
    return 0


def _check_connect(op: dict[str, Any]) -> str | None:
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
    if not all(isinstance(s, str) and 0 < len(s) <= MAX_SUBPROTOCOL_CHARS for s in subprotocols):
        return f"each subprotocol must be a non-empty string of at most {MAX_SUBPROTOCOL_CHARS} characters"
    user = op.get("user")
    if user is not None and not isinstance(user, dict):
        return "user must be an object or null"
    if user and len(json.dumps(user, default=str)) > MAX_HEADER_CHARS:
        return f"user may hold at most {MAX_HEADER_CHARS} characters of JSON"
    return None


def _check_send(op: dict[str, Any], max_message_bytes: int) -> str | None:
    has_text, has_bytes = "text" in op, "bytes" in op
    if has_text == has_bytes:
        return "client.send needs exactly one of text or bytes"
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
    return None


def check_op(op: Any, max_message_bytes: int) -> str | None:
    """Why an operation for the sandbox is invalid (None when it is fine): the one check of an op's fields, made
    where an op enters from outside (the page socket, run_script); Sandbox.send then checks only the run's state."""
    kind = op.get("type") if isinstance(op, dict) else None
    if kind == PAUSE:
        return None if isinstance(op.get("on"), bool) else "pause needs on: true or false"
    if kind in (STEP, STOP):
        return None
    if kind not in CLIENT_OPS:
        return f"unknown operation {str(kind)[:40]!r}"
    client = op.get("client")
    if not isinstance(client, str) or not CLIENT_ID.match(client):
        return "client must be 1-32 letters, digits, '.', '_' or '-'"
    if kind == CLIENT_CONNECT:
        return _check_connect(op)
    if kind == CLIENT_SEND:
        return _check_send(op, max_message_bytes)
    code = op.get("code", 1000)
    if not isinstance(code, int) or isinstance(code, bool) or not 1000 <= code <= 4999:
        return "code must be an integer between 1000 and 4999"
    return None


def problem_limit(problem: str) -> str | None:
    """The limit a refused op ran into, if that is why check_op refused it."""
    return "message_size" if problem.startswith("message is ") else None


def clean_op(op: dict[str, Any]) -> dict[str, Any]:
    """A checked op with only the fields the harness understands, so nothing else reaches the sandbox."""
    return {"type": op["type"], **{key: op[key] for key in FIELDS[op["type"]] if key in op}}


def sanitize_event(raw: Any, known_clients: set[str] | frozenset[str]) -> dict[str, Any]:
    """Rebuild a sandbox event from its allowed fields, or raise ProtocolViolation."""
    if not isinstance(raw, dict):
        raise ProtocolViolation("event is not a JSON object")
    kind = raw.get("type")
    if kind not in SANDBOX_EVENTS:
        raise ProtocolViolation(f"unknown event {str(kind)[:40]!r}")
    clean: dict[str, Any] = {"type": kind}
    for field, (kinds, required) in FIELDS[kind].items():
        if field not in raw:
            if required:
                raise ProtocolViolation(f"{kind} event lacks {field}")
            continue
        if not _is(raw[field], kinds):
            raise ProtocolViolation(f"{kind}.{field} has the wrong type")
        clean[field] = raw[field]
    client = clean.get("client")
    if client is not None and client not in known_clients:
        raise ProtocolViolation(f"{kind} event names unknown client {str(client)[:40]!r}")
    if kind == CONSUMER_SEND and ("text" in clean) == ("bytes" in clean):
        raise ProtocolViolation("consumer.send event needs exactly one of text or bytes")
    if kind == CONSUMER_CLOSE and clean["by"] not in ("server", "client"):
        raise ProtocolViolation("consumer.close.by must be server or client")
    if kind == LIMIT and clean["what"] not in LIMIT_NAMES:
        raise ProtocolViolation("limit.what is not a known limit")
    if kind == LOADED and not all(isinstance(x, str) for x in clean["consumers"] + clean["routes"]):
        raise ProtocolViolation("loaded lists must hold strings")
    if kind == CONSUMER_ACCEPT and "headers" in clean:
        if not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in clean["headers"]
        ):
            raise ProtocolViolation("consumer.accept.headers must be [name, value] string pairs")
    if kind == PAUSED and (clean["kind"] not in PAUSE_KINDS or len(clean["action"]) > MAX_WORDS_CHARS):
        raise ProtocolViolation("paused.kind is not a call a run can hold, or its action is too long")
    if kind == RESUMED and clean["by"] not in RESUMED_BY:
        raise ProtocolViolation("resumed.by is not step, unpause or cancelled")
    if kind == TRACE:
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
