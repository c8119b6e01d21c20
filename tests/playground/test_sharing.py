"""Issue 19 item 7: a run's share link can be revoked and can expire; only the run's owner changes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from playground.models import Run
from playground.sharing import link_state
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def make_run(owner=None) -> Run:
    return Run.objects.create(learner=owner or make_user(), code="x = 1", started_at=timezone.now(), events=[])


def test_link_works_until_the_instant_it_expires_and_not_from_then_on():
    run = make_run()
    run.share_expires_at = timezone.now()
    assert link_state(run, run.share_token, now=run.share_expires_at - timedelta(microseconds=1)) == "valid"
    assert link_state(run, run.share_token, now=run.share_expires_at) == "expired"
    assert link_state(run, "not-" + run.share_token, now=run.share_expires_at - timedelta(days=1)) == "invalid"
    run.share_expires_at = None
    assert link_state(run, run.share_token, now=timezone.now() + timedelta(days=3650)) == "valid"


def test_expired_link_answers_410_with_an_explanation_and_the_owner_still_sees_the_run():
    owner = make_user()
    run = make_run(owner)
    url = f"/playground/runs/{run.pk}/?share={run.share_token}"
    Run.objects.filter(pk=run.pk).update(share_expires_at=timezone.now() + timedelta(minutes=1))
    assert Client().get(url).status_code == 200
    Run.objects.filter(pk=run.pk).update(share_expires_at=timezone.now() - timedelta(seconds=1))
    expired = Client().get(url)
    assert expired.status_code == 410
    assert b"This share link has expired" in expired.content
    assert b"x = 1" not in expired.content
    owners = Client()
    owners.force_login(owner)
    assert owners.get(f"/playground/runs/{run.pk}/").status_code == 200


def owner_client(run: Run, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(run.learner)
    return client


def test_owner_revokes_the_link_old_token_refused_new_token_200():
    run = make_run()
    old = run.share_token
    response = owner_client(run).post(f"/playground/runs/{run.pk}/share/", {"action": "revoke", "expires": "never"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.share_token != old and run.share_expires_at is None
    stale = Client().get(f"/playground/runs/{run.pk}/?share={old}")  # a visitor: asked to sign in, not shown the run
    assert stale.status_code == 302 and stale["Location"].startswith("/accounts/login/?next=")
    assert Client().get(f"/playground/runs/{run.pk}/?share={run.share_token}").status_code == 200


def test_owner_sets_an_expiry_from_the_named_choices_keeping_the_link(settings):
    settings.PLAYGROUND_SHARE_LINK_DAYS = [2]
    run = make_run()
    token = run.share_token
    before = timezone.now()
    client = owner_client(run)
    assert client.post(f"/playground/runs/{run.pk}/share/", {"action": "expiry", "expires": "2"}).status_code == 302
    run.refresh_from_db()
    assert run.share_token == token
    assert before + timedelta(days=2) <= run.share_expires_at <= timezone.now() + timedelta(days=2)
    refused = client.post(f"/playground/runs/{run.pk}/share/", {"action": "expiry", "expires": "3650"})
    assert refused.status_code == 400  # only the named choices: no link that outlives the longest


def test_only_the_owner_may_change_the_link_by_post_with_csrf():
    run = make_run()
    token = run.share_token
    url = f"/playground/runs/{run.pk}/share/"
    data = {"action": "revoke", "expires": "never"}
    stranger = Client()
    stranger.force_login(make_user())
    assert stranger.post(url, data).status_code == 404
    assert Client().post(url, data).status_code == 404  # signed out
    assert owner_client(run).get(url).status_code == 405
    assert owner_client(run, csrf=True).post(url, data).status_code == 403  # no CSRF token
    assert Client().post("/playground/runs/999999/share/", data).status_code == 404
    run.refresh_from_db()
    assert run.share_token == token
