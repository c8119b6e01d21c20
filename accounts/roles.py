"""Roles: everyone is a learner; instructors are members of one group."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

INSTRUCTORS_GROUP = "instructors"


def is_instructor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True for signed-in members of the instructors group (cached on the user object per request)."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_is_instructor", None)
    if cached is None:
        cached = user.groups.filter(name=INSTRUCTORS_GROUP).exists()
        user._is_instructor = cached
    return cached


def make_instructor(user: AbstractBaseUser) -> None:
    """Grant the instructor role (idempotent)."""
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    user.groups.add(group)
    user._is_instructor = True
