"""Taking quizzes: drawing, saving, grading on the server, integrity and ownership."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils.html import escape

from lessons.catalogue import get_catalogue
from lessons.models import TopicCompletion
from quizzes.bank import get_bank
from quizzes.models import Answer, Attempt, HintReveal
from quizzes.views import CONFIRM_UNANSWERED
from tests.factories import DEFAULT_PASSWORD, correct_keys, make_attempt, make_user, wrong_key

pytestmark = pytest.mark.django_db
TOPIC = "consumer-lifecycle"


@pytest.fixture
def learner_client(client):
    user = make_user()
    client.force_login(user)
    client.user = user
    return client


def start(client, mode="test") -> Attempt:
    response = client.post(f"/quizzes/{TOPIC}/", {"mode": mode})
    assert response.status_code == 302
    return Attempt.objects.latest("pk")


def submit_anyway(client, attempt, **extra):
    """Submit, confirming the unanswered questions as the confirm step's button does."""
    return client.post(f"/quizzes/attempt/{attempt.pk}/finish/", {"confirm": CONFIRM_UNANSWERED, **extra})


def answer(client, attempt, question_id, *keys, headers=None, **extra):
    data = {"question": question_id, "choice": list(keys), **extra}
    return client.post(f"/quizzes/attempt/{attempt.pk}/answer/", data, headers=headers)


def test_start_draws_the_topic_mix_with_stored_shuffles(learner_client):
    attempt = start(learner_client)
    topic = get_catalogue().get(TOPIC)
    bank = get_bank()
    difficulties = [bank.questions[qid].difficulty for qid in attempt.question_ids]
    assert len(attempt.question_ids) == topic.quiz.size == 10
    assert {d: difficulties.count(d) for d in set(difficulties)} == {k: v for k, v in topic.quiz.mix.items() if v}
    for qid in attempt.question_ids:
        assert sorted(attempt.choice_orders[qid]) == sorted(bank.questions[qid].choices)
    shown_order = [view.choices for view in learner_client.get(f"/quizzes/attempt/{attempt.pk}/").context["views"]]
    again = [view.choices for view in learner_client.get(f"/quizzes/attempt/{attempt.pk}/").context["views"]]
    assert shown_order == again
    assert [c.key for c in shown_order[0]] == attempt.choice_orders[attempt.question_ids[0]]


def test_start_unknown_mode_is_400(learner_client):
    response = learner_client.post(f"/quizzes/{TOPIC}/", {"mode": "speedrun"})
    assert response.status_code == 400
    assert "Unknown quiz mode" in response.text
    assert not Attempt.objects.exists()


def test_answers_and_hints_never_leak_before_answering(learner_client):
    for mode in ("test", "practice"):
        attempt = start(learner_client, mode)
        pages = [learner_client.get(f"/quizzes/attempt/{attempt.pk}/").text]
        pages += [learner_client.get(f"/quizzes/attempt/{attempt.pk}/", {"q": n}).text for n in range(1, 11)]
        first = attempt.question_ids[0]
        pages.append(
            learner_client.post(
                f"/quizzes/attempt/{attempt.pk}/hint/", {"question": first}, headers={"HX-Request": "true"}
            ).text
        )
        pages.append(learner_client.get(f"/quizzes/attempt/{attempt.pk}/review/", follow=True).text)
        for qid in attempt.question_ids:
            question = get_bank().questions[qid]
            for page in pages:
                for step in question.solution:
                    assert step not in page, (mode, qid, "solution")
                for choice in question.choices.values():
                    assert choice.feedback_html not in page, (mode, qid, choice.key)
                assert "is-correct" not in page and "correct answer" not in page


def test_practice_answer_reveals_feedback_for_that_question_only(learner_client):
    attempt = start(learner_client, "practice")
    first, second = attempt.question_ids[:2]
    response = answer(learner_client, attempt, first, wrong_key(first), headers={"HX-Request": "true"})
    assert response.status_code == 200
    question = get_bank().questions[first]
    assert question.solution[0] in response.text
    assert "Not quite." in response.text
    assert 'hx-swap-oob="true"' in response.text and "1 of 10 answered" in response.text
    assert get_bank().questions[second].solution[0] not in response.text


