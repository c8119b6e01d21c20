"""Trace events are self-contained rows: kind, method, learner line, words, state, vars, groups."""

from __future__ import annotations

import json

import pytest

from playground.sandbox import run_script
from playground.sandbox.shared import protocol

from . import consumers
from .support import FAST, close, connect, text, traces

pytestmark = pytest.mark.asyncio(loop_scope="session")

FIELDS = {"type", *protocol.TRACE_FIELDS} - {"topic"}  # only notes carry a topic


async def test_trace_events_have_every_field_and_increasing_steps():
    events = await run_script(
        consumers.CHAT, [connect("a", "/ws/chat/x/"), text("a", json.dumps({"message": "m"}))], FAST
    )
    rows = traces(events)
    assert rows
    for row in rows:
        assert set(row) == FIELDS
        assert row["kind"] in protocol.TRACE_KINDS and row["state"] in protocol.STATES
        assert row["action"] and row["evaluation"] and row["result"]
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)


async def test_trace_state_moves_through_the_connection_lifecycle():
    events = await run_script(consumers.ASYNC_COUNTER, [connect(), text("c1", "x"), close("c1")], FAST)
    rows = [(r["kind"], r["state"]) for r in traces(events)]
    # Seed 001's tracker: None, Accepted, Open, Open, Closed.
    assert rows == [
        ("connect", "none"),
        ("accept", "accepted"),
        ("receive", "open"),
        ("send", "open"),
        ("disconnect", "closed"),
    ]


async def test_calls_inside_connect_before_accept_see_a_connecting_socket():
    events = await run_script(consumers.SYNC_GROUPS, [connect("a")], FAST)
    states = {r["kind"]: r["state"] for r in traces(events)}
    assert (states["connect"], states["group_add"], states["accept"]) == ("none", "connecting", "accepted")


async def test_trace_lines_point_at_the_learner_source():
    events = await run_script(consumers.ASYNC_COUNTER, [connect(), text("c1", "x")], FAST)
    rows = {r["kind"]: r for r in traces(events)}
    assert (rows["connect"]["method"], rows["connect"]["line"]) == ("connect", 5)
    assert (rows["accept"]["method"], rows["accept"]["line"]) == ("connect", 8)
    assert (rows["receive"]["method"], rows["receive"]["line"]) == ("receive", 10)
    assert (rows["send"]["method"], rows["send"]["line"]) == ("receive", 12)


async def test_trace_lines_found_in_sync_consumers_worker_thread():
    events = await run_script(consumers.SYNC_GROUPS, [connect("a"), text("a", "hi")], FAST)
    rows = {r["kind"]: r for r in traces(events)}
    assert (rows["group_add"]["method"], rows["group_add"]["line"]) == ("connect", 7)
    assert (rows["group_send"]["method"], rows["group_send"]["line"]) == ("receive", 11)
    assert (rows["send"]["method"], rows["send"]["line"]) == ("broadcast", 14)
    assert rows["handler"]["method"] == "broadcast"


async def test_trace_vars_first_seen_order_without_channels_internals():
    events = await run_script(consumers.ASYNC_COUNTER, [connect(), text("c1", "x")], FAST)
    last = traces(events)[-1]["vars"]
    assert list(last)[:2] == ["channel_name", "path"]
    assert list(last)[2:] == ["count", "name"]
    assert last["count"] == "1" and last["name"] == "'counter'"
    assert not {"scope", "channel_layer", "base_send", "channel_receive", "groups"} & set(last)


async def test_trace_vars_are_truncated():
    code = consumers.ASYNC_COUNTER.replace('self.name = "counter"', 'self.name = "z" * 5000')
    events = await run_script(code, [connect()], FAST)
    value = traces(events)[-1]["vars"]["name"]
    assert len(value) <= protocol.MAX_VAR_CHARS and value.endswith("…")


async def test_trace_groups_follow_membership():
    events = await run_script(consumers.SYNC_GROUPS, [connect("a"), close("a")], FAST)
    assert traces(events, "group_add")[0]["groups"] == ["everyone"]
    assert traces(events, "group_discard")[0]["groups"] == []


async def test_trace_reject_and_exception_kinds():
    rejected = await run_script(consumers.DENY, [connect()], FAST)
    assert traces(rejected, "reject")
    broken = await run_script(consumers.RAISES_IN_RECEIVE, [connect(), text("c1", "nope")], FAST)
    assert traces(broken, "exception")[0]["method"] == "receive"
