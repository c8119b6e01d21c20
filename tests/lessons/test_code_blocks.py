"""Every Python block in the lessons compiles; blocks marked `# runs in the playground` load in the real sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from playground.run.limits import run_limits
from playground.sandbox import run_script
from playground.sandbox_supply import sandbox_options

FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
RUNNABLE_MARK = "# runs in the playground"


def python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in sorted(Path(settings.CONTENT_DIR, "topics").glob("*/*.md")):
        for number, match in enumerate(FENCE.finditer(path.read_text()), start=1):
            blocks.append((f"{path.parent.name}/{path.name}#{number}", match.group(1)))
    return blocks


BLOCKS = python_blocks()
RUNNABLE = [(name, code) for name, code in BLOCKS if code.startswith(RUNNABLE_MARK)]


@pytest.mark.parametrize(("name", "code"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_lesson_code_block_compiles(name, code):
    compile(code, name, "exec")


@pytest.mark.parametrize(("name", "code"), RUNNABLE, ids=[name for name, _ in RUNNABLE])
async def test_marked_lesson_code_block_loads_in_the_sandbox(name, code):
    events = await run_script(code, [], run_limits(), 20, options=sandbox_options())
    kinds = [event["type"] for event in events]
    assert "loaded" in kinds, [e for e in events if e["type"] in ("error", "exit")]
    assert not [e for e in events if e["type"] == "error"]


STARTERS = sorted(Path(settings.CONTENT_DIR, "starters").glob("*.py"))


@pytest.mark.parametrize("path", STARTERS, ids=[p.stem for p in STARTERS])
async def test_starter_answers_a_client_on_its_default_path(path):
    from playground.starters import read_starter

    starter = read_starter(path)
    query = "token=letmein" if "token=" in starter.summary else ""
    ops = [
        {
            "type": "client.connect",
            "client": "c1",
            "path": starter.default_path,
            "query": query,
            "user": {"id": 1, "username": "ada"},
        }
    ]
    events = await run_script(starter.code, ops, run_limits(), 20, options=sandbox_options())
    answered = [
        e["type"]
        for e in events
        if e.get("client") == "c1" and e["type"] in ("consumer.accept", "consumer.reject", "consumer.close")
    ]
    assert answered, [e for e in events if e["type"] != "trace"]
    assert not [e for e in events if e["type"] == "error"], [e for e in events if e["type"] == "error"]
