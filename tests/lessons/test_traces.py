"""Lesson traces are recorded in the sandbox, and a trace whose starter or script changed is caught as stale."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from lessons.catalogue import get_catalogue
from lessons.execution import trace_source
from lessons.trace_recording import is_current

TRACES = sorted(Path(settings.CONTENT_DIR, "traces").glob("*.json"))


@pytest.mark.parametrize("path", TRACES, ids=[p.stem for p in TRACES])
def test_recorded_trace_is_current(path):
    trace = json.loads(path.read_text())
    assert is_current(Path(settings.CONTENT_DIR), trace), (
        f"{path.name} is stale: run `manage.py record_traces {path.stem}`"
    )


@pytest.fixture
def content_copy(tmp_path, settings):
    copy = tmp_path / "content"
    shutil.copytree(settings.CONTENT_DIR, copy)
    settings.CONTENT_DIR = copy
    return copy


def test_record_traces_runs_the_starter_in_the_sandbox(content_copy):
    call_command("record_traces", "consumer-lifecycle-echo")
    trace = json.loads((content_copy / "traces" / "consumer-lifecycle-echo.json").read_text())
    assert [event["kind"] for event in trace["events"]] == ["connect", "accept", "receive", "send", "disconnect"]
    assert [event["state"] for event in trace["events"]] == ["none", "accepted", "open", "open", "closed"]
    assert is_current(content_copy, trace)


def test_record_traces_check_names_stale_traces(content_copy):
    starter = content_copy / "starters" / "echo.py"
    starter.write_text(starter.read_text() + "\n# changed\n")
    with pytest.raises(CommandError, match="stale traces.*consumer-lifecycle-echo.json"):
        call_command("record_traces", "--check")


def test_record_traces_unknown_name_is_an_error(content_copy):
    with pytest.raises(CommandError, match="no trace named nope"):
        call_command("record_traces", "nope")


@pytest.mark.parametrize("topic", [t for t in get_catalogue().topics if t.trace], ids=lambda t: t.slug)
def test_every_trace_is_shown_beside_the_code_its_rows_point_at(topic):
    """The step-through highlights each row's line in the trace's starter: the line must be in that code."""
    source = trace_source(topic.trace)
    lines = source.splitlines()
    assert lines, f"{topic.trace.name} names starter {topic.trace.starter!r}, which does not exist"
    for event in topic.trace.events:
        if event["line"] is None or 1 <= event["line"] <= len(lines):
            continue
        # Only a consumer of Channels' own (OriginValidator's WebsocketDenier) has a line elsewhere: not highlighted.
        library = re.search(r"instance of (\w+)", event["evaluation"])
        assert library and f"class {library.group(1)}" not in source, (topic.trace.name, event["step"], event["line"])
