"""Stops in content/predictions/: every lesson trace has some, and a stop that names no step or a wrong field fails
`manage.py check` with its file, line and field."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from lessons.catalogue import CatalogueError, get_catalogue, load_catalogue
from predictions.content import get_stops, load_stops

ROOT = Path(__file__).resolve().parents[2]
ECHO = "consumer-lifecycle-echo"  # steps: 1 connect, 2 accept, 3 receive, 4 send, 5 disconnect (code 1000)


def test_every_lesson_execution_page_has_stops_that_load():
    stops = get_stops()
    for topic in get_catalogue().topics:
        if topic.trace is not None and "execution" in topic.modes:
            assert stops.get(topic.trace.name), f"{topic.slug}: no stops in content/predictions/{topic.trace.name}.yaml"


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    """A copy of the real content with an empty content/predictions/ to write stops into (rendered once)."""
    copy = tmp_path_factory.mktemp("stops") / "content"
    shutil.copytree(ROOT / "content", copy, ignore=shutil.ignore_patterns("predictions"))
    (copy / "predictions").mkdir()
    return copy


@pytest.fixture(scope="module")
def catalogue(content):
    return load_catalogue(content)


def errors_for(content: Path, catalogue, text: str, name: str = ECHO) -> list[str]:
    path = content / "predictions" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_stops(content, catalogue)
    except CatalogueError as error:
        return [str(found) for found in error.errors]
    finally:
        path.unlink()
    return []


def test_valid_stops_load_in_step_order(content, catalogue):
    text = "stops:\n- step: 4\n- step: 2\n  ask: state\n  answer: short\n"  # no ask: what fits the row
    assert errors_for(content, catalogue, text) == []
    (content / "predictions" / f"{ECHO}.yaml").write_text(text, encoding="utf-8")
    stops = load_stops(content, catalogue)[ECHO]
    (content / "predictions" / f"{ECHO}.yaml").unlink()
    assert [(stop.step, stop.ask, stop.answer_form) for stop in stops] == [
        (2, "state", "short"),
        (4, "frame", "choice"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stops:\n- step: 42\n  ask: state\n", ":2: stops[0].step: 42 names no step of the trace (steps 1 to 5)"),
        ("stops:\n- step: two\n  ask: state\n", ":2: stops[0].step: 'two' names no step of the trace"),
        ("stops:\n- step: 1\n  ask: state\n", ":2: stops[0].step: the first step has no step before it to stop on"),
        ("stops:\n- step: 2\n  ask: colour\n", ":3: stops[0].ask: must be one of handler, frame, state"),
        ("stops:\n- step: 2\n  ask: state\n  colour: red\n", ":4: stops[0].colour: unknown key"),
        ("stops:\n- step: 3\n  ask: frame\n", ":3: stops[0].ask: step 3 is a receive row; ask: frame needs a send row"),
        ("stops:\n- step: 4\n  ask: handler\n", ":3: stops[0].ask: step 4 is a send row; ask: handler needs"),
        ("stops:\n- step: 2\n  ask: close_code\n", ":3: stops[0].ask: step 2 is a accept row that names no close code"),
        ("stops:\n- step: 3\n  ask: variable\n  variable: sent\n", ":3: stops[0].ask: step 3 has no variable 'sent'"),
        (
            "stops:\n- step: 3\n  ask: variable\n",
            ":2: stops[0].variable: name the variable exactly when ask is variable",
        ),
        ("stops:\n- step: 4\n  ask: frame\n  answer: short\n", ":4: stops[0].answer: a frame is a sentence"),
        ("stops:\n- step: 4\n  ask: frame\n  answer: maybe\n", ":4: stops[0].answer: must be one of choice, short"),
        (
            "stops:\n- step: 4\n  ask: frame\n  distractors: [\"c1 receives 'hello'\"]\n",
            ":4: stops[0].distractors: lists the real answer as a wrong one",
        ),
        ("stops:\n- step: 2\n  ask: state\n- step: 2\n  ask: state\n", ":4: stops[1].step: step 2 has a stop already"),
        ("stops: []\n", ":1: stops: must be a list of at least one stop"),
        ("steps:\n- step: 2\n", ":1: must be a mapping with one key, stops"),
    ],
)
def test_a_wrong_stop_is_reported_with_file_line_and_field(content, catalogue, text, expected):
    errors = errors_for(content, catalogue, text)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"content/predictions/{ECHO}.yaml"), errors
    assert expected in errors[0], errors


def test_a_stops_file_for_no_lesson_trace_is_an_error(content, catalogue):
    errors = errors_for(content, catalogue, "stops:\n- step: 2\n  ask: state\n", name="no-such-trace")
    assert errors == [
        "content/predictions/no-such-trace.yaml: no topic's execution mode uses a trace named 'no-such-trace'"
    ]


def test_the_echo_trace_is_the_one_these_tests_describe(content):
    trace = json.loads((content / "traces" / f"{ECHO}.json").read_text())
    assert [event["kind"] for event in trace["events"]] == ["connect", "accept", "receive", "send", "disconnect"]


def test_manage_py_check_fails_on_a_broken_stop(settings, content):
    (content / "predictions" / f"{ECHO}.yaml").write_text("stops:\n- step: 99\n  ask: state\n", encoding="utf-8")
    settings.CONTENT_DIR = content
    get_catalogue.cache_clear()
    try:
        with pytest.raises(SystemCheckError, match=r"predictions.E001.*stops\[0\]\.step: 99 names no step"):
            call_command("check", stdout=StringIO(), stderr=StringIO())
    finally:
        (content / "predictions" / f"{ECHO}.yaml").unlink()
        get_catalogue.cache_clear()
        get_stops.cache_clear()
