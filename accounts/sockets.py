"""A signed-in user's open sockets end with the sign-in: logout, a password change or deactivation closes them (4401).

Every session-authenticated consumer mixes in UserSocketsMixin, which joins the user's group on accept; the signal
receivers below (connected in AccountsConfig.ready) send that group one message, which every process's sockets
of that user receive through the channel layer. Messages that act re-check the session too (`still_signed_in`),
for a socket whose close message was lost (the channel layer was down at logout).
"""

from __future__ import annotations

import logging
from importlib import import_module
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user
from django.db import transaction

from config.layer import LAYER_ERRORS, GroupMembership, quietly

if TYPE_CHECKING:
    from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
    from channels.consumer import _ChannelScope  # the scope type types-channels gives every consumer

logger = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = 4401  # the same code as a socket opened without a sign-in: the page asks to sign in again
SIGNED_OUT = "You are signed out (logged out, or your password changed). Sign in again to run code."


def user_sockets_group(user_id: int) -> str:
    return f"accounts.user.{user_id}"


def close_user_sockets(user_id: int) -> None:
    """Tell every open socket of the user, in every process, to close; a layer that is down is only logged."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_sockets_group(user_id), {"type": "accounts.signed_out"})
    except LAYER_ERRORS as exc:
        logger.warning("could not close the sockets of user %s: %s", user_id, exc)


def still_signed_in_sync(scope: Any, user_id: int) -> bool:
    """The socket's session, read afresh from the store, still signs in this user (not logged out, same password,
    still active)."""
    session = scope.get("session")
    if session is None or not session.session_key:
        return False
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    user = get_user(SimpleNamespace(session=fresh))  # type: ignore[arg-type]  # get_user reads request.session only
    return bool(user.is_authenticated and user.pk == user_id)


still_signed_in = database_sync_to_async(still_signed_in_sync)


class UserSocketsMixin(AsyncWebsocketConsumer):
    """For consumers of signed-in users: joins the user's group on accept and closes with 4401 when told to."""

    user_sockets: GroupMembership | None = None

    async def __call__(self, scope: _ChannelScope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.user_sockets:
                await quietly(self.user_sockets.leave_all(), "leaving the user's socket group")

    async def accept(self, subprotocol: str | None = None, headers: list[tuple[str, str]] | None = None) -> None:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.user_sockets = GroupMembership(self.channel_layer, self.channel_name)
            await self.user_sockets.join(user_sockets_group(user.pk))
        await super().accept(subprotocol, headers)

    async def accounts_signed_out(self, message: dict[str, Any]) -> None:
        await self.close(code=CLOSE_SIGNED_OUT)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        close_user_sockets(user.pk)


def remember_sign_in_fields(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Before a user is saved: note whether the password or the active flag is changing."""
    instance._ends_sign_in = False
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is not None:
        changed_password = before["password"] != instance.password
        instance._ends_sign_in = changed_password or (before["is_active"] and not instance.is_active)


def on_user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Once the change is committed, the user's sockets close: they were opened under the old sign-in."""
    if getattr(instance, "_ends_sign_in", False):
        user_id = instance.pk
        transaction.on_commit(lambda: close_user_sockets(user_id))
