from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, log-in and the learner / instructor roles."""

    name = "accounts"
