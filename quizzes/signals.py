"""Signal receivers for quizzes."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from quizzes.services import claim_anonymous_attempts


@receiver(user_logged_in)
def claim_attempts_at_login(sender: type[User], request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """A visitor's quiz attempts follow them into the account they sign up for or log in to."""
    if request is not None and hasattr(request, "session"):
        claim_anonymous_attempts(request, user)
