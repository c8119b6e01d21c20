"""Home, error pages, static files and health."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from django.test import AsyncClient, override_settings
from django.urls import path

from tests.conftest import health_details
from tests.factories import make_user


def test_home_describes_the_site_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Learn Django Channels by running it" in response.text
    assert 'href="/accounts/signup/"' in response.text


def test_home_greets_signed_in_user(client, db):
    user = make_user("ada")
    client.force_login(user)
    response = client.get("/")
    assert 'data-testid="current-user">ada<' in response.text


def test_home_escapes_username(client, db):
    client.force_login(make_user("<script>alert(1)</script>"))
    response = client.get("/")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_home_cards_link_to_lessons_quizzes_playground_and_visualizer(client):
    from lessons.catalogue import get_catalogue

    topics = get_catalogue().topics
    quiz_topic = next(topic for topic in topics if topic.quiz)
    execution_topic = next(topic for topic in topics if "execution" in topic.modes)
    text = client.get("/").text
    features = text[text.index('class="features"') :]
    for href, name in [
        ("/lessons/", "Lessons"),
        (f"/quizzes/{quiz_topic.slug}/", "Quizzes"),
        ("/playground/", "Playground"),
        (f"/lessons/{execution_topic.slug}/execution/", "Visualizer"),
    ]:
        assert f'<h2><a href="{href}">{name}</a></h2>' in features


def test_unknown_url_gets_friendly_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Go to the home page" in response.text


def boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [path("boom/", boom)]


@override_settings(ROOT_URLCONF="tests.test_pages")
def test_server_error_gets_friendly_500(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "kaboom" not in response.text


handler500 = "config.views.server_error"


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_database_and_layer(daphne_server):
    body = health_details(daphne_server.url)
    assert body["ok"] is True
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"] == {
        **body["checks"]["channel_layer"],
        "ok": True,
        "backend": "InMemoryChannelLayer",
    }


@pytest.mark.django_db
async def test_healthz_is_503_when_channel_layer_fails(monkeypatch, settings):
    from config import health

    settings.HEALTHZ_TOKEN = "operator-secret"
    settings.PLAYGROUND_EXECUTION = "workers"  # no sandbox pool in this test's event loop (see tests/test_health.py)

    class BrokenLayer:
        async def new_channel(self, prefix=""):
            raise ConnectionError("layer unreachable")

    monkeypatch.setattr(health, "get_channel_layer", lambda: BrokenLayer())
    response = await AsyncClient().get("/healthz", headers={"X-Healthz-Token": "operator-secret"})
    assert response.status_code == 503
    layer = response.json()["checks"]["channel_layer"]
    assert layer.pop("ms") >= 0  # how long the check took
    assert layer == {"ok": False, "backend": "BrokenLayer", "error": "layer unreachable"}


@pytest.mark.django_db(transaction=True)
def test_static_files_served_with_cache_headers(daphne_server):
    with urllib.request.urlopen(daphne_server.url + "/static/css/site.css", timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/css")
        assert "max-age=" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
    request = urllib.request.Request(daphne_server.url + "/static/css/site.css", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=30)
    assert excinfo.value.code == 304


@pytest.mark.django_db(transaction=True)
def test_favicon_ico_is_served_at_the_root_and_linked(daphne_server):
    with urllib.request.urlopen(daphne_server.url + "/favicon.ico", timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
        assert "max-age=" in response.headers["Cache-Control"]
        assert response.read(4) == b"\x00\x00\x01\x00"  # an ICO file's header
    with urllib.request.urlopen(daphne_server.url + "/", timeout=30) as response:
        assert '<link rel="icon" href="/static/img/favicon.ico"' in response.read().decode()


@pytest.mark.django_db(transaction=True)
def test_live_server_404_and_missing_static_are_friendly(daphne_server):
    for path_ in ("/nothing-here/", "/static/css/missing.css", "/static/../config/settings.py"):
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(daphne_server.url + path_, timeout=30)
        assert excinfo.value.code == 404