def test_client_sent_correct_and_score_are_ignored(learner_client):
    attempt = start(learner_client)
    qid = attempt.question_ids[0]
    answer(learner_client, attempt, qid, wrong_key(qid), correct="true", score="100")
    assert Answer.objects.get(attempt=attempt).correct is False
    submit_anyway(learner_client, attempt, score_percent="100", passed="1")
    attempt.refresh_from_db()
    assert attempt.score_percent == 0 and attempt.passed is False


def test_unknown_choice_and_foreign_question_are_400(learner_client):
    attempt = start(learner_client)
    qid = attempt.question_ids[0]
    response = answer(learner_client, attempt, qid, "z")
    assert (
        response.status_code == 400
        and "Choice &#x27;z&#x27; is not one of this question&#x27;s choices." in response.text
    )
    outside = next(q for q in get_bank().questions if q not in attempt.question_ids)
    response = answer(learner_client, attempt, outside, "a")
    assert response.status_code == 400 and "is not part of this attempt" in response.text
    assert answer(learner_client, attempt, qid).status_code == 400
    assert not Answer.objects.exists()


def test_error_messages_escape_what_the_learner_sent(learner_client):
    attempt = start(learner_client)
    response = answer(learner_client, attempt, "<script>alert(1)</script>", "a")
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text and "&lt;script&gt;" in response.text


def test_single_answer_question_rejects_two_keys(learner_client):
    attempt = start(learner_client)
    qid = next(q for q in attempt.question_ids if not get_bank().questions[q].is_multiple)
    keys = list(get_bank().questions[qid].choices)[:2]
    response = answer(learner_client, attempt, qid, *keys)
    assert response.status_code == 400 and "exactly one correct answer" in response.text


def test_another_users_attempt_is_404(learner_client):
    other = make_attempt(make_user("other"))
    qid = other.question_ids[0]
    assert learner_client.get(f"/quizzes/attempt/{other.pk}/").status_code == 404
    assert answer(learner_client, other, qid, "a").status_code == 404
    assert learner_client.post(f"/quizzes/attempt/{other.pk}/finish/").status_code == 404
    assert learner_client.get(f"/quizzes/attempt/{other.pk}/review/").status_code == 404
    assert Client().get(f"/quizzes/attempt/{other.pk}/").status_code == 404
    assert not Answer.objects.exists()


def test_answering_a_finished_attempt_is_409_and_changes_nothing(learner_client):
    attempt = start(learner_client)
    qid = attempt.question_ids[0]
    answer(learner_client, attempt, qid, wrong_key(qid))
    submit_anyway(learner_client, attempt)
    response = answer(learner_client, attempt, qid, *correct_keys(qid))
    assert response.status_code == 409
    assert "attempt is finished" in response.text
    assert Answer.objects.get(attempt=attempt).chosen == [wrong_key(qid)]
    hint = learner_client.post(f"/quizzes/attempt/{attempt.pk}/hint/", {"question": qid})
    assert hint.status_code == 409 and not HintReveal.objects.exists()


def test_practice_answers_are_final_but_repeats_are_idempotent(learner_client):
    attempt = start(learner_client, "practice")
    qid = attempt.question_ids[0]
    answer(learner_client, attempt, qid, wrong_key(qid))
    assert answer(learner_client, attempt, qid, wrong_key(qid)).status_code == 302
    assert answer(learner_client, attempt, qid, *correct_keys(qid)).status_code == 409
    assert Answer.objects.filter(attempt=attempt).count() == 1


def test_test_mode_answers_can_change_until_submitted(learner_client):
    attempt = start(learner_client, "test")
    qid = attempt.question_ids[0]
    answer(learner_client, attempt, qid, wrong_key(qid))
    response = answer(learner_client, attempt, qid, *correct_keys(qid))
    assert response["Location"] == f"/quizzes/attempt/{attempt.pk}/#question-1"  # an anchor the page has
    saved = Answer.objects.get(attempt=attempt)
    assert saved.correct and saved.changed_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_submits_store_one_answer():
    user = make_user("racer")
    attempt = make_attempt(user, mode="practice")
    qid = attempt.question_ids[0]
    statuses = []
    barrier = threading.Barrier(6)

    def submit():
        client = Client()
        client.force_login(user)
        barrier.wait()
        statuses.append(answer(client, attempt, qid, *correct_keys(qid)).status_code)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 6
    assert Answer.objects.filter(attempt=attempt, question_id=qid).count() == 1


