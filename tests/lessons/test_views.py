"""Lesson pages, tabs over htmx, progress for visitors and learners, and search."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from lessons.catalogue import get_catalogue
from lessons.models import LearningPreference, ModeVisit, TopicCompletion
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    return get_catalogue().get("consumer-lifecycle")


def test_outline_lists_topics_in_order_with_modes(client):
    response = client.get("/lessons/")
    assert response.status_code == 200
    titles = [topic.title for topic in get_catalogue().topics]
    positions = [response.text.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "Step-by-step execution" in response.text


def test_topic_opens_first_mode_then_preferred_mode(client, topic):
    assert client.get(f"/lessons/{topic.slug}/").context["parts"].page.key == topic.mode_keys[0]
    client.get(f"/lessons/{topic.slug}/mistakes/")
    assert client.get(f"/lessons/{topic.slug}/").context["parts"].page.key == "mistakes"


def test_preferred_mode_is_saved_for_learners(client, topic):
    user = make_user()
    client.force_login(user)
    client.get(f"/lessons/{topic.slug}/snapshot/")
    assert LearningPreference.objects.get(user=user).preferred_mode == "snapshot"
    assert ModeVisit.objects.filter(user=user, topic=topic.slug, mode="snapshot").count() == 1
    client.get(f"/lessons/{topic.slug}/snapshot/")
    assert ModeVisit.objects.filter(user=user, topic=topic.slug, mode="snapshot").count() == 1


WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_of(client, path: str) -> list[str]:
    """The statements a GET of `path` writes with, session saves included."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_rereading_the_last_page_writes_nothing_until_the_refresh_interval(client, topic, settings):
    user = make_user()
    client.force_login(user)
    page = f"/lessons/{topic.slug}/snapshot/"
    assert writes_of(client, page)  # the first read records the visit and the preferred mode
    assert writes_of(client, page) == []
    assert writes_of(client, f"/lessons/{topic.slug}/") == []  # the topic opens in the preferred mode: no change
    assert writes_of(client, f"/lessons/{topic.slug}/qa/")  # another mode is a change
    assert writes_of(client, f"/lessons/{topic.slug}/qa/") == []
    settings.LESSON_VISIT_REFRESH_SECONDS = 0
    assert writes_of(client, f"/lessons/{topic.slug}/qa/")  # an old "last seen" is refreshed


def test_a_visitor_rereading_the_last_page_saves_no_session(client, topic):
    page = f"/lessons/{topic.slug}/qa/"
    assert writes_of(client, page)  # the session is created
    assert writes_of(client, page) == []
    assert "sessionid" not in client.get(page).cookies


