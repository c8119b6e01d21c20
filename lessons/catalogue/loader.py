"""Reads content/ into an immutable Catalogue, collecting every validation error with file, line and field."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.conf import settings

from lessons.catalogue import required_sections, snapshot, step_claims
from lessons.catalogue.errors import CatalogueError, ContentError
from lessons.catalogue.practice import PracticeReader
from lessons.catalogue.rendering import highlight_python, plain_text, render_markdown, split_sections
from lessons.catalogue.trace_files import load_trace
from lessons.catalogue.types import MIN_MODES, MODES, Catalogue, ModePage, QuizConfig, Topic
from lessons.catalogue.yaml_lines import LineDict, load_yaml

TOPIC_DIR = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
REQUIRED_KEYS = {"title": str, "summary": str, "minutes": int, "prerequisites": list, "objectives": list, "modes": list}
OPTIONAL_KEYS = {"quiz": dict, "execution": dict, "playground": dict}
DIFFICULTIES = ("easy", "medium", "hard")


class TopicReader:
    """Validates one topic folder; errors go to a shared list so all of them are reported at once."""

    def __init__(self, folder: Path, content_dir: Path, errors: list[ContentError]) -> None:
        self.folder = folder
        self.content_dir = content_dir
        self.errors = errors
        self.yaml_path = folder / "topic.yaml"
        self.display = self.yaml_path.relative_to(content_dir.parent)

    def error(self, data: LineDict | None, field: str, message: str) -> None:
        """Record an error at the line of the deepest key of a dotted field that exists."""
        line, node = 0, data
        for key in field.split("."):
            if not isinstance(node, LineDict):
                break
            line = node.line_of(key)
            node = node.get(key)
        self.errors.append(ContentError(self.display, line, field, message))

    def read(self) -> Topic | None:
        match = TOPIC_DIR.match(self.folder.name)
        if not match:
            self.errors.append(
                ContentError(
                    self.folder.relative_to(self.content_dir.parent),
                    0,
                    "",
                    "folder must be named NN-slug, e.g. 03-consumer-lifecycle",
                )
            )
            return None
        data = load_yaml(self.yaml_path, self.display, self.errors)
        if data is None:
            return None
        if not isinstance(data, LineDict):
            self.errors.append(ContentError(self.display, 1, "", "must be a mapping of keys to values"))
            return None
        before = len(self.errors)
        self.check_keys(data)
        if not isinstance(data.get("modes"), list):
            return None
        modes = self.read_modes(data)
        quiz = self.read_quiz(data, modes)
        trace = self.read_trace(data, modes)
        if trace is not None and "execution" in modes:
            self.check_step_claims(trace.events)
        starter, starter_html = self.read_starter(data, modes)
        if len(self.errors) > before:
            return None
        return Topic(
            slug=match["slug"],
            number=int(match["number"]),
            title=data["title"].strip(),
            summary=data["summary"].strip(),
            minutes=data["minutes"],
            prerequisites=tuple(data["prerequisites"]),
            objectives=tuple(data["objectives"]),
            modes=MappingProxyType(modes),
            quiz=quiz,
            trace=trace,
            starter=starter,
            starter_html=starter_html,
            content_hash=self.content_hash(),
        )

    def check_keys(self, data: LineDict) -> None:
        for key in data:
            if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
                self.error(data, str(key), "unknown key (allowed: " + ", ".join([*REQUIRED_KEYS, *OPTIONAL_KEYS]) + ")")
        for key, kind in REQUIRED_KEYS.items():
            if key not in data:
                self.errors.append(ContentError(self.display, data.line, key, "is required"))
            elif not isinstance(data[key], kind) or isinstance(data[key], bool):
                self.error(data, key, f"must be a {kind.__name__}")
        for key, kind in OPTIONAL_KEYS.items():
            if key in data and not isinstance(data[key], kind):
                self.error(data, key, "must be a mapping")
        if isinstance(data.get("minutes"), int) and not isinstance(data["minutes"], bool) and data["minutes"] <= 0:
            self.error(data, "minutes", "must be a positive whole number")
        for key in ("prerequisites", "objectives"):
            if isinstance(data.get(key), list) and not all(
                isinstance(item, str) and item.strip() for item in data[key]
            ):
                self.error(data, key, "must be a list of non-empty strings")
        if isinstance(data.get("objectives"), list) and not data["objectives"]:
            self.error(data, "objectives", "list at least one learning objective")
        for key in ("title", "summary"):
            if isinstance(data.get(key), str) and not data[key].strip():
                self.error(data, key, "must not be empty")

    def read_modes(self, data: LineDict) -> dict[str, ModePage]:
        listed = data["modes"]
        pages: dict[str, ModePage] = {}
        for index, mode in enumerate(listed):
            if mode not in MODES:
                self.errors.append(
                    ContentError(
                        self.display,
                        listed.line_of(index),
                        "modes",
                        f"unknown mode {mode!r} (known: {', '.join(MODES)})",
                    )
                )
                continue
            if mode in pages:
                self.errors.append(
                    ContentError(self.display, listed.line_of(index), "modes", f"{mode!r} is listed twice")
                )
                continue
            md_path = self.folder / f"{mode}.md"
            if not md_path.is_file():
                self.errors.append(
                    ContentError(
                        self.display,
                        listed.line_of(index),
                        "modes",
                        f"mode {mode!r} has no file {md_path.relative_to(self.content_dir.parent)}",
                    )
                )
                continue
            pages[mode] = self.render_mode(mode, md_path)
        if len(listed) < MIN_MODES:
            self.error(
                data, "modes", f"a topic offers at least {MIN_MODES} learning modes, this one lists {len(listed)}"
            )
        for md_path in sorted(self.folder.glob("*.md")):
            if md_path.stem not in listed:
                self.error(data, "modes", f"{md_path.name} exists but {md_path.stem!r} is not listed in modes")
        return pages

    def check_step_claims(self, events: tuple[dict[str, Any], ...]) -> None:
        """The execution page's `{step N: key=value}` markers must agree with the recorded trace."""
        md_path = self.folder / "execution.md"
        display = md_path.relative_to(self.content_dir.parent)
        for line, problem in step_claims.check(md_path.read_text(encoding="utf-8"), events):
            self.errors.append(ContentError(display, line, "step claim", problem))

    def render_mode(self, mode: str, md_path: Path) -> ModePage:
        text = md_path.read_text(encoding="utf-8")
        display = md_path.relative_to(self.content_dir.parent)
        for line, problem in required_sections.problems(mode, text):
            self.errors.append(ContentError(display, line, "sections", problem))
        if mode == "execution":
            text = step_claims.render(text)
        rendered, headings = render_markdown(text)
        if mode != "practice":
            return ModePage(
                key=mode, html=rendered, headings=headings, text=plain_text(rendered), sections=split_sections(rendered)
            )
        practice = PracticeReader(display, self.errors).read(text)
        return ModePage(key=mode, html=practice.intro_html, headings=headings, text=practice.text, practice=practice)

    def read_quiz(self, data: LineDict, modes: dict[str, ModePage]) -> QuizConfig | None:
        quiz = data.get("quiz")
        if quiz is None:
            if "quiz" in modes:
                self.error(data, "quiz", "the quiz mode needs a quiz: {mix: {...}, pass_percent: N} block")
            return None
        mix, pass_percent, hint_penalty = quiz.get("mix"), quiz.get("pass_percent"), quiz.get("hint_penalty", 0)
        for key in quiz:
            if key not in ("mix", "pass_percent", "hint_penalty"):
                self.error(data, f"quiz.{key}", "unknown key (allowed: mix, pass_percent, hint_penalty)")
        if isinstance(hint_penalty, bool) or not isinstance(hint_penalty, int | float) or not 0 <= hint_penalty <= 1:
            self.error(
                data,
                "quiz.hint_penalty",
                "must be a number from 0 to 1 (the share of a question's mark each hint costs)",
            )
            return None
        if (
            not isinstance(mix, dict)
            or set(mix) - set(DIFFICULTIES)
            or not all(isinstance(v, int) and v >= 0 for v in mix.values())
        ):
            self.error(data, "quiz.mix", "must map easy / medium / hard to whole numbers")
            return None
        if sum(mix.values()) <= 0:
            self.error(data, "quiz.mix", "must draw at least one question")
        if not isinstance(pass_percent, int) or not 1 <= pass_percent <= 100:
            self.error(data, "quiz.pass_percent", "must be a whole number from 1 to 100")
            return None
        return QuizConfig(
            mix=MappingProxyType({d: mix.get(d, 0) for d in DIFFICULTIES}),
            pass_percent=pass_percent,
            hint_penalty=float(hint_penalty),
        )

    def read_reference(self, data: LineDict, section: str, key: str, folder: str, suffix: str) -> Path | None:
        block = data.get(section)
        if block is None:
            self.error(data, section, f"the {section} mode needs a {section}: {{{key}: NAME}} block")
            return None
        name = block.get(key)
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_-]+", name):
            self.error(data, f"{section}.{key}", "must be a file name without extension (letters, digits, - and _)")
            return None
        path = self.content_dir / folder / f"{name}{suffix}"
        if not path.is_file():
            self.error(
                data, f"{section}.{key}", f"refers to {path.relative_to(self.content_dir.parent)}, which does not exist"
            )
            return None
        return path

    def read_trace(self, data: LineDict, modes: dict[str, ModePage]):
        if "execution" not in modes and "execution" not in data:
            return None
        path = self.read_reference(data, "execution", "trace", "traces", ".json")
        if path is None:
            return None
        return load_trace(path, path.relative_to(self.content_dir.parent), self.errors)

    def read_starter(self, data: LineDict, modes: dict[str, ModePage]) -> tuple[str | None, str]:
        if "playground" not in modes and "playground" not in data:
            return None, ""
        path = self.read_reference(data, "playground", "starter", "starters", ".py")
        if path is None:
            return None, ""
        return path.stem, highlight_python(path.read_text(encoding="utf-8"))

    def content_hash(self) -> str:
        """Changes when any file of the topic changes; stored beside learner rows."""
        digest = hashlib.sha256()
        for path in sorted(self.folder.iterdir()):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]


