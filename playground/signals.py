"""Signal receivers for the playground."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from playground.drafts import claim_session_drafts


@receiver(user_logged_in)
def claim_drafts_at_login(
    sender: type[AbstractBaseUser], request: HttpRequest | None, user: AbstractBaseUser, **kwargs: object
) -> None:
    """A visitor who wrote code before signing in finds it in the account, on every device."""
    if request is not None and hasattr(request, "session"):
        claim_session_drafts(request, user)
