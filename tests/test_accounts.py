"""Sign-up, log-in, password change and reset, roles and demo data."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.roles import INSTRUCTORS_GROUP, is_instructor
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def signup(client, username="newbie", password="a-long-unusual-pass-9", password2=None, **extra):
    data = {"username": username, "email": "", "password1": password, "password2": password2 or password, **extra}
    return client.post("/accounts/signup/", data)


def test_signup_creates_learner_and_logs_in(client):
    response = signup(client)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert not is_instructor(user)
    assert client.get("/").context["user"] == user


def test_signup_taken_name_shows_error_and_changes_nothing(client):
    make_user("taken")
    response = signup(client, username="taken")
    assert response.status_code == 200
    assert "A user with that username already exists." in response.text
    assert get_user_model().objects.filter(username="taken").count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [("12345678", "This password is too common."), ("short", "This password is too short.")],
)
def test_signup_weak_password_shows_error(client, password, message):
    response = signup(client, username="weakling", password=password)
    assert response.status_code == 200
    assert message in response.text
    assert not get_user_model().objects.filter(username="weakling").exists()


def test_signup_errors_are_linked_to_their_field(client):
    response = signup(client, username="x", password="abc", password2="abd")
    assert re.search(r'aria-describedby="[^"]*id_password2_error', response.text)
    assert 'aria-invalid="true"' in response.text


def test_signup_ignores_offsite_next(client):
    response = signup(client, next="https://evil.example/")
    assert response.headers["Location"] == "/"


def test_signup_requires_csrf_token():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/signup/", {"username": "x"})
    assert response.status_code == 403


def test_login_and_logout(client):
    make_user("ada")
    response = client.post("/accounts/login/", {"username": "ada", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "ada"
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


def test_instructors_land_on_their_dashboard_learners_at_home_and_next_wins(client):
    make_user("ada")
    make_user("prof", instructor=True)
    login = {"password": DEFAULT_PASSWORD}
    assert client.post("/accounts/login/", {"username": "ada", **login}).headers["Location"] == "/"
    client.post("/accounts/logout/")
    assert client.post("/accounts/login/", {"username": "prof", **login}).headers["Location"] == "/dashboard/"
    client.post("/accounts/logout/")
    landed = client.post("/accounts/login/?next=/lessons/", {"username": "prof", "next": "/lessons/", **login})
    assert landed.headers["Location"] == "/lessons/"
    assert client.get("/accounts/login/").headers["Location"] == "/dashboard/"  # already signed in


def test_login_wrong_password_shows_error(client):
    make_user("ada")
    response = client.post("/accounts/login/", {"username": "ada", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_password_change(client):
    user = make_user("ada")
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "brand-new-secret-77",
            "new_password2": "brand-new-secret-77",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-77")


def test_password_reset_by_email(client):
    make_user("ada", email="ada@example.com")
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link).headers["Location"]
    response = client.post(form_url, {"new_password1": "reset-secret-5150", "new_password2": "reset-secret-5150"})
    assert response.status_code == 302
    assert get_user_model().objects.get(username="ada").check_password("reset-secret-5150")


def test_make_instructor_command_grants_role():
    user = make_user("teach")
    call_command("make_instructor", "teach")
    assert is_instructor(get_user_model().objects.get(pk=user.pk))
    assert user.groups.filter(name=INSTRUCTORS_GROUP).exists()


def test_make_instructor_unknown_user_is_clear():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("make_instructor", "ghost")


@pytest.fixture
def development_site(settings):
    """`make run`'s DEBUG on, where seed_demo uses the published demo password."""
    settings.DEBUG = True


@pytest.mark.usefixtures("development_site")
def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo-learner" in out and "channels-demo-2026" in out
    users = get_user_model().objects.filter(username__in=["demo-instructor", "demo-learner"])
    assert users.count() == 2
    assert is_instructor(users.get(username="demo-instructor"))
    assert not is_instructor(users.get(username="demo-learner"))
    assert users.get(username="demo-learner").check_password("channels-demo-2026")


@pytest.mark.usefixtures("development_site")
def test_seed_demo_creates_one_demo_cohort_with_activity():
    from cohorts.models import Cohort
    from quizzes.models import Answer

    call_command("seed_demo")
    answers = Answer.objects.count()
    call_command("seed_demo")
    cohort = Cohort.objects.get(name="Demo cohort")
    assert cohort.memberships.filter(role="learner").count() == 15
    assert cohort.memberships.get(role="instructor").user.username == "demo-instructor"
    assert answers > 100 and Answer.objects.count() == answers


def test_admin_is_enabled(client):
    assert client.get("/admin/login/").status_code == 200
