"""Claims about what Daphne does (its log lines, defaults, timeouts, checks) in lessons and quizzes carry a reference to
what backs them, and every reference resolves.

Markdown: `<!-- checked: REF -->` in the paragraph, list item or table row that makes the claim (a fenced block is
covered by the paragraph just before it). Quiz YAML: a comment `# checked: REF` anywhere in the question. REF is
`tests/fidelity/FILE.py::TEST` (a test that runs a real Daphne) or `PACKAGE/FILE.py:LINE` (a line of the installed
Daphne or Channels source); several are separated by commas.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CLAIM = re.compile(
    r"WSREJECT|WSDISCONNECT|WSCONNECT|daphne\.E00\d|never awaited|websocket_connect_timeout|handshake timeout"
    r"|Exception inside application|Daphne (logs|answers|refuses|drops|gives up)",
    re.IGNORECASE,
)
MARKER = re.compile(r"<!-- checked: (?P<refs>[^>\n]+?) -->|^\s*# checked: (?P<yaml>[^\n]+?)\s*$", re.MULTILINE)
SOURCE_REF = re.compile(r"^(?P<package>daphne|channels|autobahn)/(?P<path>[\w/]+\.py):(?P<line>\d+)$")
TEST_REF = re.compile(r"^(?P<path>tests/fidelity/\w+\.py)::(?P<name>\w+)$")
SITE_PACKAGES = next(Path(p) for p in sys.path if p.endswith("site-packages") and (Path(p) / "daphne").is_dir())


def markdown_blocks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each paragraph, list item, table row and fenced block; a fenced block gets the text of
    the paragraph before it too, since that is where its marker goes."""
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    fenced = False
    previous = ""

    def flush() -> None:
        nonlocal current, previous
        if current:
            body = "\n".join(current)
            blocks.append((start, body))
            previous = body
        current = []

    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if not fenced:
                flush()
                fenced, start, current = True, number, [previous, line]
            else:
                current.append(line)
                blocks.append((start, "\n".join(current)))
                fenced, current = False, []
            continue
        if fenced:
            current.append(line)
        elif not line.strip():
            flush()
        elif line.lstrip().startswith(("|", "- ", "* ")) or re.match(r" {0,3}\d{1,2}\. ", line):
            flush()
            start, current = number, [line]
        else:
            if not current:
                start = number
            current.append(line)
    flush()
    return blocks


def yaml_questions(text: str) -> list[tuple[int, str]]:
    starts = [m.start() for m in re.finditer(r"^  - id: ", text, re.MULTILINE)]
    return [(text.count("\n", 0, a) + 1, text[a:b]) for a, b in zip(starts, starts[1:] + [len(text)], strict=True)]


def claims_without_reference() -> list[str]:
    missing = []
    for path in sorted((ROOT / "content/topics").glob("*/*.md")):
        for line, block in markdown_blocks(path.read_text(encoding="utf-8")):
            if CLAIM.search(block) and not MARKER.search(block):
                missing.append(f"{path.relative_to(ROOT)}:{line}: {CLAIM.search(block)[0]}")  # type: ignore[index]
    for path in sorted((ROOT / "content/quizzes").glob("*.yaml")):
        for line, question in yaml_questions(path.read_text(encoding="utf-8")):
            if CLAIM.search(question) and not MARKER.search(question):
                missing.append(f"{path.relative_to(ROOT)}:{line}: {CLAIM.search(question)[0]}")  # type: ignore[index]
    return missing


def references() -> list[tuple[str, str]]:
    found = []
    for path in sorted([*(ROOT / "content/topics").glob("*/*.md"), *(ROOT / "content/quizzes").glob("*.yaml")]):
        for marker in MARKER.finditer(path.read_text(encoding="utf-8")):
            refs = marker["refs"] or marker["yaml"]
            found += [(str(path.relative_to(ROOT)), ref.strip()) for ref in refs.split(",")]
    return found


def test_every_daphne_claim_carries_a_reference():
    missing = claims_without_reference()
    assert not missing, "claims about Daphne without `checked:`:\n" + "\n".join(missing)


def test_there_are_referenced_claims():
    assert len(references()) >= 20


@pytest.mark.parametrize(("page", "ref"), references())
def test_each_reference_resolves(page, ref):
    if found := TEST_REF.match(ref):
        tree = ast.parse((ROOT / found["path"]).read_text(encoding="utf-8"))
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
        assert found["name"] in names, f"{page}: {ref} names no test"
    elif found := SOURCE_REF.match(ref):
        lines = (SITE_PACKAGES / found["package"] / found["path"]).read_text(encoding="utf-8").splitlines()
        number = int(found["line"])
        assert 0 < number <= len(lines) and lines[number - 1].strip(), f"{page}: {ref} is not a line of code"
    else:
        pytest.fail(f"{page}: {ref!r} is neither tests/fidelity/FILE.py::TEST nor PACKAGE/FILE.py:LINE")


def test_the_check_finds_an_unreferenced_claim(tmp_path):
    blocks = markdown_blocks("Intro.\n\nDaphne logs `WSREJECT` here.\n\n| a | WSCONNECT <!-- checked: x --> |\n")
    flagged = [block for _, block in blocks if CLAIM.search(block) and not MARKER.search(block)]
    assert flagged == ["Daphne logs `WSREJECT` here."]
