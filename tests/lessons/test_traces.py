"""Lesson traces are recorded in the sandbox, and a trace whose starter or script changed is caught as stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

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
