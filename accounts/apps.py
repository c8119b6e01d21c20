from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, log-in and the learner / instructor roles."""

    name = "accounts"

    def ready(self) -> None:
        """A user's open sockets close when their sign-in ends (accounts.sockets)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save, pre_save

        from accounts import sockets

        user_model = get_user_model()
        user_logged_out.connect(sockets.on_logged_out, dispatch_uid="accounts.sockets.logged_out")
        pre_save.connect(sockets.remember_sign_in_fields, sender=user_model, dispatch_uid="accounts.sockets.pre")
        post_save.connect(sockets.on_user_saved, sender=user_model, dispatch_uid="accounts.sockets.post")
