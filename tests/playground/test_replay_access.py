"""Who reaches a replay link: a visitor who is not signed in is asked to sign in, not shown a 404."""

from __future__ import annotations

import pytest

from playground.models import Run
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    return Run.objects.create(learner=make_user("owner"), code="x = 1", started_at="2026-01-01T00:00:00Z", events=[])


def test_visitor_following_a_replay_link_is_sent_to_sign_in_and_back(client, run):
    path = f"/playground/runs/{run.pk}/"
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"
    client.force_login(run.learner)
    assert client.get(path).status_code == 200


def test_visitor_with_a_wrong_share_token_or_a_missing_run_gets_the_same_sign_in_prompt(client, run):
    wrong = client.get(f"/playground/runs/{run.pk}/?share=wrong")
    missing = client.get(f"/playground/runs/{run.pk + 1000}/")
    assert wrong.status_code == missing.status_code == 302
    assert wrong["Location"].startswith("/accounts/login/?next=")


def test_visitor_with_the_share_link_sees_the_replay(client, run):
    assert client.get(f"/playground/runs/{run.pk}/?share={run.share_token}").status_code == 200


def test_signed_in_stranger_still_gets_404(client, run):
    client.force_login(make_user("stranger"))
    assert client.get(f"/playground/runs/{run.pk}/").status_code == 404
    assert client.get(f"/playground/runs/{run.pk + 1000}/").status_code == 404
