"""`python -m playground.protocol_js > static/js/protocol.js`: the run protocol's names for the browser, from protocol.py.

The generated module is committed; tests/playground/test_protocol_js.py fails when it differs from this output.
"""

from __future__ import annotations

import json
import sys

from playground.sandbox.shared import protocol

# The message names the browser sends or receives on the page and watch sockets.
MESSAGE_NAMES = (
    "RUN", "STOP", "PAUSE", "STEP", "CLIENT_CONNECT", "CLIENT_SEND", "CLIENT_CLOSE",
    "STATUS", "LIVE", "EVENTS", "BATCH", "OUTPUT", "ERROR", "PAUSED", "RESUMED", "ATTACH", "ATTACHED",
    "CONSUMER_ACCEPT", "CONSUMER_SEND", "CONSUMER_CLOSE", "CONSUMER_REJECT", "CONSUMER_DROP",
)  # fmt: skip


def frozen(value: object) -> str:
    return f"Object.freeze({json.dumps(value)})"


def module_text() -> str:
    """The whole ES module, deterministic so a test can compare it with the committed file."""
    lines = [
        "// Generated from playground/sandbox/shared/protocol.py by",
        "// `python -m playground.protocol_js > static/js/protocol.js`; do not edit by hand.",
        "",
        "// Message types (`type`), the same in every layer.",
    ]
    lines += [f"export const {name} = {json.dumps(getattr(protocol, name))};" for name in MESSAGE_NAMES]
    lines += [
        "",
        "// A run's `status` states, a client's connection states in trace rows and their labels, trace row kinds.",
        f"export const RUN_STATE = {frozen({state.upper(): state for state in protocol.RUN_STATES})};",
        f"export const STATE_LABELS = {frozen(protocol.STATE_LABELS)};",
        f"export const KIND = {frozen({kind.upper(): kind for kind in protocol.TRACE_KINDS})};",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(module_text())
