"""Issue 19 item 4: a user's open sockets close (4401) on logout, password change and deactivation."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.sockets import CLOSE_SIGNED_OUT, SIGNED_OUT
from config.asgi import application
from playground.models import Run
from tests.factories import make_cohort, make_user
from tests.playground.conftest import Page, starter_code

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_client(instructor: bool = False) -> tuple[Client, list[tuple[bytes, bytes]]]:
    client = Client()
    client.force_login(make_user(instructor=instructor))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return client, [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())]


async def expect_signed_out(communicator: WebsocketCommunicator) -> None:
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}
    await communicator.disconnect()  # the browser's answer to the close: the consumer cleans up and ends


async def test_logout_closes_the_users_sockets_and_leaves_others_open():
    client, headers = await database_sync_to_async(signed_in_client)()
    _, other_headers = await database_sync_to_async(signed_in_client)()
    mine = WebsocketCommunicator(application, "/ws/playground/", headers=headers)
    theirs = WebsocketCommunicator(application, "/ws/playground/", headers=other_headers)
    assert (await mine.connect())[0] and (await theirs.connect())[0]
    await database_sync_to_async(client.post)("/accounts/logout/")
    await expect_signed_out(mine)
    assert await theirs.receive_nothing(timeout=0.3)
    await theirs.disconnect()


@pytest.mark.parametrize("change", ["password", "deactivate"])
async def test_password_change_or_deactivation_closes_the_users_sockets(change):
    client, headers = await database_sync_to_async(signed_in_client)()
    user = await database_sync_to_async(lambda: client.session["_auth_user_id"])()
    sockets = [WebsocketCommunicator(application, "/ws/playground/", headers=headers) for _ in range(2)]
    for socket in sockets:
        assert (await socket.connect())[0]

    def end_sign_in() -> None:
        from django.contrib.auth import get_user_model

        account = get_user_model().objects.get(pk=user)
        if change == "password":
            account.set_password("another-long-password-2026")
        else:
            account.is_active = False
        account.save()

    await database_sync_to_async(end_sign_in)()
    for socket in sockets:
        await expect_signed_out(socket)


async def test_last_login_update_does_not_close_sockets():
    client, headers = await database_sync_to_async(signed_in_client)()
    socket = WebsocketCommunicator(application, "/ws/playground/", headers=headers)
    assert (await socket.connect())[0]
    await database_sync_to_async(client.force_login)(await database_sync_to_async(make_user)())
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_cohort_socket_closes_on_logout():
    client, headers = await database_sync_to_async(signed_in_client)(instructor=True)

    def cohort_of_this_instructor():
        from django.contrib.auth import get_user_model

        return make_cohort(get_user_model().objects.get(pk=client.session["_auth_user_id"]))

    cohort = await database_sync_to_async(cohort_of_this_instructor)()
    socket = WebsocketCommunicator(application, f"/ws/cohorts/{cohort.pk}/", headers=headers)
    assert (await socket.connect())[0]
    await database_sync_to_async(client.post)("/accounts/logout/")
    await expect_signed_out(socket)


async def test_run_is_refused_when_the_session_ended_without_closing_the_socket():
    """The close message can be lost (the channel layer was down at logout): starting a run re-checks the session."""
    _, headers = await database_sync_to_async(signed_in_client)()
    socket = WebsocketCommunicator(application, "/ws/playground/", headers=headers)
    assert (await socket.connect())[0]
    await database_sync_to_async(Session.objects.all().delete)()
    page = Page(socket)
    await page.send(type="run", code=starter_code("echo"), starter="echo")
    assert await page.expect(lambda m: m["type"] == "status") == {
        "type": "status",
        "state": "stopped",
        "reason": SIGNED_OUT,
    }
    await expect_signed_out(socket)
    assert await Run.objects.acount() == 0
