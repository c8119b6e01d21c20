"""Drafts: saved per learner and per starter, for visitors in their session, claimed at sign-in, every limit at its edge."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from playground.drafts import SESSION_KEY
from playground.models import Draft
from playground.run.limits import run_limits
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_save_counts():
    """Save counts live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def page_draft(client: Client, starter: str = "echo") -> dict | None:
    """The draft the playground page hands its editor (the json_script the page reads)."""
    response = client.get(f"/playground/{starter}/")
    assert response.status_code == 200
    html = response.content.decode()
    opening = '<script id="draft" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])


def save(client: Client, code: str, starter: str = "echo"):
    return client.post(f"/playground/{starter}/draft/", {"code": code})


def test_a_learners_code_comes_back_on_reload_and_on_another_device():
    learner = make_user("writer")
    laptop, phone = Client(), Client()
    laptop.force_login(learner)
    phone.force_login(learner)
    assert page_draft(laptop) is None
    response = save(laptop, "print('mine')\n")
    assert response.status_code == 200
    assert "saved_at" in response.json()
    assert page_draft(laptop)["code"] == "print('mine')\n"
    assert page_draft(phone)["code"] == "print('mine')\n"
    assert page_draft(phone, "chat_room") is None  # per starter
    save(phone, "print('changed on the phone')\n")
    assert page_draft(laptop)["code"] == "print('changed on the phone')\n"
    assert Draft.objects.filter(learner=learner).count() == 1


def test_another_learner_never_sees_a_draft():
    owner, stranger = Client(), Client()
    owner.force_login(make_user("owner"))
    stranger.force_login(make_user("stranger"))
    save(owner, "secret = 1\n")
    assert page_draft(stranger) is None
    assert page_draft(Client()) is None  # nor a visitor


def test_a_visitors_draft_lives_in_their_session_only():
    visitor = Client()
    assert save(visitor, "visitor = True\n").status_code == 200
    assert page_draft(visitor)["code"] == "visitor = True\n"
    assert page_draft(Client()) is None
    assert not Draft.objects.exists()


