"""The content catalogue: topics and their learning modes, loaded once per process from content/."""

from __future__ import annotations

from lessons.catalogue.errors import CatalogueError, ContentError
from lessons.catalogue.loader import get_catalogue, load_catalogue
from lessons.catalogue.types import MODE_LABELS, MODES, Catalogue, ModePage, Topic

__all__ = [
    "MODES",
    "MODE_LABELS",
    "Catalogue",
    "CatalogueError",
    "ContentError",
    "ModePage",
    "Topic",
    "get_catalogue",
    "load_catalogue",
]
