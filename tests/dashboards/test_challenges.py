"""Challenges on the instructor's side: the matrix cell, the learner drill-down with links to failed runs, the cohort's
most-failed tests (counted by learner), the hint in the live feed, and who may see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from challenges.loader import get_challenges
from challenges.models import GradingRun, Submission
from challenges.services import reveal_hint
from dashboards.models import ActivityItem
from dashboards.progress_matrix import build_matrix
from tests.factories import make_cohort, make_user

pytestmark = pytest.mark.django_db(transaction=True)
SLUG = "shout-echo"


def results(*failed: str, hidden: str = "") -> list[dict]:
    names = ["accepts the connection", "shouts a word back", "upper-cases beyond ASCII"]
    return [
        {"test": name, "hidden": name == hidden, "passed": name not in failed, "reason": "r", "seconds": 0.5}
        for name in names
    ]


def graded(user, rows: list[dict], ago: int = 0, slug: str = SLUG) -> Submission:
    started = timezone.now() - timedelta(minutes=ago)
    passed = all(row["passed"] for row in rows)
    return Submission.objects.create(
        learner=user, challenge=slug, code="x = 1", content_hash="h", started_at=started, finished_at=started,
        passed=passed, passed_tests=sum(row["passed"] for row in rows), total_tests=len(rows),
        seconds=1.5 if passed else 2.0, results=rows,
    )  # fmt: skip


def test_the_matrix_cell_counts_the_topics_challenges_passed_and_gradings():
    learner = make_user("ann")
    cohort = make_cohort(learners=[learner])
    topic = get_challenges().get(SLUG).topic
    in_topic = sum(1 for c in get_challenges().challenges if c.topic == topic)
    graded(learner, results("shouts a word back"), ago=5)
    graded(learner, results())
    cell = build_matrix(cohort)[1][0].cells[topic]
    assert (cell.challenges, cell.challenges_tried, cell.challenges_passed, cell.challenge_attempts) == (
        in_topic,
        1,
        1,
        2,
    )
    html = str(build_matrix(cohort)[1][0].cells_html)
    assert f"◆1/{in_topic}" in html and "2 gradings" in html


def test_the_drilldown_lists_each_challenge_with_links_to_its_failed_runs(client):
    instructor = make_user("lead", instructor=True)
    learner = make_user("ann")
    cohort = make_cohort(instructor, learners=[learner])
    latest = graded(
        learner, results("shouts a word back", "upper-cases beyond ASCII", hidden="upper-cases beyond ASCII")
    )
    run = GradingRun.objects.create(submission=latest, position=1, events=[])
    client.force_login(instructor)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/learners/{learner.pk}/").content.decode()
    row = re.search(r'<tr data-challenge="shout-echo">.*?</tr>', page, re.S)[0]
    assert "Not passed yet" in row and "1 of 3 passed" in row
    assert f'<a href="/challenges/runs/{run.pk}/">shouts a word back</a>' in row
    timeline = re.search(r'data-testid="timeline">.*?</ol>', page, re.S)[0]
    assert "ran the tests of “Shout it back”: 1 of 3 passed" in timeline
    assert client.get(f"/challenges/runs/{run.pk}/").status_code == 200  # the instructor may step through it


def test_the_cohort_page_ranks_tests_by_the_learners_who_failed_them(client):
    instructor = make_user("lead", instructor=True)
    ann, bob, cid = make_user("ann"), make_user("bob"), make_user("cid")
    outsider = make_user("out")
    cohort = make_cohort(instructor, learners=[ann, bob, cid])
    for _ in range(3):  # one learner failing often counts once
        graded(ann, results("shouts a word back"), ago=10)
    graded(ann, results())  # and now passes
    graded(bob, results("shouts a word back", "upper-cases beyond ASCII", hidden="upper-cases beyond ASCII"))
    graded(cid, results("upper-cases beyond ASCII", hidden="upper-cases beyond ASCII"))
    graded(outsider, results("accepts the connection"))  # not in the cohort
    client.force_login(instructor)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/challenges/").content.decode()
    rows = re.findall(r'data-test="([^"]+)">.*?<td>(\d+) of (\d+) learners.*?</td><td>(\d+)</td>', page, re.S)
    assert rows == [  # as many failed both; more still fail the second
        ("upper-cases beyond ASCII", "2", "3", "2"),
        ("shouts a word back", "2", "3", "1"),
        ("accepts the connection", "0", "3", "0"),
    ]
    assert "(hidden)" in page
    client.force_login(make_user("other", instructor=True))
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/challenges/").status_code == 404
    client.force_login(ann)
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/challenges/").status_code == 403


def test_a_challenge_hint_reaches_the_cohort_feed_once_per_hint():
    learner = make_user("ann")
    cohort = make_cohort(learners=[learner])
    challenge = get_challenges().get(SLUG)
    for _ in range(len(challenge.hints) + 1):
        reveal_hint(learner, challenge)
    texts = list(ActivityItem.objects.filter(cohort=cohort, kind="challenge_hint").values_list("text", flat=True))
    assert texts == [
        f"ann opened hint {n} of the challenge “{challenge.title}”" for n in range(1, len(challenge.hints) + 1)
    ]
