"""Signal receivers for lessons."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from lessons.learner_progress import merge_session_progress
from lessons.practice_reveals import merge_session_reveals


@receiver(user_logged_in)
def claim_anonymous_progress(sender: type[User], request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """A visitor who reads first and signs up or logs in later keeps what they did."""
    if request is not None and hasattr(request, "session"):
        merge_session_progress(request, user)
        merge_session_reveals(request, user)
