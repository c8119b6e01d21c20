"""Every quiz `verify` block runs in the real sandbox, and the keyed answer is what really happens."""

from __future__ import annotations

import pytest

from quizzes.bank import get_bank
from quizzes.verify import compare, verify_question

VERIFIED = sorted(qid for qid, question in get_bank().questions.items() if question.verify)


def test_verify_compare_detects_missing_order_and_forbidden():
    events = [{"type": "consumer.accept", "client": "c1"}, {"type": "consumer.send", "client": "c1", "text": "a"}]
    assert compare(events, [{"type": "consumer.accept"}, {"type": "consumer.send", "text": "a"}], []) == []
    assert compare(events, [{"type": "consumer.send"}, {"type": "consumer.accept"}], []) == [
        "expected {'type': 'consumer.accept'} (in order) but it did not happen"
    ]
    assert compare(events, [], [{"type": "consumer.send"}]) == ["forbidden {'type': 'consumer.send'} happened"]


def test_verify_blocks_cover_at_least_30_percent():
    assert len(VERIFIED) >= 0.3 * len(get_bank().questions)


@pytest.mark.parametrize("question_id", VERIFIED)
async def test_verify_block_proves_keyed_answer(question_id):
    problems, events = await verify_question(get_bank().questions[question_id])
    assert not problems, (problems, [e for e in events if e["type"] != "trace"])
