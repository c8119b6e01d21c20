"""Issue 19 item 2: sign-in lock-out by user name and by IP, throttled sign-up and reset mail, safe demo seeding."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import AsyncClient, Client

from tests.conftest import production_env
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.test_settings_env import run_python

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def real_limits(settings):
    """The production defaults (the test settings raise them for the rest of the suite), on an empty cache."""
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.ACCOUNTS_SIGNUPS_PER_HOUR = 2
    settings.ACCOUNTS_PASSWORD_RESETS_PER_HOUR = 2
    cache.clear()
    yield
    cache.clear()


def sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_right_password_after_the_limit_of_wrong_ones_is_locked_out(client):
    make_user("ada")
    answers = [sign_in(client, "ada", f"guess-{guess}").status_code for guess in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429]  # the failure that reaches the limit already locks
    response = sign_in(client, "ada", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "too many failed sign-ins for this account" in response.text
    assert "locked for 15 minutes" in response.text
    assert not client.get("/").context["user"].is_authenticated


def test_guesses_spread_over_many_addresses_still_lock_the_user_name(client):
    make_user("ada")
    for guess in range(LIMIT):
        sign_in(client, "ada", f"guess-{guess}", ip=f"198.51.100.{guess + 1}")
    assert sign_in(client, "ada", DEFAULT_PASSWORD, ip="192.0.2.99").status_code == 429


def test_one_learners_failures_do_not_lock_out_a_classmate_at_the_same_address(client):
    make_user("ada")
    for guess in range(LIMIT):
        sign_in(client, "bob", f"guess-{guess}", ip="198.51.100.1")
    assert sign_in(client, "bob", "guess", ip="198.51.100.1").status_code == 429
    assert sign_in(client, "ada", DEFAULT_PASSWORD, ip="198.51.100.1").status_code == 302


def test_the_documented_command_unlocks_a_user(client):
    make_user("ada")
    for guess in range(LIMIT):
        sign_in(client, "ada", f"guess-{guess}")
    call_command("axes_reset_username", "ada")
    assert sign_in(client, "ada", DEFAULT_PASSWORD).status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_the_lock_out_page_is_served_over_asgi_too():
    await sync_to_async(make_user)("ada")
    client = AsyncClient()
    try:
        for guess in range(LIMIT):
            await client.post("/accounts/login/", {"username": "ada", "password": f"guess-{guess}"})
        response = await client.post("/accounts/login/", {"username": "ada", "password": DEFAULT_PASSWORD})
    finally:
        await sync_to_async(connections.close_all)()  # the worker thread's connection would outlive the test
    assert response.status_code == 429
    assert "Sign-in is locked for a while" in response.text


def signup(client: Client, username: str, ip: str = "203.0.113.7"):
    password = "a-long-unusual-pass-9"
    data = {"username": username, "email": "", "password1": password, "password2": password}
    return client.post("/accounts/signup/", data, REMOTE_ADDR=ip)


def test_signups_from_one_address_are_throttled_with_a_clear_message():
    for number in range(2):
        assert signup(Client(), f"new-{number}").status_code == 302
    response = signup(Client(), "new-2")
    assert response.status_code == 429
    assert "Too many new accounts from your network. Please try again in" in response.text
    assert not get_user_model().objects.filter(username="new-2").exists()
    assert signup(Client(), "new-3", ip="198.51.100.1").status_code == 302


def test_reset_mails_are_throttled_per_address_and_per_network(client):
    make_user("ada", email="ada@example.com")
    for number in range(2):
        client.post("/accounts/password/reset/", {"email": "ada@example.com"}, REMOTE_ADDR=f"198.51.100.{number}")
    response = client.post("/accounts/password/reset/", {"email": "ADA@example.com"}, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429
    assert "Too many password-reset requests. Please try again in" in response.text
    assert len(mail.outbox) == 2
    for number in range(2):
        client.post("/accounts/password/reset/", {"email": f"other{number}@example.com"}, REMOTE_ADDR="192.0.2.1")
    response = client.post("/accounts/password/reset/", {"email": "third@example.com"}, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 429


def test_seed_demo_refuses_the_published_password_when_debug_is_off(settings, capsys):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="will not create accounts with the published demo password"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username__startswith="demo-").exists()
    call_command("seed_demo", "--password", "a-private-demo-pass-1")
    assert "channels-demo-2026" not in capsys.readouterr().out
    for user in get_user_model().objects.filter(username__startswith="demo-"):
        assert user.check_password("a-private-demo-pass-1"), user.username


def test_lock_out_limits_come_from_the_environment(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.ACCOUNTS_SIGNUPS_PER_HOUR,"
        " s.ACCOUNTS_PASSWORD_RESETS_PER_HOUR)"
    )
    env = production_env(
        tmp_path,
        ACCOUNTS_LOGIN_FAILURE_LIMIT="7",
        ACCOUNTS_LOCKOUT_MINUTES="30",
        ACCOUNTS_SIGNUPS_PER_HOUR="3",
        ACCOUNTS_PASSWORD_RESETS_PER_HOUR="4",
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7", "1800.0", "3", "4"]
