"""Questions built from a trace and graded against it: the real answer is right, any other is wrong, an answer that
was not offered is refused, and the same stop always asks the same question."""

from __future__ import annotations

import pytest

from lessons.catalogue import get_catalogue
from predictions.questions import NO_FRAME, QuestionError, Stop, build_question, default_ask, grade

ECHO = get_catalogue().get("consumer-lifecycle").trace.events  # connect, accept, receive, send, disconnect (1000)
ROOM = get_catalogue().get("groups").trace.events


def test_each_ask_takes_its_answer_from_the_row_it_stops_before():
    assert build_question(ECHO, Stop(3, "handler"), "s").answer == "receive() of c1's consumer"
    assert build_question(ECHO, Stop(4, "frame"), "s").answer == "c1 receives 'hello'"
    assert build_question(ECHO, Stop(2, "state"), "s").answer == "Accepted"
    assert build_question(ECHO, Stop(5, "close_code"), "s").answer == "1000"
    assert build_question(ECHO, Stop(4, "variable", variable="received"), "s").answer == "1"
    assert build_question(ECHO, Stop(2, "action"), "s").answer == "accept()"


def test_choices_hold_the_answer_and_wrong_ones_from_the_trace_in_a_stable_order():
    question = build_question(ROOM, Stop(12, "frame"), "groups-chat-room")
    assert question.answer in question.choices and len(set(question.choices)) == len(question.choices) == 4
    assert 'c1 receives \'{"text": "hi", "mine": false}\'' in question.choices  # the same frame, the other client
    assert build_question(ROOM, Stop(12, "frame"), "groups-chat-room") == question
    echo = build_question(ECHO, Stop(4, "frame"), "echo")
    assert set(echo.choices) == {"c1 receives 'hello'", NO_FRAME}
    public = question.public()
    assert "answer" not in public and question.answer in public["choices"]


def test_authored_distractors_come_first():
    question = build_question(ECHO, Stop(4, "frame", distractors=("c1 receives 'HELLO'",)), "echo")
    assert "c1 receives 'HELLO'" in question.choices


def test_the_right_choice_is_right_a_wrong_one_wrong_and_a_forged_one_refused():
    question = build_question(ECHO, Stop(3, "handler"), "echo")
    assert grade(question, question.answer) is True
    wrong = next(choice for choice in question.choices if choice != question.answer)
    assert grade(question, wrong) is False
    with pytest.raises(QuestionError, match="Pick one of the offered answers"):
        grade(question, "receive() of c1's consumer ")  # not exactly an offered choice
    with pytest.raises(QuestionError):
        grade(question, "")


@pytest.mark.parametrize(
    ("stop", "typed", "right"),
    [
        (Stop(2, "state", "short"), "accepted", True),
        (Stop(2, "state", "short"), "  Accepted ", True),
        (Stop(2, "state", "short"), "Open", False),
        (Stop(3, "handler", "short"), "self.receive()", True),
        (Stop(3, "handler", "short"), "connect", False),
        (Stop(5, "close_code", "short"), "1000", True),
        (Stop(5, "close_code", "short"), "1001", False),
        (Stop(4, "variable", "short", variable="received"), "1", True),
        (Stop(4, "variable", "short", variable="received"), "0", False),
    ],
)
def test_a_short_answer_is_compared_in_the_traces_own_form(stop, typed, right):
    question = build_question(ECHO, stop, "echo")
    assert question.choices == ()
    assert grade(question, typed) is right


def test_a_stop_on_the_first_step_or_a_missing_one_cannot_be_asked():
    with pytest.raises(QuestionError, match="not a step after the first"):
        build_question(ECHO, Stop(1, "state"), "echo")
    with pytest.raises(QuestionError, match="not a step after the first"):
        build_question(ECHO, Stop(9, "state"), "echo")


def test_a_run_asks_the_question_that_fits_each_row():
    assert [default_ask(row) for row in ECHO] == ["handler", "action", "handler", "frame", "handler"]
    rejected = next(row for row in get_catalogue().get("closing").trace.events if row["kind"] == "reject")
    assert default_ask(rejected) == "close_code"
