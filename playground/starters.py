"""Starter consumers from content/starters/: their code, a title and the path to connect to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

PATH_IN_HEADER = re.compile(r"(/ws/[\w\-/]*)")


@dataclass(frozen=True)
class Starter:
    name: str
    title: str
    summary: str
    code: str
    default_path: str


def read_starter(path: Path) -> Starter:
    """Title, summary and default path come from the comment header the file opens with."""
    code = path.read_text(encoding="utf-8")
    header = []
    for line in code.splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("# ").rstrip())
    text = " ".join(header)
    title = header[0].split(":", 1)[0] if header else path.stem
    found = PATH_IN_HEADER.search(text)
    return Starter(
        name=path.stem, title=title, summary=text, code=code, default_path=found.group(1) if found else "/ws/"
    )


@cache
def all_starters() -> dict[str, Starter]:
    """Every starter, echo first, the rest by name."""
    paths = sorted(Path(settings.CONTENT_DIR, "starters").glob("*.py"), key=lambda p: (p.stem != "echo", p.stem))
    return {path.stem: read_starter(path) for path in paths}
