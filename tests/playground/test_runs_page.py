"""/playground/runs/: the learner's own runs, newest first, paged, with replay links; nobody else's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from playground.models import Run
from playground.starters import all_starters
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def make_run(learner, minutes_ago: int, **fields) -> Run:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    defaults = {
        "code": "x = 1",
        "starter": "echo",
        "started_at": started,
        "ended_at": started + timedelta(seconds=125),
        "end_reason": Run.EndReason.STOPPED,
        "event_count": 7,
    }
    return Run.objects.create(learner=learner, **{**defaults, **fields})


def listed_runs(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-run="(\d+)">', html)]


def test_visitor_is_asked_to_sign_in():
    response = Client().get("/playground/runs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/playground/runs/"


def test_only_the_learners_own_runs_newest_first_with_their_details():
    learner, other = make_user("runner"), make_user("other-runner")
    old = make_run(learner, 30)
    new = make_run(learner, 5, starter="chat_room", end_reason=Run.EndReason.LIMIT, end_detail="cpu limit reached")
    going = make_run(learner, 1, ended_at=None, end_reason="", event_count=2)
    hidden = make_run(other, 2)
    client = Client()
    client.force_login(learner)
    html = client.get("/playground/runs/").content.decode()
    assert listed_runs(html) == [going.pk, new.pk, old.pk]
    assert hidden.pk not in listed_runs(html)
    assert f'href="/playground/runs/{old.pk}/"' in html
    assert "2 min 5 s" in html
    assert "A limit was reached: cpu limit reached" in html
    assert f"<td>{all_starters()['chat_room'].title}</td>" in html
    assert "Watch live" in html and "still running" in html


def test_runs_are_paged_with_the_page_size_setting(settings):
    settings.PLAYGROUND_RUNS_PAGE_SIZE = 2
    learner = make_user("pager")
    runs = [make_run(learner, minutes) for minutes in (50, 40, 30, 20, 10)]
    client = Client()
    client.force_login(learner)
    first = client.get("/playground/runs/").content.decode()
    assert listed_runs(first) == [runs[4].pk, runs[3].pk]
    assert "Runs 1–2 of 5" in first and "Page 1 of 3" in first
    last = client.get("/playground/runs/?page=3").content.decode()
    assert listed_runs(last) == [runs[0].pk]
    assert listed_runs(client.get("/playground/runs/?page=99").content.decode()) == [runs[0].pk]
    assert listed_runs(client.get("/playground/runs/?page=nonsense").content.decode()) == [runs[4].pk, runs[3].pk]


def test_a_learner_without_runs_is_pointed_to_the_playground():
    client = Client()
    client.force_login(make_user("new"))
    html = client.get("/playground/runs/").content.decode()
    assert 'data-testid="no-runs"' in html


def test_the_playground_page_and_the_nav_link_to_the_runs_page():
    client = Client()
    client.force_login(make_user("nav"))
    html = client.get("/playground/").content.decode()
    assert html.count('href="/playground/runs/"') == 2  # account menu and beside the Run button
    assert 'href="/playground/runs/"' not in Client().get("/playground/").content.decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PLAYGROUND_RUNS_PAGE_SIZE", 0),
        ("PLAYGROUND_DRAFTS_PER_LEARNER", 0),
        ("PLAYGROUND_DRAFT_SAVES_PER_MINUTE", -1),
        ("PLAYGROUND_REATTACH_SECONDS", -1),
    ],
)
def test_a_setting_below_its_least_fails_the_system_check(settings, name, value):
    from playground.checks import valid_nothing_lost_settings

    assert valid_nothing_lost_settings() == []
    setattr(settings, name, value)
    (error,) = valid_nothing_lost_settings()
    assert error.id == "playground.E004" and name in error.msg
