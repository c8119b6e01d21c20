"""Ranked search over every topic's title, headings and text, with highlighted snippets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from lessons.catalogue import Catalogue, ModePage, Topic

SNIPPET_RADIUS = 90
MAX_RESULTS = 30


@dataclass(frozen=True)
class SearchResult:
    topic: Topic
    mode: ModePage
    score: int
    snippet: SafeString


def query_terms(query: str, max_terms: int) -> list[str]:
    """Lower-cased distinct words of the query, at most max_terms of them."""
    terms: list[str] = []
    for word in re.findall(r"[\w.]+", query.lower()):
        word = word.strip(".")
        if len(word) >= 2 and word not in terms:
            terms.append(word)
    return terms[:max_terms]


def highlight(text: str, terms: list[str]) -> SafeString:
    """Escape text and wrap each term occurrence in <mark>."""
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))


def snippet(text: str, terms: list[str]) -> SafeString:
    lowered = text.lower()
    hits = [lowered.find(term) for term in terms if term in lowered]
    start = max(0, min(hits) - SNIPPET_RADIUS) if hits else 0
    end = min(len(text), start + 2 * SNIPPET_RADIUS)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + highlight(text[start:end], terms) + suffix)


def score_mode(topic: Topic, mode: ModePage, terms: list[str]) -> int:
    """Title hits count most, then headings, then body occurrences; every term must occur somewhere."""
    title = topic.title.lower()
    headings = " ".join(heading.text for heading in mode.headings).lower()
    body = mode.text.lower()
    total = 0
    for term in terms:
        in_title, in_headings, in_body = title.count(term), headings.count(term), min(body.count(term), 20)
        if not (in_title or in_headings or in_body):
            return 0
        total += 10 * in_title + 5 * in_headings + in_body
    return total


def search(catalogue: Catalogue, query: str, max_terms: int) -> list[SearchResult]:
    terms = query_terms(query, max_terms)
    if not terms:
        return []
    results = [
        SearchResult(topic=topic, mode=mode, score=score, snippet=snippet(mode.text, terms))
        for topic in catalogue.topics
        for mode in topic.modes.values()
        if (score := score_mode(topic, mode, terms))
    ]
    results.sort(key=lambda result: (-result.score, result.topic.number, result.topic.mode_keys.index(result.mode.key)))
    return results[:MAX_RESULTS]
