"""Template helpers for lesson pages."""

from __future__ import annotations

from collections.abc import Mapping

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Mapping[str, object] | None, key: str) -> object:
    """mapping[key] or an empty tuple, for per-topic progress and score lookups."""
    return mapping.get(key, ()) if mapping else ()


@register.filter
def split_pairs(spec: str) -> list[tuple[str, ...]]:
    """'a:label a,b:label b' -> [('a', 'label a'), ('b', 'label b')], for small option lists in templates."""
    return [tuple(item.split(":", 1)) for item in spec.split(",")]
