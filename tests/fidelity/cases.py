"""Every consumer the course shows a learner, with a client script: each starter (with its lesson trace's script, or the
script its header comment describes) and each quiz `verify` block."""

from __future__ import annotations

import ast
import json
import re
import sys
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


FENCE = re.compile(r"^```python\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
ROUTE = re.compile(r"""\b(?P<kind>re_path|path)\(\s*r?["'](?P<route>[^"']*)["']""")
CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
GROUP = re.compile(r"\(\?P<\w+>(?P<pattern>[^()]*(?:\([^()]*\)[^()]*)*)\)")


def example_path(kind: str, route: str) -> str:
    """A path a client would use for a route: converters and named groups filled with a plausible value."""
    if kind == "path":
        filled = CONVERTER.sub(lambda m: "42" if m["converter"] == "int" else "lobby", route)
    else:
        filled = GROUP.sub(lambda m: "42" if "\\d" in m["pattern"] or "0-9]" in m["pattern"] else "lobby", route)
        filled = filled.removeprefix("^").removesuffix("$").replace("\\", "")
    return "/" + filled.lstrip("/")


PLAYGROUND_PACKAGES = {"django", "channels", "asgiref"}


def playground_importable(code: str) -> bool:
    """Does the module import only what the playground offers (the standard library, Django, Channels)?"""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True  # both sides report it
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    tops = {name.split(".")[0] for name in names}
    return tops <= set(sys.stdlib_module_names) | PLAYGROUND_PACKAGES


def lesson_cases() -> list[Case]:
    """Each complete consumer module a lesson shows (a fenced Python block with imports and a consumer class, not
    marked as a fragment), played with a plain script: a client per route (or one, for a module with a single consumer
    and no routes) sends a word and a JSON object, then leaves."""
    cases = []
    for path in sorted((CONTENT / "topics").glob("*/*.md")):
        for number, found in enumerate(FENCE.finditer(path.read_text(encoding="utf-8")), 1):
            code = found["code"]
            first = code.lstrip().splitlines()[0] if code.strip() else ""
            consumers = re.findall(r"^class \w+\(.*Consumer\):", code, re.MULTILINE)
            routes = (
                ROUTE.finditer(code.split("websocket_urlpatterns", 1)[1]) if "websocket_urlpatterns" in code else None
            )
            if "fragment" in first.lower() or "import" not in code or not consumers:
                continue
            if not playground_importable(code):
                continue  # the playground refuses other packages, and says so; nothing to compare
            if routes is None and len(consumers) != 1:
                continue  # several consumers and no routes: neither the playground nor a project can tell which runs
            script: list[dict[str, Any]] = []
            for index, route in enumerate(routes or [], 1):
                client = f"c{index}"
                script += [
                    connect(client, example_path(route["kind"], route["route"])),
                    send(client, "hello"),
                    send(client, '{"message": "hi", "text": "hi", "type": "chat"}'),
                    close(client),
                ]
            if routes is None:  # one consumer: the playground runs it on every path, and so does the project
                script = [
                    connect("c1", "/ws/lesson/"),
                    send("c1", "hello"),
                    send("c1", '{"message": "hi"}'),
                    close("c1"),
                ]
            if script:
                name = case_name(f"lesson_{path.parent.name}_{path.stem}_{number}")
                cases.append(Case(name, code, tuple(script), f"{path.relative_to(ROOT)} (block {number})"))
    return cases
