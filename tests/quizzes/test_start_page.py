"""The quiz start page: how it tells a learner about an attempt they left unfinished."""

from __future__ import annotations

import pytest

from tests.factories import make_attempt, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", ["practice", "test"])
def test_unfinished_attempt_is_named_in_a_plain_sentence(client, mode):
    user = make_user()
    attempt = make_attempt(user, "consumer-lifecycle", mode)
    client.force_login(user)
    text = " ".join(client.get("/quizzes/consumer-lifecycle/").text.split())
    assert f"You have an unfinished {mode} attempt (0 of {len(attempt.question_ids)} answered)." in text