def check_prerequisites(topics: list[Topic], displays: dict[str, Path], errors: list[ContentError]) -> None:
    """Unknown prerequisites and prerequisite cycles are errors."""
    slugs = {topic.slug for topic in topics}
    graph: dict[str, tuple[str, ...]] = {}
    for topic in topics:
        for prerequisite in topic.prerequisites:
            if prerequisite not in slugs:
                errors.append(ContentError(displays[topic.slug], 0, "prerequisites", f"unknown topic {prerequisite!r}"))
            if prerequisite == topic.slug:
                errors.append(ContentError(displays[topic.slug], 0, "prerequisites", "a topic cannot require itself"))
        graph[topic.slug] = tuple(p for p in topic.prerequisites if p in slugs and p != topic.slug)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(slug: str) -> None:
        if slug in done:
            return
        if slug in visiting:
            cycle = [*visiting[visiting.index(slug) :], slug]
            errors.append(ContentError(displays[slug], 0, "prerequisites", "cycle: " + " -> ".join(cycle)))
            return
        visiting.append(slug)
        for prerequisite in graph[slug]:
            visit(prerequisite)
        visiting.pop()
        done.add(slug)

    for slug in graph:
        visit(slug)


def load_catalogue(content_dir: Path) -> Catalogue:
    """Load and validate every topic; raises CatalogueError listing all problems."""
    errors: list[ContentError] = []
    topics_dir = content_dir / "topics"
    topics: list[Topic] = []
    displays: dict[str, Path] = {}
    folders = sorted(p for p in topics_dir.iterdir() if p.is_dir()) if topics_dir.is_dir() else []
    if not folders:
        errors.append(ContentError(topics_dir.relative_to(content_dir.parent), 0, "", "no topics found"))
    for folder in folders:
        topic = TopicReader(folder, content_dir, errors).read()
        if topic is None:
            continue
        display = (folder / "topic.yaml").relative_to(content_dir.parent)
        if topic.slug in displays:
            errors.append(
                ContentError(display, 0, "", f"duplicate topic slug {topic.slug!r} (also {displays[topic.slug]})")
            )
            continue
        displays[topic.slug] = display
        topics.append(topic)
    check_prerequisites(topics, displays, errors)
    if errors:
        raise CatalogueError(errors)
    return Catalogue(topics=tuple(topics), by_slug=MappingProxyType({t.slug: t for t in topics}))


@cache
def get_catalogue() -> Catalogue:
    """The process-wide catalogue, loaded on first use (config.asgi warms it at start-up) from its disk snapshot."""
    content_dir = Path(settings.CONTENT_DIR)
    key = snapshot.version_key(content_dir, Path(__file__).parent.glob("*.py"))
    return snapshot.load_or_build("catalogue", key, lambda: load_catalogue(content_dir))


def as_plain(value: Any) -> Any:
    """Strip LineDict/LineList wrappers (for callers that store or compare YAML data)."""
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    return value