def test_hints_reveal_one_at_a_time_and_cost_marks(learner_client, settings):
    attempt = start(learner_client)
    attempt.hint_penalty = 0.5
    attempt.save()
    qid = attempt.question_ids[0]
    question = get_bank().questions[qid]
    response = learner_client.post(
        f"/quizzes/attempt/{attempt.pk}/hint/", {"question": qid}, headers={"HX-Request": "true"}
    )
    assert question.hints[0] in response.text
    if len(question.hints) > 1:
        assert question.hints[1] not in response.text
    for _ in range(len(question.hints) - 1):
        learner_client.post(f"/quizzes/attempt/{attempt.pk}/hint/", {"question": qid})
    extra = learner_client.post(f"/quizzes/attempt/{attempt.pk}/hint/", {"question": qid})
    assert extra.status_code == 400 and "no more hints" in extra.text
    assert HintReveal.objects.filter(attempt=attempt).count() == len(question.hints)
    for other in attempt.question_ids:
        answer(learner_client, attempt, other, *correct_keys(other))
    learner_client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    attempt.refresh_from_db()
    expected_mark = max(0.0, 1 - 0.5 * len(question.hints))
    assert attempt.score_percent == round(100 * (9 + expected_mark) / 10, 1)


def test_finishing_twice_is_idempotent_and_passing_completes_topic(learner_client):
    attempt = start(learner_client)
    for qid in attempt.question_ids:
        answer(learner_client, attempt, qid, *correct_keys(qid))
    learner_client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    first_finish = Attempt.objects.get(pk=attempt.pk).finished_at
    learner_client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    attempt.refresh_from_db()
    assert attempt.finished_at == first_finish and attempt.score_percent == 100 and attempt.passed
    assert TopicCompletion.objects.get(user=learner_client.user, topic=TOPIC).via == "quiz"
    assert "Best quiz score 100%" in learner_client.get("/lessons/").text


def test_review_shows_answer_solution_mistakes_hints_and_time(learner_client):
    attempt = start(learner_client)
    qid = attempt.question_ids[0]
    learner_client.post(f"/quizzes/attempt/{attempt.pk}/hint/", {"question": qid})
    answer(learner_client, attempt, qid, wrong_key(qid))
    submit_anyway(learner_client, attempt)
    page = learner_client.get(f"/quizzes/attempt/{attempt.pk}/review/").text
    question = get_bank().questions[qid]
    assert question.choices[wrong_key(qid)].feedback_html in page
    assert question.solution[0] in page and question.mistakes[0] in page
    assert "hints used: 1" in page and "Time on this question" in page
    assert "Not answered." in page  # the other nine


def test_unfinished_attempt_resumes_after_logout_and_login(client):
    user = make_user("resumer")
    client.force_login(user)
    attempt = start(client)
    answer(client, attempt, attempt.question_ids[0], wrong_key(attempt.question_ids[0]))
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "resumer", "password": DEFAULT_PASSWORD})
    page = client.get(f"/quizzes/{TOPIC}/").text
    assert "Resume it" in page and "1 of 10 answered" in page
    assert f'href="/quizzes/attempt/{attempt.pk}/"' in page


def test_anonymous_attempt_is_claimed_at_login(client):
    user = make_user("latecomer")
    attempt = start(client)
    assert attempt.user is None and attempt.anon_token
    for qid in attempt.question_ids:
        answer(client, attempt, qid, *correct_keys(qid))
    client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    client.post("/accounts/login/", {"username": "latecomer", "password": DEFAULT_PASSWORD})
    attempt.refresh_from_db()
    assert attempt.user == user and attempt.anon_token == ""
    assert TopicCompletion.objects.filter(user=user, topic=TOPIC).exists()
    assert client.get(f"/quizzes/attempt/{attempt.pk}/review/").status_code == 200


def test_anonymous_visitors_cannot_see_each_others_attempts(client):
    attempt = start(client)
    stranger = Client()
    assert stranger.get(f"/quizzes/attempt/{attempt.pk}/").status_code == 404


