"""Practice mode: solutions and right choices stay on the server until the learner asks (after choosing, if
there are choices); graded on the server; remembered per learner and per visitor."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from lessons.catalogue import get_catalogue
from lessons.catalogue.errors import ContentError
from lessons.catalogue.practice import PracticeReader
from lessons.models import PracticeReveal
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db
TOPIC = "consumer-lifecycle"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def questions():
    return get_catalogue().get(TOPIC).modes["practice"].practice.questions


@pytest.fixture
def with_choices(questions):
    return next(q for q in questions if q.choices)


@pytest.fixture
def open_question(questions):
    return next(q for q in questions if not q.choices)


def check(client, question_id, *choices, headers=None, **extra):
    data = {"question": question_id, "choice": list(choices), **extra}
    return client.post(f"/lessons/{TOPIC}/practice/answer/", data, headers=headers)


def wrong(question):
    return next(c.key for c in question.choices if c.key != question.answer)


def read(text: str) -> tuple[list[ContentError], object]:
    errors: list[ContentError] = []
    page = PracticeReader(Path("content/topics/99-x/practice.md"), errors).read(text)
    return errors, page


def test_reader_splits_prompt_choices_and_solution_and_ignores_headings_in_code():
    errors, page = read(
        "## Question 1: pick\n\nWhich?\n\n```python\n## not a question\n```\n\n**Choices**\n\n- [ ] `one`\n"
        "- [x] two\n\n**Solution**\n\nTwo, because.\n\n## Question 2: open\n\nWrite it.\n\n**Solution**\n\nLike so.\n"
    )
    assert errors == []
    first, second = page.questions
    assert first.id == "question-1-pick" and "## not a question" in first.prompt_html
    assert [c.key for c in first.choices] == ["a", "b"] and first.answer == "b"
    assert "<code>one</code>" in first.choices[0].text_html
    assert "Two, because." in first.solution_html and "Two, because." not in first.prompt_html
    assert "[x]" not in page.text and "[ ]" not in page.text
    assert second.choices == () and second.answer is None and "Like so." in second.solution_html


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("## Q\n\nNo solution here.\n", "has no **Solution** line"),
        ("## Q\n\n**Choices**\n\n- [ ] a\n- [ ] b\n\n**Solution**\n\nS\n", "mark the right choice with [x]"),
        ("## Q\n\n**Choices**\n\n- [x] a\n- [x] b\n\n**Solution**\n\nS\n", "only one choice may be marked [x]"),
        ("## Q\n\n**Choices**\n\n- [x] a\n\n**Solution**\n\nS\n", "lists 2 to 6 choices"),
        ("## Q\n\n**Choices**\n\n* a\n- [x] b\n\n**Solution**\n\nS\n", "a choice is one line"),
        ("## Q\n\nAsk.\n\n**Solution**\n\n", "the solution is empty"),
        ("Just text.\n", "at least one '## ' question"),
    ],
)
def test_reader_reports_mistakes_with_their_line(text, message):
    errors, _ = read(text)
    assert any(message in error.message for error in errors), errors
    assert all(error.line >= 0 for error in errors)


def test_every_practice_page_of_the_content_parses_and_some_questions_have_choices():
    pages = [topic.modes["practice"].practice for topic in get_catalogue().topics if "practice" in topic.modes]
    assert all(page.questions for page in pages)
    assert sum(1 for page in pages for q in page.questions if q.choices) >= 4


def test_practice_page_hides_every_solution_and_the_right_choice(client, questions, with_choices):
    page = client.get(f"/lessons/{TOPIC}/practice/").text
    for question in questions:
        assert question.solution_html not in page
        assert f'id="practice-{question.id}"' in page
    assert "is-correct" not in page and "right answer" not in page and "[x]" not in page
    assert page.count(">Check</button>") == sum(1 for q in questions if q.choices)
    assert page.count("Show solution</button>") == sum(1 for q in questions if not q.choices)
    assert f'name="choice" value="{with_choices.answer}"' in page  # the choices are there, unmarked


def test_a_question_with_choices_is_not_revealed_without_a_choice(client, with_choices):
    for headers in (HTMX, None):
        response = check(client, with_choices.id, headers=headers)
        assert response.status_code == 400
        assert "Pick an answer first, then check it." in response.text
        assert with_choices.solution_html not in response.text
    assert check(client, with_choices.id, "z", headers=HTMX).status_code == 400
    assert check(client, with_choices.id, "a", "b", headers=HTMX).status_code == 400
    assert client.session.get("practice_reveals") is None


def test_a_checked_answer_is_graded_on_the_server_and_reveals_that_question_only(
    client, questions, with_choices, open_question
):
    user = make_user()
    client.force_login(user)
    response = check(client, with_choices.id, wrong(with_choices), headers=HTMX, correct="true")
    assert response.status_code == 200
    assert "Not quite" in response.text and with_choices.solution_html in response.text
    assert "right answer" in response.text and "your answer, wrong" in response.text
    assert open_question.solution_html not in response.text
    row = PracticeReveal.objects.get(user=user)
    assert (row.question, row.chosen, row.correct) == (with_choices.id, wrong(with_choices), False)
    right = check(client, with_choices.id, with_choices.answer, headers=HTMX)  # the first answer stays
    assert "Not quite" in right.text and PracticeReveal.objects.get(user=user).correct is False


def test_an_open_question_reveals_on_request_and_stays_revealed_after_reload(client, open_question):
    user = make_user()
    client.force_login(user)
    response = check(client, open_question.id)  # a plain form POST, no JS
    assert response.status_code == 302
    assert response["Location"] == f"/lessons/{TOPIC}/practice/#practice-{open_question.id}"
    page = client.get(response["Location"]).text
    assert open_question.solution_html in page
    again = Client()
    again.force_login(user)
    assert open_question.solution_html in again.get(f"/lessons/{TOPIC}/practice/").text


def test_a_visitors_reveals_live_in_the_session_and_move_to_the_account_at_login(client, with_choices):
    user = make_user("ada")
    check(client, with_choices.id, with_choices.answer)
    page = client.get(f"/lessons/{TOPIC}/practice/").text
    assert with_choices.solution_html in page and "Right." in page
    assert Client().get(f"/lessons/{TOPIC}/practice/").text.count(with_choices.solution_html) == 0
    client.post("/accounts/login/", {"username": "ada", "password": DEFAULT_PASSWORD})
    row = PracticeReveal.objects.get(user=user)
    assert (row.question, row.chosen, row.correct) == (with_choices.id, with_choices.answer, True)
    assert with_choices.solution_html in client.get(f"/lessons/{TOPIC}/practice/").text


def test_practice_answer_needs_post_csrf_and_a_real_question(client, open_question):
    url = f"/lessons/{TOPIC}/practice/answer/"
    assert client.get(url).status_code == 405
    assert Client(enforce_csrf_checks=True).post(url, {"question": open_question.id}).status_code == 403
    assert client.post(url, {"question": "<script>x</script>"}).status_code == 404
    assert client.post("/lessons/no-such-topic/practice/answer/", {"question": open_question.id}).status_code == 404
