"""Reads content/challenges/NN-slug/ folders into a ChallengeSet, collecting every error with file, line and field."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from types import MappingProxyType

from django.conf import settings

from challenges import scripts
from challenges.types import DIFFICULTIES, Challenge, ChallengeSet, KnownWrong, TestScript
from lessons.catalogue import Catalogue, CatalogueError, ContentError, get_catalogue, snapshot
from lessons.catalogue.rendering import render_markdown
from lessons.catalogue.yaml_lines import LineDict, LineList, load_yaml
from playground.sandbox.shared import protocol

FOLDER = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
KEYS = {"title": str, "topic": str, "difficulty": str, "hints": list, "known_wrong": list}
FILES = ("brief.md", "starter.py", "solution.py", "tests.yaml", "hidden.yaml")
WRONG_DIR = "wrong"
MIN_KNOWN_WRONG = 2


def inline_markdown(text: str) -> str:
    """A short Markdown text without its wrapping paragraph."""
    rendered, _ = render_markdown(text)
    return rendered[3:-4] if rendered.startswith("<p>") and rendered.count("<p>") == 1 else rendered


class ChallengeReader:
    """Validates one challenge folder; all its errors are recorded, not just the first."""

    def __init__(self, folder: Path, content_dir: Path, catalogue: Catalogue, errors: list[ContentError]) -> None:
        self.folder, self.content_dir, self.catalogue, self.errors = folder, content_dir, catalogue, errors
        self.display = (folder / "challenge.yaml").relative_to(content_dir.parent)

    def shown(self, path: Path) -> Path:
        return path.relative_to(self.content_dir.parent)

    def error(self, data: LineDict | None, field: str, message: str, line: int | None = None) -> None:
        where = line if line is not None else (data.line_of(field.split(".")[0]) if data is not None else 0)
        self.errors.append(ContentError(self.display, where, field, message))

    def read(self) -> Challenge | None:
        match = FOLDER.match(self.folder.name)
        if not match:
            self.errors.append(ContentError(self.shown(self.folder), 0, "", "folder must be named NN-slug"))
            return None
        before = len(self.errors)
        data = load_yaml(self.folder / "challenge.yaml", self.display, self.errors)
        if not isinstance(data, LineDict):
            if data is not None:
                self.error(None, "", "must be a mapping of keys to values", 1)
            return None
        self.check_keys(data)
        missing = [name for name in FILES if not (self.folder / name).is_file()]
        for name in missing:
            self.errors.append(ContentError(self.shown(self.folder / name), 0, "", "is required"))
        if len(self.errors) > before:
            return None
        sources = {name: self.python(self.folder / name) for name in ("starter.py", "solution.py")}
        tests = self.read_tests()
        known_wrong = self.read_known_wrong(data, {test.name for test in tests})
        if len(self.errors) > before:
            return None
        return Challenge(
            slug=match["slug"],
            number=int(match["number"]),
            title=data["title"].strip(),
            topic=data["topic"],
            difficulty=data["difficulty"],
            brief_html=render_markdown((self.folder / "brief.md").read_text(encoding="utf-8"))[0],
            starter=sources["starter.py"],
            solution=sources["solution.py"],
            hints=tuple(inline_markdown(hint) for hint in data["hints"]),
            tests=tuple(tests),
            known_wrong=tuple(known_wrong),
            content_hash=self.content_hash(),
        )

    def check_keys(self, data: LineDict) -> None:
        for key in data:
            if key not in KEYS:
                self.error(data, str(key), f"unknown key (allowed: {', '.join(KEYS)})")
        for key, kind in KEYS.items():
            if key not in data:
                self.error(data, key, "is required", data.line)
            elif not isinstance(data[key], kind):
                self.error(data, key, f"must be a {kind.__name__}")
        if isinstance(data.get("title"), str) and not data["title"].strip():
            self.error(data, "title", "must not be empty")
        if isinstance(data.get("topic"), str) and self.catalogue.get(data["topic"]) is None:
            self.error(data, "topic", f"no topic has the slug {data['topic']!r} (see content/topics/)")
        if isinstance(data.get("difficulty"), str) and data["difficulty"] not in DIFFICULTIES:
            self.error(data, "difficulty", f"must be one of {', '.join(DIFFICULTIES)}")
        hints = data.get("hints")
        if isinstance(hints, list) and (not hints or not all(isinstance(h, str) and h.strip() for h in hints)):
            self.error(data, "hints", "must be a non-empty list of text")

    def python(self, path: Path, line: int = 0) -> str:
        """The file's source; a syntax error is a content error naming its line."""
        source = path.read_text(encoding="utf-8")
        try:
            compile(source, str(path.name), "exec")
        except SyntaxError as exc:
            self.errors.append(ContentError(self.shown(path), exc.lineno or line, "", f"does not compile: {exc.msg}"))
        if len(source.encode()) > 64 * 1024:
            self.errors.append(ContentError(self.shown(path), 0, "", "is over 64 KiB"))
        return source

    def read_tests(self) -> list[TestScript]:
        tests: list[TestScript] = []
        for name, hidden in (("tests.yaml", False), ("hidden.yaml", True)):
            path = self.folder / name
            tests += scripts.ScriptReader(path, self.shown(path), hidden, self.errors).read()
        seen: set[str] = set()
        for test in tests:
            if test.name in seen:
                self.error(None, "tests", f"two tests are named {test.name!r} (names must be unique)", 0)
            seen.add(test.name)
        return tests

    def read_known_wrong(self, data: LineDict, test_names: set[str]) -> list[KnownWrong]:
        entries = data["known_wrong"]
        assert isinstance(entries, LineList)
        if len(entries) < MIN_KNOWN_WRONG:
            self.error(data, "known_wrong", f"list at least {MIN_KNOWN_WRONG} known-wrong solutions")
        found: list[KnownWrong] = []
        for index, entry in enumerate(entries):
            field, line = f"known_wrong[{index}]", entries.line_of(index)
            if not isinstance(entry, LineDict) or not {"file", "mistake"} <= set(entry) <= {"file", "mistake", "fails"}:
                self.error(data, field, "needs file and mistake (and optionally fails: a test name)", line)
                continue
            file, mistake, fails = entry["file"], entry["mistake"], entry.get("fails")
            if not isinstance(mistake, str) or not mistake.strip() or "\n" in mistake.strip():
                self.error(data, f"{field}.mistake", "must be one line saying the mistake", entry.line_of("mistake"))
                continue
            if fails is not None and fails not in test_names:
                self.error(
                    data, f"{field}.fails", f"names no test of this challenge: {fails!r}", entry.line_of("fails")
                )
                continue
            path = self.folder / WRONG_DIR / str(file)
            if not isinstance(file, str) or not re.fullmatch(r"[a-z0-9_-]+\.py", file) or not path.is_file():
                self.error(data, f"{field}.file", f"must name a file in {WRONG_DIR}/ (e.g. forgets-accept.py)", line)
                continue
            found.append(KnownWrong(file=file, code=self.python(path), mistake=mistake.strip(), fails=fails))
        listed = {wrong.file for wrong in found}
        for path in sorted((self.folder / WRONG_DIR).glob("*.py")):
            if path.name not in listed:
                self.error(
                    data, "known_wrong", f"{self.shown(path)} exists but is not listed", data.line_of("known_wrong")
                )
        return found

    def content_hash(self) -> str:
        """Changes when any file of the challenge changes; stored beside submissions."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(self.folder)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]


def load_challenges(content_dir: Path, catalogue: Catalogue) -> ChallengeSet:
    """Load and validate every challenge; raises CatalogueError listing all problems."""
    errors: list[ContentError] = []
    root = content_dir / "challenges"
    challenges: dict[str, Challenge] = {}
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        challenge = ChallengeReader(folder, content_dir, catalogue, errors).read()
        if challenge is None:
            continue
        if challenge.slug in challenges:
            display = (folder / "challenge.yaml").relative_to(content_dir.parent)
            errors.append(ContentError(display, 0, "", f"duplicate challenge slug {challenge.slug!r}"))
            continue
        challenges[challenge.slug] = challenge
    if errors:
        raise CatalogueError(errors)
    return ChallengeSet(challenges=tuple(challenges.values()), by_slug=MappingProxyType(challenges))


@cache
def get_challenges() -> ChallengeSet:
    """The process-wide challenges, from the content snapshot when neither content nor this code changed."""
    content_dir, catalogue = Path(settings.CONTENT_DIR), get_catalogue()
    code = [*Path(__file__).parent.glob("*.py"), Path(protocol.__file__), *Path(snapshot.__file__).parent.glob("*.py")]
    key = snapshot.version_key(content_dir, code)
    return snapshot.load_or_build("challenges", key, lambda: load_challenges(content_dir, catalogue))


__all__ = ["CatalogueError", "get_challenges", "load_challenges"]