def test_practice_answer_shows_every_choices_feedback_and_the_mistakes_of_wrong_ones(learner_client):
    attempt = start(learner_client, "practice")
    first, second = attempt.question_ids[:2]
    response = answer(learner_client, attempt, first, wrong_key(first), headers={"HX-Request": "true"})
    question = get_bank().questions[first]
    for choice in question.choices.values():
        assert choice.feedback_html in response.text, choice.key
        if choice.mistake:
            assert escape(choice.mistake) in response.text, choice.key
    assert response.text.count('class="verdict"') == len(question.choices)
    for choice in get_bank().questions[second].choices.values():
        assert choice.feedback_html not in response.text


def test_results_show_every_choices_feedback_in_both_modes(learner_client):
    for mode in ("test", "practice"):
        attempt = start(learner_client, mode)
        qid = attempt.question_ids[0]
        answer(learner_client, attempt, qid, *correct_keys(qid))
        submit_anyway(learner_client, attempt)
        page = learner_client.get(f"/quizzes/attempt/{attempt.pk}/review/").text
        for other in attempt.question_ids:  # answered or not, every choice explains itself
            for choice in get_bank().questions[other].choices.values():
                assert choice.feedback_html in page, (mode, other, choice.key)
                if choice.mistake:
                    assert escape(choice.mistake) in page, (mode, other, choice.key)


def navigator_states(page: str) -> list[str]:
    return re.findall(r'data-state="([^"]+)"', page)


def test_practice_navigator_shows_right_wrong_unanswered_and_current_in_words(learner_client):
    attempt = start(learner_client, "practice")
    first, second = attempt.question_ids[:2]
    answer(learner_client, attempt, first, *correct_keys(first))
    answer(learner_client, attempt, second, wrong_key(second))
    page = learner_client.get(f"/quizzes/attempt/{attempt.pk}/", {"q": 3}).text
    assert navigator_states(page) == ["right", "wrong"] + ["not answered"] * 8
    assert 'aria-label="Question 1, right"' in page and 'aria-label="Question 2, wrong"' in page
    assert 'aria-label="Question 3, not answered"' in page
    assert page.count('aria-current="step"') == 1
    assert re.search(r'\?q=3"\s+aria-current="step"', page)


def test_test_mode_navigator_says_answered_but_never_right_or_wrong(learner_client):
    attempt = start(learner_client)
    first, second = attempt.question_ids[:2]
    answer(learner_client, attempt, first, *correct_keys(first))
    fragment = answer(learner_client, attempt, second, wrong_key(second), headers={"HX-Request": "true"}).text
    page = learner_client.get(f"/quizzes/attempt/{attempt.pk}/").text
    for html in (page, fragment):
        assert navigator_states(html) == ["answered", "answered"] + ["not answered"] * 8
        assert "right" not in navigator_states(html) and ", wrong" not in html


def test_submitting_with_unanswered_questions_asks_first(learner_client):
    attempt = start(learner_client)
    for qid in attempt.question_ids[:7]:
        answer(learner_client, attempt, qid, *correct_keys(qid))
    response = learner_client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    assert response.status_code == 200
    assert "3 of 10 unanswered: submit anyway?" in response.text
    assert f'value="{CONFIRM_UNANSWERED}"' in response.text and "csrfmiddlewaretoken" in response.text
    attempt.refresh_from_db()
    assert not attempt.is_finished
    wrong_confirm = learner_client.post(f"/quizzes/attempt/{attempt.pk}/finish/", {"confirm": "yes"})
    assert wrong_confirm.status_code == 200 and not Attempt.objects.get(pk=attempt.pk).is_finished
    assert submit_anyway(learner_client, attempt).status_code == 302
    attempt.refresh_from_db()
    assert attempt.is_finished and attempt.correct_count == 7 and attempt.passed


def test_submitting_with_every_question_answered_needs_no_confirmation(learner_client):
    attempt = start(learner_client)
    for qid in attempt.question_ids:
        answer(learner_client, attempt, qid, wrong_key(qid))
    response = learner_client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    assert response.status_code == 302 and Attempt.objects.get(pk=attempt.pk).is_finished


def test_anonymous_visitor_who_passes_completes_the_topic_in_the_session(client):
    attempt = start(client)
    for qid in attempt.question_ids:
        answer(client, attempt, qid, *correct_keys(qid))
    client.post(f"/quizzes/attempt/{attempt.pk}/finish/")
    assert 'data-testid="topic-completed"' in client.get(f"/lessons/{TOPIC}/").text