def test_mode_tab_over_htmx_returns_only_the_region(client, topic):
    response = client.get(f"/lessons/{topic.slug}/concept/", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="mode-region"')
    assert "<html" not in response.text
    assert 'aria-selected="true" aria-controls="mode-panel"' in response.text


def test_unknown_topic_and_mode_are_404(client, topic):
    assert client.get("/lessons/no-such-topic/").status_code == 404
    assert client.get(f"/lessons/{topic.slug}/teleport/").status_code == 404


def test_execution_mode_renders_trace_table_and_tracker(client, topic):
    response = client.get(f"/lessons/{topic.slug}/execution/")
    assert "Execution table" in response.text and "Variable tracker" in response.text
    execution = response.context["parts"].execution
    assert len(execution.rows) == len(topic.trace.events)
    states = next(row for row in execution.tracker if row.name == "connection_state")
    # The consumer-lifecycle lesson records seed 001's run: its tracker reads as that seed's does.
    assert [cell.value for cell in states.cells] == ["None", "Accepted", "Open", "Open", "Closed"]
    # The code that ran, for the step-through beside it and for a page without JavaScript.
    assert response.context["parts"].trace_code.startswith("# Echo:")
    assert 'id="trace-consumer-lifecycle-echo-code"' in response.text
    assert "class EchoConsumer(AsyncWebsocketConsumer):" in response.text


def test_code_is_highlighted_with_pygments(client, topic):
    response = client.get(f"/lessons/{topic.slug}/walkthrough/")
    assert 'class="highlight"' in response.text
    css = client.get("/lessons/pygments.css")
    assert css["Content-Type"].startswith("text/css")
    assert "prefers-color-scheme: dark" in css.text and ".highlight" in css.text


def test_mark_complete_requires_post_and_csrf(client, topic):
    assert client.get(f"/lessons/{topic.slug}/complete/").status_code == 405
    from django.test import Client

    assert Client(enforce_csrf_checks=True).post(f"/lessons/{topic.slug}/complete/").status_code == 403


def use_topic(monkeypatch, changed):
    """Serve `changed` in place of the catalogue's topic of the same slug, to lesson and quiz pages alike."""
    catalogue = get_catalogue()
    patched = dataclasses.replace(
        catalogue,
        topics=tuple(changed if t.slug == changed.slug else t for t in catalogue.topics),
        by_slug=MappingProxyType({**catalogue.by_slug, changed.slug: changed}),
    )
    monkeypatch.setattr("lessons.views.get_catalogue", lambda: patched)
    return changed


@pytest.fixture
def quizless(monkeypatch, topic):
    """The same topic without a quiz: the only kind a learner may mark complete by hand."""
    return use_topic(monkeypatch, dataclasses.replace(topic, quiz=None))


def test_topic_with_a_quiz_states_its_pass_mark_and_refuses_mark_complete(client, topic):
    user = make_user()
    client.force_login(user)
    page = client.get(f"/lessons/{topic.slug}/").text
    rule = f"This topic is complete when you pass its quiz with {topic.quiz.pass_percent}% or more."
    assert rule in page and "Mark complete</button>" not in page
    assert f'href="/quizzes/{topic.slug}/"' in page
    response = client.post(f"/lessons/{topic.slug}/complete/")
    assert response.status_code == 409 and rule in response.text
    assert not TopicCompletion.objects.exists()


def test_the_pass_mark_on_the_topic_page_is_the_quizs_own(client, topic, monkeypatch):
    # One number: the topic page's rule and the quiz page both read the quiz's pass mark.
    use_topic(monkeypatch, dataclasses.replace(topic, quiz=dataclasses.replace(topic.quiz, pass_percent=85)))
    assert "pass its quiz with 85% or more" in client.get(f"/lessons/{topic.slug}/").text
    assert "Pass with 85% to complete the topic" in client.get(f"/quizzes/{topic.slug}/").text


def test_mark_complete_of_a_topic_without_quiz_is_idempotent(client, quizless):
    user = make_user()
    client.force_login(user)
    page = client.get(f"/lessons/{quizless.slug}/").text
    assert "it is complete when you mark it complete" in page and "Mark complete</button>" in page
    client.post(f"/lessons/{quizless.slug}/complete/")
    client.post(f"/lessons/{quizless.slug}/complete/")
    completion = TopicCompletion.objects.get(user=user)
    assert completion.topic == quizless.slug and completion.content_hash == quizless.content_hash
    assert 'data-testid="completed"' in client.get("/lessons/").text


def test_anonymous_progress_is_merged_at_login(client, quizless):
    user = make_user("ada")
    client.get(f"/lessons/{quizless.slug}/practice/")
    client.post(f"/lessons/{quizless.slug}/complete/")
    client.post("/accounts/login/", {"username": "ada", "password": DEFAULT_PASSWORD})
    assert TopicCompletion.objects.filter(user=user, topic=quizless.slug).exists()
    assert ModeVisit.objects.filter(user=user, topic=quizless.slug, mode="practice").exists()
    assert LearningPreference.objects.get(user=user).preferred_mode == "practice"


def test_anonymous_progress_is_merged_at_signup(client, topic):
    client.get(f"/lessons/{topic.slug}/qa/")
    client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-long-unusual-pass-9", "password2": "a-long-unusual-pass-9"},
    )
    assert ModeVisit.objects.filter(user__username="newbie", mode="qa").exists()


def test_home_offers_continue_where_you_left_off(client, topic):
    user = make_user()
    client.force_login(user)
    assert 'data-testid="continue"' not in client.get("/").text
    client.get(f"/lessons/{topic.slug}/performance/")
    response = client.get("/")
    assert f'href="/lessons/{topic.slug}/performance/"' in response.text


def test_search_ranks_title_hits_and_highlights(client):
    response = client.get("/lessons/search/", {"q": "accept"})
    results = response.context["results"]
    assert results, "the lifecycle lessons talk about accept()"
    assert "<mark>accept</mark>" in str(results[0].snippet).lower()
    scores = [result.score for result in results]
    assert scores == sorted(scores, reverse=True)


