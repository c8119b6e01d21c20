"""Account forms."""

from __future__ import annotations

from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User


class SignUpForm(UserCreationForm):
    """Username and password, plus an optional email for password resets."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
