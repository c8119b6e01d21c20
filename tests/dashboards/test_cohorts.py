"""Cohorts over HTTP: creation, join links, membership changes, permissions, the progress matrix and CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cohorts.models import Cohort, Membership
from lessons.models import ModeVisit, TopicCompletion
from playground.models import Run
from quizzes.models import HintReveal
from tests.factories import correct_keys, make_attempt, make_cohort, make_user, wrong_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def instructor(client):
    user = make_user("teacher", instructor=True)
    client.force_login(user)
    return user


def test_instructor_creates_a_cohort_and_teaches_it(client, instructor):
    response = client.post("/dashboard/", {"name": "Evening class", "expires_in_days": "7"})
    cohort = Cohort.objects.get()
    assert response.headers["Location"] == f"/dashboard/cohorts/{cohort.pk}/"
    assert Membership.objects.get(cohort=cohort).role == "instructor"
    assert cohort.join_expires_at > timezone.now() + timedelta(days=6)


def test_cohort_form_errors_are_shown(client, instructor):
    response = client.post("/dashboard/", {"name": "", "expires_in_days": "0"})
    assert response.status_code == 200 and not Cohort.objects.exists()
    assert "This field is required." in response.text
    assert "Ensure this value is greater than or equal to 1." in response.text


def test_learners_cannot_open_dashboards(client):
    client.force_login(make_user("pupil"))
    assert client.get("/dashboard/").status_code == 403
    assert client.post("/dashboard/", {"name": "Mine"}).status_code == 403
    assert not Cohort.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/dashboard/").headers["Location"].startswith("/accounts/login/")


def test_learner_joins_through_the_link_and_can_leave(client):
    cohort = make_cohort()
    learner = make_user("joiner")
    client.force_login(learner)
    page = client.get(f"/dashboard/join/{cohort.join_code}/")
    assert cohort.name in page.text
    assert not Membership.objects.filter(user=learner).exists()  # GET changes nothing
    client.post(f"/dashboard/join/{cohort.join_code}/")
    assert Membership.objects.get(user=learner).role == "learner"
    client.post(f"/dashboard/my-cohorts/{cohort.pk}/leave/")
    assert not Membership.objects.filter(user=learner).exists()


def test_expired_and_rotated_links_are_refused_clearly(client, instructor):
    cohort = make_cohort(instructor)
    old_code = cohort.join_code
    client.post(f"/dashboard/cohorts/{cohort.pk}/rotate/", {"expires_in_days": ""})
    cohort.refresh_from_db()
    assert cohort.join_code != old_code
    learner = make_user("late")
    client.force_login(learner)
    response = client.post(f"/dashboard/join/{old_code}/")
    assert response.status_code == 404 and "not valid any more" in response.text
    Cohort.objects.filter(pk=cohort.pk).update(join_expires_at=timezone.now() - timedelta(minutes=1))
    assert client.post(f"/dashboard/join/{cohort.join_code}/").status_code == 404
    assert not Membership.objects.filter(user=learner).exists()


def test_instructor_removes_a_learner_and_adds_a_co_instructor(client, instructor):
    learner = make_user("leaving")
    cohort = make_cohort(instructor, learners=[learner])
    client.post(f"/dashboard/cohorts/{cohort.pk}/members/{learner.pk}/remove/", {"role": "learner"})
    assert not Membership.objects.filter(user=learner).exists()
    make_user("helper", instructor=True)
    make_user("notateacher")
    client.post(f"/dashboard/cohorts/{cohort.pk}/instructors/", {"username": "notateacher"})
    client.post(f"/dashboard/cohorts/{cohort.pk}/instructors/", {"username": "helper"})
    roles = dict(Membership.objects.filter(cohort=cohort).values_list("user__username", "role"))
    assert roles == {"teacher": "instructor", "helper": "instructor"}


def test_remove_asks_first_and_can_be_undone_within_the_window(client, instructor, settings):
    learner = make_user("maybe")
    cohort = make_cohort(instructor, learners=[learner])
    joined = timezone.now() - timedelta(days=3)
    Membership.objects.filter(user=learner).update(joined_at=joined)
    url = f"/dashboard/cohorts/{cohort.pk}/members/{learner.pk}/remove/"
    assert f'href="{url}"' in client.get(f"/dashboard/cohorts/{cohort.pk}/").text  # a link to a question, not a POST
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Remove maybe from Spring cohort?" in confirm.text
    assert Membership.objects.filter(user=learner).exists()  # asking changes nothing

    page = client.post(url, follow=True)
    assert not Membership.objects.filter(user=learner).exists()
    assert "maybe was removed from the cohort." in page.text
    undo = f"/dashboard/cohorts/{cohort.pk}/members/{learner.pk}/undo-remove/"
    assert f'action="{undo}"' in page.text
    assert client.get(undo).status_code == 405  # undo is a POST with its CSRF token, never a link

    page = client.post(undo, follow=True)
    assert "maybe is back in the cohort." in page.text
    membership = Membership.objects.get(user=learner)
    assert (membership.role, membership.joined_at) == ("learner", joined)  # the same place, join date kept
    assert f'action="{undo}"' not in page.text
    again = client.post(undo, follow=True)  # undone once: nothing left to undo
    assert "can no longer be undone" in again.text


def _age_removals(client, seconds):
    session = client.session
    for entry in session["dashboards.removals"]:
        entry["removed_at"] = (timezone.now() - timedelta(seconds=seconds)).isoformat()
    session.save()


def test_undo_is_refused_once_the_window_has_passed(client, instructor, settings):
    settings.DASHBOARD_REMOVE_UNDO_SECONDS = 120
    early, late = make_user("early"), make_user("late")
    cohort = make_cohort(instructor, learners=[early, late])
    base = f"/dashboard/cohorts/{cohort.pk}/members"
    client.post(f"{base}/{early.pk}/remove/")
    _age_removals(client, 115)  # inside the window (a few seconds of slack for a slow machine)
    client.post(f"{base}/{early.pk}/undo-remove/")
    assert Membership.objects.filter(user=early).exists()
    client.post(f"{base}/{late.pk}/remove/")
    _age_removals(client, 121)
    page = client.post(f"{base}/{late.pk}/undo-remove/", follow=True)
    assert "can no longer be undone" in page.text
    assert not Membership.objects.filter(user=late).exists()


def test_undo_belongs_to_the_cohort_it_was_removed_from(client, instructor):
    learner = make_user("moved")
    cohort, other = make_cohort(instructor, learners=[learner]), make_cohort(instructor, "Other")
    client.post(f"/dashboard/cohorts/{cohort.pk}/members/{learner.pk}/remove/")
    client.post(f"/dashboard/cohorts/{other.pk}/members/{learner.pk}/undo-remove/")
    assert not Membership.objects.filter(user=learner).exists()
    stranger = make_user("stranger-teacher", instructor=True)
    client.force_login(stranger)
    assert client.post(f"/dashboard/cohorts/{cohort.pk}/members/{learner.pk}/undo-remove/").status_code == 404
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/members/{learner.pk}/remove/").status_code == 404


def test_an_empty_filter_result_says_so_and_offers_to_clear_it(client, instructor):
    cohort = make_cohort(instructor, learners=[make_user("present")])
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/", {"q": "nobody-like-this"})
    assert "No learners match this filter." in page.text and "No learners yet" not in page.text
    assert f'href="/dashboard/cohorts/{cohort.pk}/">Clear the filter' in page.text
    empty = make_cohort(instructor, "Empty")
    assert "No learners yet: share the join link." in client.get(f"/dashboard/cohorts/{empty.pk}/").text


def test_drill_down_shows_question_and_choice_text_hints_per_question_and_titles(client, instructor):
    from quizzes.bank import get_bank
    from quizzes.services import submit_answer

    learner = make_user("detailed")
    cohort = make_cohort(instructor, learners=[learner])
    attempt = make_attempt(learner, "groups", mode="practice", seed=1)
    first, second = attempt.question_ids[:2]
    submit_answer(attempt, first, [wrong_key(first)])
    now = timezone.now()
    for index in (0, 1):
        HintReveal.objects.create(attempt=attempt, question_id=second, hint_index=index, revealed_at=now)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/learners/{learner.pk}/")
    text = page.text
    bank = get_bank().questions
    assert bank[first].stem_html in text and bank[first].choices[wrong_key(first)].text_html in text
    assert "Groups and broadcast · Practice · started" in text
    assert "Practice: one question" not in text and "Practice: …" not in text
    view = page.context["attempts"][0]
    hints = {line.question_id: line.hints for line in view.lines}
    assert hints[second] == 2 and hints[first] == 0 and view.hints == 2
    assert len(view.lines) == len(attempt.question_ids)  # unanswered questions are listed too
    assert f"<td>{first}</td>" not in text


def test_last_instructor_cannot_be_removed(client, instructor):
    cohort = make_cohort(instructor)
    response = client.post(
        f"/dashboard/cohorts/{cohort.pk}/members/{instructor.pk}/remove/", {"role": "instructor"}, follow=True
    )
    assert "keeps at least one instructor" in response.text
    assert Membership.objects.filter(cohort=cohort, role="instructor").count() == 1


def test_other_instructors_and_learners_get_404_for_every_cohort_page(client):
    learner = make_user("watched")
    cohort = make_cohort(learners=[learner])
    for user in (make_user("stranger", instructor=True), learner):
        client.force_login(user)
        for url in (
            f"/dashboard/cohorts/{cohort.pk}/",
            f"/dashboard/cohorts/{cohort.pk}/learners/{learner.pk}/",
            f"/dashboard/cohorts/{cohort.pk}/export/gradebook.csv",
        ):
            assert client.get(url).status_code in (403, 404), (user, url)
        assert client.post(f"/dashboard/cohorts/{cohort.pk}/rotate/").status_code in (403, 404)
    client.force_login(make_user("stranger2", instructor=True))
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/").status_code == 404
    assert client.get(f"/dashboard/cohorts/{cohort.pk + 999}/").status_code == 404


def test_matrix_shows_each_kind_of_progress(client, instructor):
    learner = make_user("busy")
    cohort = make_cohort(instructor, learners=[learner])
    now = timezone.now()
    ModeVisit.objects.create(user=learner, topic="groups", mode="concept", first_seen=now, last_seen=now)
    ModeVisit.objects.create(user=learner, topic="groups", mode="quiz", first_seen=now, last_seen=now)
    TopicCompletion.objects.create(user=learner, topic="groups", completed_at=now, content_hash="x", via="manual")
    attempt = make_attempt(learner, "groups")
    HintReveal.objects.create(attempt=attempt, question_id=attempt.question_ids[0], hint_index=0, revealed_at=now)
    from quizzes.services import finish_attempt, submit_answer

    for qid in attempt.question_ids:
        submit_answer(attempt, qid, correct_keys(qid))
    finish_attempt(attempt)
    Run.objects.create(
        learner=learner, starter="chat_room", code="", started_at=now, ended_at=now, end_reason="stopped"
    )
    response = client.get(f"/dashboard/cohorts/{cohort.pk}/")
    row = next(r for r in response.context["rows"] if r.username == "busy")
    cell = row.cells["groups"]
    assert (cell.modes_seen, cell.completed, cell.best_score, cell.hints, cell.runs) == (2, True, 100.0, 1, 1)
    assert row.flags == []


def test_matrix_flags_learners_who_look_stuck(client, instructor, settings):
    settings.DASHBOARD_STUCK_FAILED_ATTEMPTS = 2
    idle = make_user("idle")
    failing = make_user("failing")
    cohort = make_cohort(instructor, learners=[idle, failing])
    from quizzes.services import finish_attempt

    for seed in (1, 2):
        finish_attempt(make_attempt(failing, "groups", seed=seed))
    Membership.objects.filter(user=idle).update(joined_at=timezone.now() - timedelta(days=8))
    rows = {r.username: r for r in client.get(f"/dashboard/cohorts/{cohort.pk}/").context["rows"]}
    assert rows["idle"].flags == ["no progress for 7+ days"]
    assert rows["failing"].flags == ["2 failed quiz attempts on Groups and broadcast"]
    stuck_only = client.get(f"/dashboard/cohorts/{cohort.pk}/", {"stuck": "1", "sort": "stuck"}).context["rows"]
    assert {r.username for r in stuck_only} == {"idle", "failing"}


def test_a_learner_who_just_joined_is_not_flagged_idle_but_one_idle_since_joining_is(client, instructor, settings):
    newcomer, settled, returning = make_user("newcomer"), make_user("settled"), make_user("returning")
    cohort = make_cohort(instructor, learners=[newcomer, settled, returning])
    days = settings.DASHBOARD_STUCK_IDLE_DAYS
    Membership.objects.filter(user=settled).update(joined_at=timezone.now() - timedelta(days=days, minutes=1))
    # Active long ago, then joined today: idle time counts from joining.
    long_ago = timezone.now() - timedelta(days=30)
    ModeVisit.objects.create(user=returning, topic="groups", mode="concept", first_seen=long_ago, last_seen=long_ago)
    rows = {r.username: r for r in client.get(f"/dashboard/cohorts/{cohort.pk}/").context["rows"]}
    assert rows["newcomer"].flags == [] and rows["returning"].flags == []
    assert rows["settled"].flags == [f"no progress for {days}+ days"]


def test_runs_whose_code_raised_count_toward_the_run_errors_flag(client, instructor, settings):
    settings.DASHBOARD_STUCK_RUN_ERRORS = 3
    learner = make_user("crashy")
    cohort = make_cohort(instructor, learners=[learner])
    now = timezone.now()

    def run(**fields):
        Run.objects.create(learner=learner, starter="echo", code="", started_at=now, ended_at=now, **fields)

    run(end_reason=Run.EndReason.ERROR)  # failed to load
    run(end_reason=Run.EndReason.STOPPED, error_count=2)  # connect() raised, then the learner stopped it
    run(end_reason=Run.EndReason.STOPPED)  # a clean run
    row = client.get(f"/dashboard/cohorts/{cohort.pk}/").context["rows"][0]
    assert row.run_errors_recently == 2 and row.flags == []
    Run.objects.create(learner=learner, starter="echo", code="", started_at=now, error_count=1)  # still running
    row = client.get(f"/dashboard/cohorts/{cohort.pk}/").context["rows"][0]
    assert row.flags == ["3 playground runs hit errors today"]


def test_matrix_query_count_does_not_grow_with_learners(client, instructor, django_assert_max_num_queries):
    cohort = make_cohort(instructor, learners=[make_user(f"l{i}") for i in range(3)])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(f"/dashboard/cohorts/{cohort.pk}/")
    for i in range(25):
        Membership.objects.create(cohort=cohort, user=make_user(f"m{i}"), role="learner")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(f"/dashboard/cohorts/{cohort.pk}/")


def test_instructor_sees_a_learners_drill_down_and_run_replays(client, instructor):
    learner = make_user("drilled")
    cohort = make_cohort(instructor, learners=[learner])
    run = Run.objects.create(learner=learner, starter="echo", code="x = 1", started_at=timezone.now(), events=[])
    ModeVisit.objects.create(
        user=learner, topic="groups", mode="concept", first_seen=timezone.now(), last_seen=timezone.now()
    )
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/learners/{learner.pk}/")
    assert f'href="/playground/runs/{run.pk}/"' in page.text
    assert [text for _, text in page.context["timeline"]] == [
        "read Groups and broadcast · Concept",
        "ran echo in the playground",
    ]
    assert client.get(f"/playground/runs/{run.pk}/").status_code == 200
    client.force_login(make_user("outsider", instructor=True))
    assert client.get(f"/playground/runs/{run.pk}/").status_code == 404


def test_a_running_runs_replay_follows_it_live_for_its_owner_and_instructors_only(client, instructor):
    learner = make_user("running")
    make_cohort(instructor, learners=[learner])
    run = Run.objects.create(learner=learner, starter="echo", code="x = 1", started_at=timezone.now(), events=[])
    watch_path = f'data-watch-path="/ws/runs/{run.pk}/watch/"'
    assert watch_path in client.get(f"/playground/runs/{run.pk}/").text
    client.force_login(learner)
    assert watch_path in client.get(f"/playground/runs/{run.pk}/").text
    client.logout()
    shared = client.get(f"/playground/runs/{run.pk}/?share={run.share_token}")
    assert shared.status_code == 200 and "data-watch-path" not in shared.text  # the watch socket would refuse
    Run.objects.filter(pk=run.pk).update(ended_at=timezone.now(), end_reason=Run.EndReason.STOPPED)
    client.force_login(instructor)
    ended = client.get(f"/playground/runs/{run.pk}/")
    assert "data-watch-path" not in ended.text and "Replay of run" in ended.text


def test_usernames_are_escaped_on_the_dashboard(client, instructor):
    cohort = make_cohort(instructor, learners=[make_user("<img src=x onerror=alert(1)>")])
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/").text
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_question_statistics_page_and_csv(client, instructor):
    learners = [make_user(f"s{i}") for i in range(4)]
    cohort = make_cohort(instructor, learners=learners)
    from quizzes.services import finish_attempt, submit_answer

    for number, learner in enumerate(learners):
        attempt = make_attempt(learner, "groups", seed=1)
        for position, qid in enumerate(attempt.question_ids):
            right = position < number * 3  # stronger learners get more right
            submit_answer(attempt, qid, correct_keys(qid) if right else [wrong_key(qid)])
        finish_attempt(attempt)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/questions/groups/")
    assert page.status_code == 200
    report = page.context["report"]
    first = report.questions[0]
    assert first.stats.n == 4 and first.stats.facility == 75.0
    assert "more attempts needed" in " ".join(first.stats.flags)
    assert report.quiz.n == 4 and report.quiz.alpha is not None
    assert sum(bar.count for bar in report.scores.bars) == 4
    lines = (
        b"".join(client.get(f"/dashboard/cohorts/{cohort.pk}/questions/groups/export.csv").streaming_content)
        .decode()
        .splitlines()
    )
    assert lines[0].startswith('"question","difficulty","attempts","facility"') and len(lines) == 1 + len(
        report.questions
    )
    answers = (
        b"".join(client.get(f"/dashboard/cohorts/{cohort.pk}/export/answers.csv").streaming_content)
        .decode()
        .splitlines()
    )
    assert len(answers) == 1 + 4 * 10
    client.force_login(make_user("nosy-teacher", instructor=True))
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/questions/groups/").status_code == 404
    assert client.get(f"/dashboard/cohorts/{cohort.pk}/export/answers.csv").status_code == 404


def test_cohort_charts_count_completions_and_daily_answers(client, instructor):
    done, idle = make_user("done"), make_user("idle2")
    cohort = make_cohort(instructor, learners=[done, idle])
    now = timezone.now()
    TopicCompletion.objects.create(user=done, topic="groups", completed_at=now, content_hash="x", via="manual")
    from quizzes.services import submit_answer

    attempt = make_attempt(done, "groups")
    submit_answer(attempt, attempt.question_ids[0], [wrong_key(attempt.question_ids[0])])
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/")
    completion = {bar.label: bar.count for bar in page.context["completion_chart"].bars}
    assert completion["9. Groups and broadcast"] == 1 and sum(completion.values()) == 1
    activity = page.context["activity_chart"].bars
    assert len(activity) == 14 and activity[-1].count == 1 and sum(bar.count for bar in activity) == 1
    assert "Learners who completed each topic" in page.text and "<title>9. Groups and broadcast: 1</title>" in page.text
