"""The statistics page: which attempts are analysed, question and choice text with counts, and charts with axes."""

from __future__ import annotations

import pytest

from dashboards.charts import column_chart, facility_discrimination, nice_ticks, row_chart
from quizzes.bank import get_bank
from quizzes.services import finish_attempt, submit_answer
from tests.factories import correct_keys, make_attempt, make_cohort, make_user, wrong_key

pytestmark = pytest.mark.django_db


def take(learner, right: bool, seed: int = 1):
    """A finished attempt at the groups quiz with every answer right or every answer wrong."""
    attempt = make_attempt(learner, "groups", seed=seed)
    for qid in attempt.question_ids:
        submit_answer(attempt, qid, correct_keys(qid) if right else [wrong_key(qid)])
    return finish_attempt(attempt)


@pytest.fixture
def cohort_with_retake(client):
    """Ann fails, then passes on a retake; Bob passes at once."""
    instructor = make_user("lead", instructor=True)
    ann, bob = make_user("ann"), make_user("bob")
    cohort = make_cohort(instructor, learners=[ann, bob])
    take(ann, right=False)
    take(ann, right=True)
    take(bob, right=True)
    client.force_login(instructor)
    return cohort


def test_first_attempts_are_the_default_and_the_page_says_so(client, cohort_with_retake):
    page = client.get(f"/dashboard/cohorts/{cohort_with_retake.pk}/questions/groups/")
    report = page.context["report"]
    assert report.selection == "first" and report.quiz.n == 2
    assert report.quiz.mean_score == pytest.approx(50.0)  # Ann's 0 % and Bob's 100 %
    assert "Analysing each learner&#x27;s first finished attempt: the default" in page.text


@pytest.mark.parametrize(("selection", "count", "mean"), [("best", 2, 100.0), ("all", 3, 200 / 3)])
def test_best_and_all_attempts(client, cohort_with_retake, selection, count, mean):
    page = client.get(f"/dashboard/cohorts/{cohort_with_retake.pk}/questions/groups/?attempts={selection}")
    report = page.context["report"]
    assert (report.selection, report.quiz.n) == (selection, count)
    assert report.quiz.mean_score == pytest.approx(mean)


def test_an_unknown_selection_falls_back_to_the_default(client, cohort_with_retake):
    page = client.get(f"/dashboard/cohorts/{cohort_with_retake.pk}/questions/groups/?attempts=<script>")
    assert page.context["report"].selection == "first" and "<script>" not in page.text


def test_the_topic_menu_moves_to_that_topics_page_keeping_the_selection(client, cohort_with_retake):
    base = f"/dashboard/cohorts/{cohort_with_retake.pk}/questions/"
    response = client.get(f"{base}groups/?topic=routing&attempts=all")
    assert response.status_code == 302 and response["Location"] == f"{base}routing/?attempts=all"
    assert client.get(f"{base}groups/?topic=no-such-topic").status_code == 404


def test_questions_show_their_text_choices_counts_and_misconceptions(client, cohort_with_retake):
    page = client.get(f"/dashboard/cohorts/{cohort_with_retake.pk}/questions/groups/?attempts=all")
    report = page.context["report"]
    drawn = [q for q in report.questions if q.stats.n]
    question = drawn[0]
    wrong = wrong_key(question.question.id)
    counts = {c.key: c.count for c in question.choices}
    right = next(iter(question.question.answer))
    assert counts[right] == 2 and counts[wrong] == 1  # two passing attempts, Ann's failing one picked `wrong`
    bank_question = get_bank().questions[question.question.id]
    assert bank_question.stem_html in page.text
    mistake = bank_question.choices[wrong].mistake
    assert mistake and f"Misconception: {mistake}".replace("'", "&#x27;") in page.text
    assert question.stats.random_guess is not None


def test_an_empty_topic_says_so_in_words(client):
    instructor = make_user("lead", instructor=True)
    cohort = make_cohort(instructor)
    client.force_login(instructor)
    page = client.get(f"/dashboard/cohorts/{cohort.pk}/questions/groups/").text
    assert "No finished attempts yet" in page and "No question has both figures yet" in page
    assert "<svg" not in page
    cohort_page = client.get(f"/dashboard/cohorts/{cohort.pk}/").text
    assert "No answers yet in the last 14 days." in cohort_page
    assert "No learner has completed a topic yet." in cohort_page


def test_nice_ticks_are_round_steps_from_zero():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(23) == [0, 5, 10, 15, 20, 25]
    assert nice_ticks(250) == [0, 50, 100, 150, 200, 250]


def test_column_chart_scales_to_the_top_tick_and_labels_values():
    chart = column_chart(
        "c", "caption", [("a", 2), ("b", 4)], label_heading="L", value_heading="V", axis_title="t", empty_text="e"
    )
    # Ticks 0..4; the plot runs from y=190 (0) up to y=18 (4): the tallest bar is the whole 172, the other half.
    assert [tick.label for tick in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert chart.bars[1].height == pytest.approx(172.0) and chart.bars[0].height == pytest.approx(86.0)
    assert chart.bars[0].value_y == pytest.approx(190 - 86 - 4)  # the value sits just above its bar
    assert not chart.empty


def test_row_chart_cuts_long_labels_but_keeps_them_whole_for_the_table():
    label = "14. A topic title far longer than any axis label should be"
    chart = row_chart("r", "c", [(label, 0)], label_heading="L", value_heading="V", axis_title="t", empty_text="e")
    assert chart.bars[0].label == label and len(chart.bars[0].short_label) == 22
    assert chart.empty


def test_scatter_places_points_on_both_axes_and_lists_the_unplottable():
    chart = facility_discrimination(
        [("Q1", 50.0, 0.0), ("Q2", None, 10.0), ("Q3", 100.0, 100.0), ("Q4", 50.0, 0.0)], (20, 90), 20
    )
    # x: 44 + 340 * facility / 100; y: 250 - 240 * (discrimination + 100) / 200
    assert (chart.points[0].x, chart.points[0].y) == (pytest.approx(214.0), pytest.approx(130.0))
    assert (chart.points[1].x, chart.points[1].y) == (pytest.approx(384.0), pytest.approx(10.0))
    assert [point.label for point in chart.points] == ["Q1, Q4", "Q3"]  # the same figures share one dot
    assert chart.unplotted == ["Q2"]
    # The band: facility 20..90 -> x 112..350; discrimination 20..100 -> y 10..106
    assert chart.good == (pytest.approx(112.0), 10.0, pytest.approx(238.0), pytest.approx(96.0))


def test_the_csv_counts_the_attempts_the_page_analyses(client, cohort_with_retake):
    base = f"/dashboard/cohorts/{cohort_with_retake.pk}/questions/groups/"
    page = client.get(f"{base}?attempts=all")
    assert f'href="{base}export.csv?attempts=all"' in page.text
    for selection, count in (("all", "3"), ("first", "2")):
        rows = b"".join(client.get(f"{base}export.csv?attempts={selection}").streaming_content).decode().splitlines()
        drawn = [row for row in rows[1:] if row.split(",")[2] != '"0"']
        assert {row.split(",")[2] for row in drawn} == {f'"{count}"'}
