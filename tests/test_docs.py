"""The documentation cannot rot silently: every repository path it names exists, and none points outside the repo."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
DOCUMENTS = [ROOT / "README.md", ROOT / "deploy" / "README.md", ARCHITECTURE]
BACKTICKED = re.compile(r"`([^`\s]+)`")
MARKDOWN_LINK = re.compile(r"\]\(([^)]+)\)")


def repo_paths(text: str) -> list[str]:
    """Backticked spans that name a file or folder of the repository: one word under a top-level entry."""
    paths = []
    for span in BACKTICKED.findall(text):
        first = span.split("/")[0]
        if "/" in span and first and not first.startswith(".") and (ROOT / first).exists():
            paths.append(span)
    return paths


def test_every_path_in_the_architecture_document_exists() -> None:
    paths = repo_paths(ARCHITECTURE.read_text())
    assert len(paths) > 50, "the path pattern no longer finds the document's paths"
    missing = sorted({path for path in paths if not (ROOT / path).exists()})
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_readme_links_the_architecture_document() -> None:
    assert "](docs/architecture.md)" in (ROOT / "README.md").read_text()


def test_no_document_points_outside_the_repository() -> None:
    for document in DOCUMENTS:
        text = document.read_text()
        targets = BACKTICKED.findall(text) + MARKDOWN_LINK.findall(text)
        outside = [target for target in targets if target.startswith("../")]
        assert not outside, f"{document.relative_to(ROOT)} points outside the repository: {outside}"
