"""CSV exports: the gradebook and the per-answer file, and formula injection checked in a real spreadsheet engine."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from cohorts.models import Membership
from dashboards.exports import html_to_text, neutralise
from lessons.models import ModeVisit
from playground.models import Run
from quizzes.models import Answer, HintReveal
from tests.conftest import missing_service
from tests.factories import correct_keys, make_attempt, make_cohort, make_user, wrong_key
from tests.support.spreadsheet import open_in_calc, soffice_available

pytestmark = pytest.mark.django_db

# What a learner can put in a username or an answer that a spreadsheet would run (OWASP's list of formula starts).
HOSTILE = ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


@pytest.fixture
def instructor(client):
    user = make_user("teacher", instructor=True)
    client.force_login(user)
    return user


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content)


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


@pytest.mark.parametrize("text", [*HOSTILE, "\r=1", "-", "=", "@"])
def test_every_formula_start_is_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["alice", "1+1", " =1", "a=1", "", None, 42, -0.5, 75.0])
def test_plain_values_and_our_numbers_are_left_alone(value):
    assert neutralise(value) == ("" if value is None else str(value))


def hostile_cohort(instructor):
    """Learners named like formulas, one of them with an answer like a formula and a quiz attempt."""
    learners = [make_user(name) for name in HOSTILE]
    cohort = make_cohort(instructor, learners=learners)
    attempt = make_attempt(learners[0], "groups", seed=1)
    from quizzes.services import finish_attempt, submit_answer

    for qid in attempt.question_ids[1:]:
        submit_answer(attempt, qid, correct_keys(qid))
    Answer.objects.create(
        attempt=attempt,
        question_id=attempt.question_ids[0],
        chosen=["=1+1"],
        correct=False,
        answered_at=timezone.now(),
        seconds_taken=3,
    )
    finish_attempt(attempt)
    return cohort


def test_every_export_opens_in_libreoffice_with_no_formula_and_the_text_intact(client, instructor, tmp_path):
    if not soffice_available():
        missing_service("LibreOffice (soffice) is not installed: scripts/system-packages.sh installs it")
    cohort = hostile_cohort(instructor)
    base = f"/dashboard/cohorts/{cohort.pk}"
    exports = {
        "gradebook": f"{base}/export/gradebook.csv",
        "answers": f"{base}/export/answers.csv",
        "questions": f"{base}/questions/groups/export.csv",
    }
    files = []
    for name, url in exports.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(download(client, url))
        files.append(path)
    sheets = open_in_calc(files, tmp_path)

    for name, rows in sheets.items():
        formulas = [cell for row in rows for cell in row if cell.formula is not None]
        assert formulas == [], f"{name}: the spreadsheet made formulas of {formulas}"
    learner_column = {row[0].text for row in sheets["gradebook"][1:]}
    assert learner_column == {"'" + name for name in HOSTILE}
    assert len(sheets["gradebook"]) == 1 + len(HOSTILE)
    answered = {row[0].text for row in sheets["answers"][1:]}
    assert answered == {"'=1+1"}
    assert "'=1+1" in {row[5].text for row in sheets["answers"][1:]}  # the chosen column
    assert len(sheets["answers"]) == 1 + 10
    assert sheets["questions"][0][0].text == "question" and len(sheets["questions"]) > 1


def test_gradebook_has_one_row_per_learner_with_totals_scores_and_flags(client, instructor):
    keen, newcomer = make_user("keen"), make_user("newcomer")
    cohort = make_cohort(instructor, learners=[keen, newcomer])
    joined = timezone.now() - timedelta(days=20)
    Membership.objects.filter(user=keen).update(joined_at=joined)
    from quizzes.services import finish_attempt, submit_answer

    first = make_attempt(keen, "groups", seed=1)
    for qid in first.question_ids:
        submit_answer(first, qid, correct_keys(qid))
    HintReveal.objects.create(attempt=first, question_id=first.question_ids[0], hint_index=0, revealed_at=joined)
    finish_attempt(first)
    second = make_attempt(keen, "groups", seed=2)
    for position, qid in enumerate(second.question_ids):
        submit_answer(second, qid, correct_keys(qid) if position < 5 else [wrong_key(qid)])
    finish_attempt(second)
    now = timezone.now()
    ModeVisit.objects.create(user=keen, topic="groups", mode="concept", first_seen=now, last_seen=now)
    Run.objects.create(learner=keen, starter="chat_room", code="", started_at=now, ended_at=now, end_reason="stopped")

    rows = parse(download(client, f"/dashboard/cohorts/{cohort.pk}/export/gradebook.csv"))
    header, body = rows[0], rows[1:]
    assert [row[0] for row in body] == ["keen", "newcomer"]  # one row per learner, not per learner and topic
    assert header[:4] == ["learner", "joined", "last_activity", "topics_completed"]
    assert header[-3:] == ["hints", "runs", "flags"]
    keen_row = dict(zip(header, body[0], strict=True))
    assert keen_row["joined"] == joined.isoformat(timespec="seconds")
    assert keen_row["last_activity"].startswith(now.date().isoformat())
    assert keen_row["topics_completed"] == "1"  # passing the quiz completed it
    best = next(column for column in header if column.endswith("Groups and broadcast: best %"))
    latest = next(column for column in header if column.endswith("Groups and broadcast: latest %"))
    assert float(keen_row[best]) > float(keen_row[latest]) == 50.0
    assert (keen_row["hints"], keen_row["runs"], keen_row["flags"]) == ("1", "1", "")
    newcomer_row = dict(zip(header, body[1], strict=True))
    assert newcomer_row["last_activity"] == "" and newcomer_row["flags"] == ""  # joined just now: not stuck


def test_answers_csv_names_the_question_and_the_chosen_text(client, instructor):
    from quizzes.bank import get_bank
    from quizzes.services import submit_answer

    learner = make_user("reader")
    cohort = make_cohort(instructor, learners=[learner])
    attempt = make_attempt(learner, "groups", seed=1)
    qid = attempt.question_ids[0]
    submit_answer(attempt, qid, correct_keys(qid))
    rows = parse(download(client, f"/dashboard/cohorts/{cohort.pk}/export/answers.csv"))
    line = dict(zip(rows[0], rows[1], strict=True))
    question = get_bank().questions[qid]
    assert line["question"] == qid and line["correct"] == "1"
    assert line["question_text"] == html_to_text(question.stem_html) != ""
    assert line["chosen_text"] == " | ".join(html_to_text(question.choices[key].text_html) for key in correct_keys(qid))
    assert "<" not in line["question_text"] + line["chosen_text"]  # plain text, not HTML


def test_html_becomes_readable_text():
    html = '<p>Does <code>c1</code> get &quot;hi&quot;?</p>\n<pre><span class="k">await</span> <span>self</span>.send()</pre>'
    assert html_to_text(html) == 'Does c1 get "hi"? await self.send()'


def test_exports_are_for_the_cohorts_instructors_only(client, instructor):
    learner = make_user("private")
    cohort = make_cohort(instructor, learners=[learner])
    for user in (make_user("other-teacher", instructor=True), learner):
        client.force_login(user)
        for url in ("export/gradebook.csv", "export/answers.csv", "questions/groups/export.csv"):
            assert client.get(f"/dashboard/cohorts/{cohort.pk}/{url}").status_code in (403, 404)
