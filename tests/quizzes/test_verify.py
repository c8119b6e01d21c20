"""Every quiz `verify` block runs once in the real sandbox: the keyed choice's claim holds, every other one fails."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from quizzes.bank import Choice, get_bank
from quizzes.verify import check_claims, compare, matches, verify_question

VERIFIED = sorted(qid for qid, question in get_bank().questions.items() if question.verify)
ERROR = {
    "type": "error",
    "client": "c1",
    "message": "channels.exceptions.DenyConnection: bye",
}


def test_verify_compare_detects_missing_order_and_forbidden():
    events = [{"type": "consumer.accept", "client": "c1"}, {"type": "consumer.send", "client": "c1", "text": "a"}]
    assert compare(events, [{"type": "consumer.accept"}, {"type": "consumer.send", "text": "a"}], []) == []
    assert compare(events, [{"type": "consumer.send"}, {"type": "consumer.accept"}], []) == [
        "expected {'type': 'consumer.accept'} (in order) but it did not happen"
    ]
    assert compare(events, [], [{"type": "consumer.send"}]) == ["forbidden {'type': 'consumer.send'} happened"]


def test_verify_matches_exception_by_name_or_dotted_path_and_text_by_contains():
    assert matches(ERROR, {"type": "error", "exception": "DenyConnection"})
    assert matches(ERROR, {"type": "error", "exception": "channels.exceptions.DenyConnection"})
    assert not matches(ERROR, {"type": "error", "exception": "Connection"})  # a suffix of the name is not the type
    assert not matches(ERROR, {"type": "error", "exception": "KeyError"})
    assert not matches(
        {"type": "consumer.send", "text": "KeyError: x"}, {"type": "consumer.send", "exception": "KeyError"}
    )
    send = {"type": "consumer.send", "client": "c1", "text": '{"echo": "hi"}'}
    assert matches(send, {"type": "consumer.send", "text": {"contains": '"echo"'}})
    assert not matches(send, {"type": "consumer.send", "text": {"contains": "bye"}})
    assert not matches({"type": "consumer.send", "bytes": "AA=="}, {"type": "consumer.send", "text": {"contains": "A"}})


def question_with(choices: dict[str, dict | None], answer: str):
    """A converted code question with the given claims (None: no claim), keyed to `answer`."""
    template = get_bank().questions[VERIFIED[0]]
    return dataclasses.replace(
        template,
        choices=MappingProxyType(
            {
                key: Choice(key, key, key, "", MappingProxyType(claim) if claim else None, "" if claim else "why")
                for key, claim in choices.items()
            }
        ),
        answer=frozenset({answer}),
    )


def test_check_claims_proves_the_key_and_names_a_distractor_that_also_holds():
    events = [{"type": "consumer.accept", "client": "c1"}, {"type": "trace", "kind": "accept"}]
    accepted = {"expect": [{"type": "consumer.accept", "client": "c1"}]}
    refused = {"forbid": [{"type": "consumer.accept", "client": "c1"}]}
    assert check_claims(question_with({"a": accepted, "b": refused}, "a"), events) == []
    assert check_claims(question_with({"a": accepted, "b": refused}, "b"), events) == [
        "distractor 'a''s claim also holds, so the run does not refute it: "
        "{'expect': [{'type': 'consumer.accept', 'client': 'c1'}]}",
        "keyed choice 'b': forbidden {'type': 'consumer.accept', 'client': 'c1'} happened",
    ]
    vague = {"forbid": [{"type": "consumer.close"}]}
    assert check_claims(question_with({"a": accepted, "b": vague}, "a"), events) == [
        "distractor 'b''s claim also holds, so the run does not refute it: {'forbid': [{'type': 'consumer.close'}]}"
    ]
    assert check_claims(question_with({"a": accepted, "b": None}, "b"), events) == [
        "distractor 'a''s claim also holds, so the run does not refute it: "
        "{'expect': [{'type': 'consumer.accept', 'client': 'c1'}]}",
        "keyed choice 'b' has no claim the run can prove",
    ]


def test_verify_blocks_cover_at_least_30_percent():
    assert len(VERIFIED) >= 0.3 * len(get_bank().questions)


def test_every_code_question_gives_each_choice_a_claim():
    """The bank refuses a verify block without choice claims; a code question without a verify block proves nothing."""
    code = [question for question in get_bank().questions.values() if question.kind == "code"]
    left = sorted(
        question.id
        for question in code
        if question.verify is None or any(c.claim is None and not c.no_claim for c in question.choices.values())
    )
    assert not left, f"{len(left)} of {len(code)} code questions without per-choice claims: {', '.join(left)}"


@pytest.mark.parametrize("question_id", VERIFIED)
async def test_verify_block_proves_key_and_refutes_each_distractor(question_id):
    """One sandbox run per question; then the mutation check: keyed to any distractor, the same run fails."""
    question = get_bank().questions[question_id]
    problems, events = await verify_question(question)
    assert not problems, (problems, [e for e in events if e["type"] != "trace"])
    for key in sorted(set(question.choices) - question.answer):
        mutated = dataclasses.replace(question, answer=frozenset({key}))
        assert check_claims(mutated, events), f"keyed to {key!r}, {question_id} still passes"