def test_signing_in_moves_the_session_draft_to_the_account():
    learner = make_user("signs-in-later")
    visitor = Client()
    save(visitor, "written before signing in\n")
    response = visitor.post("/accounts/login/", {"username": learner.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert Draft.objects.get(learner=learner, starter="echo").code == "written before signing in\n"
    assert visitor.session.get(SESSION_KEY) == {}
    other_device = Client()
    other_device.force_login(learner)
    assert page_draft(other_device)["code"] == "written before signing in\n"


def test_signing_in_keeps_the_accounts_draft_when_it_is_newer():
    learner = make_user("has-newer")
    visitor = Client()
    save(visitor, "older, from the session\n")
    Draft.objects.create(
        learner=learner, starter="echo", code="newer, from the account\n", saved_at=timezone.now() + timedelta(hours=1)
    )
    visitor.post("/accounts/login/", {"username": learner.username, "password": DEFAULT_PASSWORD})
    assert Draft.objects.get(learner=learner, starter="echo").code == "newer, from the account\n"


def test_reset_drops_the_draft_and_the_page_shows_the_starter_again():
    client = Client()
    client.force_login(make_user("resetter"))
    save(client, "my version\n")
    response = client.post("/playground/echo/draft/reset/")
    assert response.status_code == 200
    assert page_draft(client) is None
    assert not Draft.objects.exists()


def test_code_at_the_size_limit_is_saved_and_one_byte_more_is_refused_with_the_reason():
    client = Client()
    client.force_login(make_user("large"))
    limit = run_limits().max_code_bytes
    assert save(client, "#" * limit).status_code == 200
    response = save(client, "#" * (limit + 1))
    assert response.status_code == 413
    assert f"{limit:,} bytes" in response.json()["error"]
    assert len(Draft.objects.get().code) == limit  # the refused text changed nothing


def test_drafts_per_learner_limit_at_its_edge(settings):
    settings.PLAYGROUND_DRAFTS_PER_LEARNER = 2
    client = Client()
    client.force_login(make_user("many"))
    assert save(client, "a", "echo").status_code == 200
    assert save(client, "b", "chat_room").status_code == 200
    assert save(client, "b again", "chat_room").status_code == 200  # updating a draft is not a new one
    refused = save(client, "c", "json_reply")
    assert refused.status_code == 409
    assert "at most 2 starters" in refused.json()["error"]
    assert Draft.objects.count() == 2
    client.post("/playground/echo/draft/reset/")
    assert save(client, "c", "json_reply").status_code == 200


def test_a_visitors_drafts_have_the_same_limit(settings):
    settings.PLAYGROUND_DRAFTS_PER_LEARNER = 1
    visitor = Client()
    assert save(visitor, "a", "echo").status_code == 200
    assert save(visitor, "b", "chat_room").status_code == 409


def test_save_rate_limit_at_its_edge(settings):
    settings.PLAYGROUND_DRAFT_SAVES_PER_MINUTE = 3
    client = Client()
    client.force_login(make_user("fast"))
    for n in range(3):
        assert save(client, f"version {n}").status_code == 200
    refused = save(client, "version 3")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "at most 3 saves a minute" in refused.json()["error"]
    assert Draft.objects.get().code == "version 2"
    other = Client()
    other.force_login(make_user("slow"))
    assert save(other, "not slowed by someone else").status_code == 200


def test_unknown_starter_missing_code_and_get_are_refused():
    client = Client()
    client.force_login(make_user("confused"))
    assert save(client, "x", "no-such-starter").status_code == 404
    assert client.post("/playground/echo/draft/", {}).status_code == 400
    assert client.get("/playground/echo/draft/").status_code == 405
    assert client.post("/playground/no-such-starter/draft/reset/").status_code == 404
    assert not Draft.objects.exists()


def test_saving_and_resetting_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf"))
    assert save(client, "forged").status_code == 403
    assert client.post("/playground/echo/draft/reset/").status_code == 403
    assert not Draft.objects.exists()
    client.get("/playground/echo/")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    response = client.post("/playground/echo/draft/", {"code": "genuine"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


def test_learner_typed_code_is_escaped_in_the_page():
    client = Client()
    client.force_login(make_user("hostile"))
    save(client, "</script><script>alert(1)</script>")
    html = client.get("/playground/echo/").content.decode()
    assert "</script><script>alert(1)" not in html
    assert page_draft(client)["code"] == "</script><script>alert(1)</script>"


def test_a_draft_saved_elsewhere_since_is_not_overwritten_unless_the_learner_keeps_this_version():
    learner = make_user("two-tabs")
    first_tab, second_tab = Client(), Client()
    first_tab.force_login(learner)
    second_tab.force_login(learner)
    assert page_draft(second_tab) is None  # the second tab opened before any save: its base is ""
    saved = first_tab.post("/playground/echo/draft/", {"code": "first tab", "base": ""}).json()["saved_at"]
    assert first_tab.post("/playground/echo/draft/", {"code": "first tab, more", "base": saved}).status_code == 200

    stale = second_tab.post("/playground/echo/draft/", {"code": "second tab", "base": ""})
    assert stale.status_code == 409
    assert stale.json()["conflict"] is True
    assert "changed on another page or device" in stale.json()["error"]
    assert Draft.objects.get().code == "first tab, more"

    kept = second_tab.post("/playground/echo/draft/", {"code": "second tab"})  # "Keep this version": no base
    assert kept.status_code == 200
    assert Draft.objects.get().code == "second tab"
    assert page_draft(first_tab)["saved_at"] == kept.json()["saved_at"]


def test_a_visitors_two_tabs_are_protected_the_same_way():
    visitor = Client()
    saved = visitor.post("/playground/echo/draft/", {"code": "one", "base": ""}).json()["saved_at"]
    assert visitor.post("/playground/echo/draft/", {"code": "two", "base": ""}).status_code == 409
    assert visitor.post("/playground/echo/draft/", {"code": "two", "base": saved}).status_code == 200
    assert page_draft(visitor)["code"] == "two"


PAGE_A, PAGE_B = "a" * 32, "b" * 32


def page_save(client: Client, code: str, page: str, number: int, base: str = ""):
    """A save as static/js/playground/drafts.js sends it: the page's name, the save's number there and its base."""
    return client.post("/playground/echo/draft/", {"code": code, "base": base, "page": page, "page_save": number})


def signed_in_or_visitor(kind: str) -> Client:
    client = Client()
    if kind == "signed in":
        client.force_login(make_user("reloader"))
    return client


@pytest.mark.parametrize("kind", ["signed in", "visitor"])
def test_a_reload_while_the_last_save_is_answered_keeps_the_newest_text(kind):
    """The page's own earlier save, whose answer had not come back, is not a change made elsewhere."""
    client = signed_in_or_visitor(kind)
    assert page_save(client, "typed", PAGE_A, 1).status_code == 200
    on_the_way_out = page_save(client, "typed, then more", PAGE_A, 2)  # base still "": the answer never came
    assert on_the_way_out.status_code == 200
    assert page_draft(client)["code"] == "typed, then more"

    other_page = page_save(client, "an old tab", PAGE_B, 1)
    assert other_page.status_code == 409
    assert other_page.json()["conflict"] is True
    assert page_draft(client)["code"] == "typed, then more"


@pytest.mark.parametrize("kind", ["signed in", "visitor"])
def test_a_pages_earlier_save_arriving_late_changes_nothing(kind):
    client = signed_in_or_visitor(kind)
    newer = page_save(client, "newer", PAGE_A, 2)
    older = page_save(client, "older", PAGE_A, 1)
    again = page_save(client, "older", PAGE_A, 2)
    assert newer.status_code == older.status_code == again.status_code == 200
    assert older.json()["saved_at"] == again.json()["saved_at"] == newer.json()["saved_at"]
    assert page_draft(client)["code"] == "newer"
    if kind == "signed in":
        assert Draft.objects.get().code == "newer"


@pytest.mark.parametrize(
    ("page", "number", "status"),
    [
        (PAGE_A, 1, 200),
        (PAGE_A, 2**31 - 1, 200),
        (PAGE_A, 0, 400),
        (PAGE_A, 2**31, 400),
        (PAGE_A, "-1", 400),
        (PAGE_A, "1e3", 400),
        (PAGE_A, "²", 400),
        (PAGE_A, "01", 400),
        (PAGE_A, "9" * 40, 400),
        ("a" * 31, 1, 400),
        ("a" * 33, 1, 400),
        ("A" * 32, 1, 400),
        ("<script>alert(1)</script>", 1, 400),
    ],
)
def test_a_saves_page_name_and_number_are_checked_at_their_edges(page, number, status):
    learner = make_user("named-pages")
    client = Client()
    client.force_login(learner)
    answer = page_save(client, "x = 1", page, number)
    assert answer.status_code == status
    assert Draft.objects.filter(learner=learner).exists() is (status == 200)
    if status == 400:
        assert "reload the page" in answer.json()["error"]
        assert "<script>" not in answer.content.decode()


def test_a_save_naming_only_half_its_page_is_refused():
    client = Client()
    assert client.post("/playground/echo/draft/", {"code": "x", "page": PAGE_A}).status_code == 400
    assert client.post("/playground/echo/draft/", {"code": "x", "page_save": "1"}).status_code == 400
    assert page_draft(client) is None
