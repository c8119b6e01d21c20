"""The outline's links, reversed once per catalogue: 20 topics × their modes were 200+ `{% url %}` per request."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from lessons.catalogue import Catalogue, Topic


@dataclass(frozen=True)
class ModeLink:
    key: str
    label: str
    url: str


@dataclass(frozen=True)
class TopicLinks:
    topic: Topic
    url: str
    modes: tuple[ModeLink, ...]


_built: tuple[Catalogue, tuple[TopicLinks, ...]] | None = None  # the catalogue they were built for, and the links


def _build(catalogue: Catalogue) -> tuple[TopicLinks, ...]:
    return tuple(
        TopicLinks(
            topic=topic,
            url=reverse("lessons:topic", args=[topic.slug]),
            modes=tuple(
                ModeLink(key, page.label, reverse("lessons:mode", args=[topic.slug, key]))
                for key, page in topic.modes.items()
            ),
        )
        for topic in catalogue.topics
    )


def outline_links(catalogue: Catalogue) -> tuple[TopicLinks, ...]:
    """Each topic with its page's URL and its modes' URLs, in course order (rebuilt when the catalogue is new)."""
    global _built
    if _built is None or _built[0] is not catalogue:
        _built = (catalogue, _build(catalogue))
    return _built[1]