def test_search_escapes_query_and_snippets(client):
    response = client.get("/lessons/search/", {"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_search_query_length_limit_at_edge(client, settings):
    limit = settings.LESSON_SEARCH_MAX_QUERY_CHARS
    assert client.get("/lessons/search/", {"q": "a" * limit}).status_code == 200
    response = client.get("/lessons/search/", {"q": "a" * (limit + 1)})
    assert response.status_code == 400
    assert f"at most {limit} characters" in response.text


def test_search_with_no_match_says_so(client):
    response = client.get("/lessons/search/", {"q": "zzyzxq"})
    assert "0 results" in response.text


def test_builds_on_names_prerequisites_by_title_with_links(client):
    topic = get_catalogue().get("groups")
    text = client.get("/lessons/groups/").text
    titles = [get_catalogue().get(slug).title for slug in topic.prerequisites]
    links = "; ".join(
        f'<a href="/lessons/{slug}/">{title}</a>' for slug, title in zip(topic.prerequisites, titles, strict=True)
    )
    assert f"Builds on: {links}</span>" in text


def test_a_learners_topic_page_reads_their_progress_in_one_query(client, topic):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_user())
    client.get(f"/lessons/{topic.slug}/qa/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/lessons/{topic.slug}/").status_code == 200
    progress_queries = [q["sql"] for q in captured.captured_queries if '"lessons_' in q["sql"]]
    assert len(progress_queries) == 1, progress_queries


def test_a_topic_pages_progress_agrees_with_the_learners_whole_progress(rf, topic):
    from datetime import timedelta

    from django.utils import timezone

    from lessons.learner_progress import load_topic_progress, load_user_progress

    user = make_user()
    request = rf.get("/")
    request.user = user
    assert load_topic_progress(request, topic) == load_user_progress(user)  # nothing yet
    now = timezone.now()
    for mode, ago in (("qa", 5), ("concept", 1), ("snapshot", 1), ("mistakes", 9)):  # concept and snapshot tie
        ModeVisit.objects.create(user=user, topic=topic.slug, mode=mode, first_seen=now, last_seen=now - timedelta(ago))
    LearningPreference.objects.create(user=user, preferred_mode="qa")
    TopicCompletion.objects.create(user=user, topic=topic.slug, completed_at=now, content_hash="x", via="quiz")
    TopicCompletion.objects.create(user=user, topic="another-topic", completed_at=now, content_hash="x", via="quiz")
    page, whole = load_topic_progress(request, topic), load_user_progress(user)
    assert (page.last, page.last_seen, page.preferred_mode) == (whole.last, whole.last_seen, whole.preferred_mode)
    assert page.last == (topic.slug, "concept")
    assert page.completed == {topic.slug} and page.seen == {}  # the page's own topic only


def test_a_topic_modes_shared_html_is_rendered_once_per_catalogue(topic):
    from lessons.topic_parts import topic_parts

    catalogue = get_catalogue()
    first = topic_parts(catalogue, topic, "concept")
    assert topic_parts(catalogue, topic, "concept") is first
    assert topic_parts(catalogue, topic, "qa") is not first
    changed = dataclasses.replace(topic, title="A retitled lesson")  # new content comes as a new catalogue
    renewed = dataclasses.replace(
        catalogue,
        topics=tuple(changed if t.slug == topic.slug else t for t in catalogue.topics),
        by_slug=MappingProxyType({**catalogue.by_slug, topic.slug: changed}),
    )
    again = topic_parts(renewed, changed, "concept")
    assert "A retitled lesson" in again.header and "A retitled lesson" not in first.header


def test_the_outline_shows_each_visitor_only_their_own_marks(client, topic):
    from django.utils import timezone

    import config.outline

    reader = make_user()
    client.force_login(reader)
    client.get(f"/lessons/{topic.slug}/qa/")
    TopicCompletion.objects.create(
        user=reader, topic=topic.slug, completed_at=timezone.now(), content_hash="x", via="quiz"
    )
    mine = client.get("/lessons/").text
    course = config.outline._rendered[2]
    client.force_login(make_user())
    theirs = client.get("/lessons/").text
    assert config.outline._rendered[2] is course  # the course was rendered once for both
    qa_chip = f'<a href="/lessons/{topic.slug}/qa/" class="seen">'
    assert qa_chip in mine and 'data-testid="completed"' in mine and "outline-topic is-complete" in mine
    assert "1 of" in mine and qa_chip not in theirs and 'data-testid="completed"' not in theirs
    assert 'class="seen"' not in theirs and "is-complete" not in theirs


def test_the_outlines_challenge_badges_show_the_learners_gradings(client):
    from django.utils import timezone

    from challenges.loader import get_challenges
    from challenges.models import HintsTaken, Submission

    learner = make_user()
    client.force_login(learner)
    passed, failing, hinted = get_challenges().challenges[:3]
    now = timezone.now()
    for challenge, ok, seconds in ((passed, True, 12.345), (passed, False, 3.0), (failing, False, 2.0)):
        Submission.objects.create(
            learner=learner, challenge=challenge.slug, code="", content_hash="", started_at=now, finished_at=now,
            passed=ok, seconds=seconds,
        )  # fmt: skip
    Submission.objects.create(learner=learner, challenge=hinted.slug, code="", content_hash="", started_at=now)
    HintsTaken.objects.create(learner=learner, challenge=hinted.slug, count=2)
    page = client.get("/lessons/").text

    def badge(challenge):
        start = page.index(f'href="/challenges/{challenge.slug}/"')
        return page[start : page.index("</a>", start)]

    assert 'data-state="passed"' in badge(passed) and "(passed, best 12.3 s)" in badge(passed)
    assert 'data-state="failing"' in badge(failing) and "(not passed yet)" in badge(failing)
    assert 'data-state="not-tried"' in badge(hinted) and "(not tried)" in badge(hinted)  # ungraded, hints only
