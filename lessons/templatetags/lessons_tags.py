"""Template helpers for lesson pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def split_pairs(spec: str) -> list[tuple[str, ...]]:
    """'a:label a,b:label b' -> [('a', 'label a'), ('b', 'label b')], for small option lists in templates."""
    return [tuple(item.split(":", 1)) for item in spec.split(",")]
