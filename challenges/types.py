"""Immutable challenge records, built once per content version and kept in the content snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

DIFFICULTIES = ("easy", "medium", "hard")
# Actions the script does as a client, and what it expects the learner's consumer to do to that client.
ACTIONS = ("connect", "send", "close")
EXPECTATIONS = ("accepted", "receive", "closed", "rejected", "silent")
STEP_KINDS = (*ACTIONS, *EXPECTATIONS)


@dataclass(frozen=True)
class Step:
    """One line of a test script: `kind` names what happens to or is expected from `client`."""

    kind: str
    client: str
    line: int
    fields: MappingProxyType[str, Any]  # the kind's own fields (path, text, json, regex, code, within, ...)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@dataclass(frozen=True)
class TestScript:
    """A named client script; hidden ones are never shown to the learner, only their name and verdict."""

    __test__ = False  # not a pytest class

    name: str
    hidden: bool
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class KnownWrong:
    """A solution that must fail: the mistake it makes, and the test that catches it (when the author names one)."""

    file: str
    code: str
    mistake: str
    fails: str | None


@dataclass(frozen=True)
class Challenge:
    """One challenge folder, validated."""

    slug: str
    number: int
    title: str
    topic: str
    difficulty: str
    brief_html: str
    starter: str
    solution: str
    hints: tuple[str, ...]  # rendered inline Markdown
    tests: tuple[TestScript, ...]  # visible examples first, then hidden ones
    known_wrong: tuple[KnownWrong, ...]
    content_hash: str

    @property
    def visible_tests(self) -> tuple[TestScript, ...]:
        return tuple(test for test in self.tests if not test.hidden)

    @property
    def hidden_tests(self) -> tuple[TestScript, ...]:
        return tuple(test for test in self.tests if test.hidden)


@dataclass(frozen=True)
class ChallengeSet:
    """Every challenge in folder order, with lookup by slug."""

    challenges: tuple[Challenge, ...]
    by_slug: MappingProxyType[str, Challenge]

    def get(self, slug: str) -> Challenge | None:
        return self.by_slug.get(slug)
