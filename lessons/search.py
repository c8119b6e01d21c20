"""Ranked search over every topic's title, headings and text, with highlighted snippets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from lessons.catalogue import Catalogue, ModePage, Topic
from lessons.catalogue.types import Section

SNIPPET_RADIUS = 90
# A term in the topic's title or in what the topic says it is about (summary, objectives: where a topic names its
# central API) outweighs any number of passing mentions in other topics' pages; a topic's concept page counts it twice,
# so `group_send` finds "Groups and broadcast" first, not every page that happens to call it.
TITLE_WEIGHT = 20
ABOUT_WEIGHT = 10
ABOUT_CAP = 3
CONCEPT_FACTOR = 2
CONCEPT_MODE = "concept"
HEADING_WEIGHT = 5
BODY_CAP = 10


@dataclass(frozen=True)
class SearchResult:
    topic: Topic
    mode: ModePage
    score: int
    anchor: str  # the id of the heading over the best-matching section, "" for the top of the page
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
    """About two radii of text around the first term found, highlighted."""
    lowered = text.lower()
    hits = [lowered.find(term) for term in terms if term in lowered]
    start = max(0, min(hits) - SNIPPET_RADIUS) if hits else 0
    end = min(len(text), start + 2 * SNIPPET_RADIUS)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + highlight(text[start:end], terms) + suffix)


def about_text(topic: Topic) -> str:
    """What a topic says it covers, beyond its title: its summary and objectives."""
    return " ".join([topic.summary, *topic.objectives]).lower()


def score_mode(topic: Topic, mode: ModePage, terms: list[str]) -> int:
    """Topic title and stated scope count most (twice on the concept page), then headings, then body occurrences.

    Every term must occur in the page or, for the concept page, in what the topic says it covers."""
    title, about = topic.title.lower(), about_text(topic)
    headings = " ".join(heading.text for heading in mode.headings).lower()
    body = mode.text.lower()
    concept = mode.key == CONCEPT_MODE
    total = 0
    for term in terms:
        in_title, in_about = title.count(term), min(about.count(term), ABOUT_CAP)
        in_headings, in_body = headings.count(term), min(body.count(term), BODY_CAP)
        if not (in_title or in_headings or in_body or (concept and in_about)):
            return 0
        topical = TITLE_WEIGHT * in_title + ABOUT_WEIGHT * in_about
        total += topical * (CONCEPT_FACTOR if concept else 1) + HEADING_WEIGHT * in_headings + in_body
    return total


def best_section(mode: ModePage, terms: list[str]) -> Section:
    """The section holding the most distinct terms, then the most occurrences; the earliest wins a tie."""

    def matches(section: Section) -> tuple[int, int]:
        lowered = section.text.lower()
        counts = [min(lowered.count(term), BODY_CAP) for term in terms]
        return sum(1 for count in counts if count), sum(counts)

    return max(mode.sections, key=matches, default=Section(anchor="", text=mode.text))


def search(catalogue: Catalogue, query: str, max_terms: int) -> list[SearchResult]:
    """Every matching mode page of every topic, best first."""
    terms = query_terms(query, max_terms)
    if not terms:
        return []
    results = []
    for topic in catalogue.topics:
        for mode in topic.modes.values():
            score = score_mode(topic, mode, terms)
            if score:
                section = best_section(mode, terms)
                results.append(SearchResult(topic, mode, score, section.anchor, snippet(section.text, terms)))
    results.sort(key=lambda result: (-result.score, result.topic.number, result.topic.mode_keys.index(result.mode.key)))
    return results
