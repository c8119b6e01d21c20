"""static/js/protocol.js is what `python -m playground.protocol_js` generates, and the pages use it for names."""

from __future__ import annotations

import re
from pathlib import Path

from playground.protocol_js import module_text
from playground.sandbox.shared import protocol

JS = Path(__file__).resolve().parents[2] / "static" / "js"


def test_committed_protocol_js_is_what_the_generator_writes():
    committed = (JS / "protocol.js").read_text(encoding="utf-8")
    assert committed == module_text(), "run `python -m playground.protocol_js > static/js/protocol.js` and commit it"


def test_page_scripts_write_no_protocol_name_as_a_literal():
    names = {*protocol.CLIENT_OPS, *protocol.CONSUMER_EVENTS, *protocol.STATE_LABELS.values()}
    for path in [*JS.glob("*.js"), *JS.glob("playground/*.js")]:
        if path.name == "protocol.js":
            continue
        literals = set(re.findall(r'"([^"\n]*)"', path.read_text(encoding="utf-8")))
        assert not literals & names, f"{path.name} spells {sorted(literals & names)}; import them from protocol.js"
