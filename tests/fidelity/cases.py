"""Every consumer the course shows a learner, with a client script: each starter (with its lesson trace's script, or the
script its header comment describes) and each quiz `verify` block."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import ROOT
from tests.fidelity.harness import Case

CONTENT = ROOT / "content"
NOT_PLAYABLE = {"pause", "step"}  # the playground's own controls: Daphne has nothing like them


def connect(client: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "client.connect", "client": client, "path": path, **extra}


def send(client: str, text: str) -> dict[str, Any]:
    return {"type": "client.send", "client": client, "text": text}


def close(client: str, code: int = 1000) -> dict[str, Any]:
    return {"type": "client.close", "client": client, "code": code}


ANA = {"username": "ana", "id": 3}
# Starters no lesson trace plays: the script their header comment tells the learner to try.
STARTER_SCRIPTS: dict[str, tuple[dict[str, Any], ...]] = {
    "json_consumer": (
        connect("c1", "/ws/calc/"),
        send("c1", '{"op": "add", "a": 2, "b": 3}'),
        send("c1", '{"op": "pow", "a": 2, "b": 3}'),
        send("c1", "not json"),
        close("c1"),
    ),
    "json_reply": (
        connect("c1", "/ws/reply/"),
        send("c1", "hello"),
        {"type": "client.send", "client": "c1", "bytes": "AAE="},
        close("c1"),
    ),
    "reject_unauthenticated": (
        connect("c1", "/ws/private/", query="token=letmein", user=ANA),
        connect("c2", "/ws/private/", query="token=letmein"),
        connect("c3", "/ws/private/", query="token=wrong", user=ANA),
    ),
    "sync_chat": (
        connect("c1", "/ws/sync-chat/lobby/"),
        connect("c2", "/ws/sync-chat/lobby/"),
        send("c1", "hi"),
        close("c2"),
        send("c1", "still here"),
    ),
}


def case_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def starter_cases() -> list[Case]:
    scripts = dict(STARTER_SCRIPTS)
    for trace_path in sorted((CONTENT / "traces").glob("*.json")):
        trace = json.loads(trace_path.read_text(encoding="utf-8"))
        scripts.setdefault(trace["starter"], tuple(trace["script"]))
    cases = []
    for path in sorted((CONTENT / "starters").glob("*.py")):
        if path.stem not in scripts:
            raise LookupError(f"{path}: no script plays this starter; add one to STARTER_SCRIPTS")
        source = str(path.relative_to(ROOT))
        cases.append(
            Case(case_name(f"starter_{path.stem}"), path.read_text(encoding="utf-8"), scripts[path.stem], source)
        )
    return cases


def quiz_cases() -> list[Case]:
    """Each verify block whose script a real client can play (pause and step are the playground's alone)."""
    from quizzes.bank import get_bank

    cases = []
    for question_id, question in sorted(get_bank().questions.items()):
        block = question.verify
        if block is None:
            continue
        script = tuple(dict(op) for op in block["script"])
        if any(op.get("type") in NOT_PLAYABLE for op in script):
            continue
        cases.append(Case(case_name(f"quiz_{question_id}"), block["consumer"], script, f"quiz {question_id}"))
    return cases
