"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.roles import is_instructor


def roles(request: HttpRequest) -> dict[str, SimpleLazyObject]:
    """Expose `is_instructor` lazily so pages that never ask cost no query."""
    return {"is_instructor": SimpleLazyObject(lambda: is_instructor(request.user))}
