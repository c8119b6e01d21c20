"""An execution page's `{step N: key=value}` claims are rendered as words and must agree with the recorded trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from lessons.catalogue import get_catalogue, load_catalogue, step_claims

from .test_catalogue import EVENT, content, errors_of  # noqa: F401 - `content` is the fixture used below

CLOSE = {
    **EVENT,
    "step": 2,
    "kind": "disconnect",
    "state": "closed",
    "action": "the connection of c1 is closed (code 1000)",
}
REJECT = {
    **EVENT,
    "step": 3,
    "kind": "reject",
    "state": "closed",
    "evaluation": "refuses with HTTP 403",
    "vars": {"n": "2"},
}


def test_a_marker_reads_as_words():
    text = "Step 1 {step 1: state=none} then {step 2: code=1000, state=closed} and {step 3: status=403, n=2}."
    assert step_claims.render(text) == (
        "Step 1 (step 1: state None) then (step 2: close code 1000, state Closed) and (step 3: HTTP 403, n 2)."
    )


def test_claims_that_agree_with_the_trace_pass():
    text = "{step 1: state=connecting, kind=connect, line=3}\n{step 2: code=1000}\n{step 3: status=403, n=2}"
    assert step_claims.check(text, [EVENT, CLOSE, REJECT]) == []


def test_each_claim_the_trace_contradicts_is_named_with_its_line():
    text = "intro\n{step 1: state=none}\n{step 2: code=4321} and {step 9: state=open}\n{step 3: n=3, nonsense}"
    assert step_claims.check(text, [EVENT, CLOSE, REJECT]) == [
        (2, "step 1 claims state=none, but the recorded trace has connecting"),
        (3, "step 2 claims code=4321, but the recorded trace has 1000"),
        (3, "step 9 is not in the recorded trace"),
        (4, "step 3 claims n=3, but the recorded trace has 2"),
        (4, "step 3: 'nonsense' is not a key=value claim"),
    ]
    assert step_claims.check("{step 1: close_code=1000}", [EVENT]) == [
        (1, "step 1 claims close_code=1000, but the recorded trace has None")  # a tracker variable it never had
    ]


def test_a_lesson_contradicting_its_trace_fails_the_catalogue(content):  # noqa: F811 - the fixture
    execution = content / "topics" / "01-alpha" / "execution.md"
    execution.write_text("## Steps\n\nAt step 1 the state is connecting {step 1: state=open}.\n")
    assert (
        "content/topics/01-alpha/execution.md:3: step claim: step 1 claims state=open, but the recorded trace has "
        "connecting" in errors_of(content)
    )
    execution.write_text("## Steps\n\nAt step 1 the state is connecting {step 1: state=connecting}.\n")
    assert load_catalogue(content).get("alpha") is not None


@pytest.mark.parametrize("topic", ["03-consumer-lifecycle", "07-closing", "10-chat-room"])
def test_the_corrected_lessons_carry_claims_and_render_them_as_words(topic):
    text = (Path(settings.CONTENT_DIR) / "topics" / topic / "execution.md").read_text(encoding="utf-8")
    assert step_claims.MARKER.search(text)
    page = get_catalogue().get(topic.split("-", 1)[1]).modes["execution"]
    assert "{step" not in page.html and "(step " in page.html


def test_the_lifecycle_lesson_no_longer_says_connecting_at_step_1():
    text = (Path(settings.CONTENT_DIR) / "topics" / "03-consumer-lifecycle" / "execution.md").read_text()
    assert 'state "connecting" at step 1' not in text and "{step 1: state=none}" in text
