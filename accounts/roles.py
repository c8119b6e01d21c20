"""Roles: everyone is a learner; instructors are members of one group."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, User

INSTRUCTORS_GROUP = "instructors"


# The attribute caching the answer on a user object, so one request asks the database once.
CACHE_ATTRIBUTE = "_is_instructor"


def is_instructor(user: User | AnonymousUser) -> bool:
    """True for signed-in members of the instructors group (cached on the user object per request)."""
    if not user.is_authenticated:
        return False
    cached: bool | None = getattr(user, CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = user.groups.filter(name=INSTRUCTORS_GROUP).exists()
        setattr(user, CACHE_ATTRIBUTE, cached)
    return cached


def make_instructor(user: User) -> None:
    """Grant the instructor role (idempotent)."""
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    user.groups.add(group)
    setattr(user, CACHE_ATTRIBUTE, True)
