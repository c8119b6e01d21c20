"""An instructor's day in Chromium: log in to the dashboard, share and copy the join link, filter, drill into a learner,
remove one (with a question first) and undo it, and download a gradebook a spreadsheet opens without running anything.
Every dashboard page is shot at 1366x900 and 390 px and must not scroll sideways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cohorts.models import Membership
from quizzes.models import Attempt
from tests.conftest import missing_service
from tests.e2e.test_lessons_flow import log_in, log_in_with_form
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import correct_keys, make_cohort, make_user, wrong_key
from tests.support.spreadsheet import open_in_calc, soffice_available

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_instructor_lands_on_the_dashboard_copies_the_whole_join_link_and_filters(
    page, browser, daphne_server, output_path
):
    make_user("mentor", instructor=True)
    make_user("pupil")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=daphne_server.url)
    log_in_with_form(page, daphne_server.url, "mentor")
    expect(page).to_have_url(daphne_server.url + "/dashboard/")  # where instructors work, not the home page
    shoot_both_widths(page, output_path, "dashboard-index-empty")
    page.get_by_label("Name").fill("Monday group")
    page.get_by_role("button", name="Create cohort").click()
    expect(page.get_by_role("heading", name="Monday group", level=1)).to_be_visible()
    cohort_url = page.url

    box = page.get_by_test_id("join-url")
    join_url = box.input_value()
    assert re.fullmatch(re.escape(daphne_server.url) + r"/dashboard/join/[\w-]+/", join_url)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        # The whole link is visible: nothing hidden to the side or below in the box, once the layout settles (the
        # box is laid out again when the page's monospace font replaces its fallback).
        page.wait_for_function(
            "el => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1",
            arg=box.element_handle(),
            timeout=BROWSER_WAIT_MS,
        )
    page.get_by_role("button", name="Copy join link").click()
    assert page.evaluate("navigator.clipboard.readText()") == join_url

    learner_context = browser.new_context()
    learner = learner_context.new_page()
    learner.set_default_timeout(BROWSER_WAIT_MS)
    log_in_with_form(learner, daphne_server.url, "pupil")
    expect(learner).to_have_url(daphne_server.url + "/")  # learners keep landing at home
    learner.goto(join_url)
    shoot_both_widths(learner, output_path, "join")
    learner.get_by_role("button", name="Join Monday group").click()
    expect(learner.get_by_text("You joined “Monday group”.")).to_be_visible()
    shoot_both_widths(learner, output_path, "my-cohorts")
    learner_context.close()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("link", name="Monday group")).to_be_visible()
    shoot_both_widths(page, output_path, "dashboard-index")
    page.goto(cohort_url)
    row = page.get_by_test_id("matrix").locator("tbody tr", has_text="pupil")
    expect(row).to_be_visible()
    expect(row.locator(".flag")).to_have_count(0)  # joined a moment ago: not "no progress for 7+ days"
    shoot_both_widths(page, output_path, "cohort")

    page.get_by_role("searchbox", name="Learner").fill("nobody-by-this-name")
    page.get_by_role("button", name="Apply").click()
    empty = page.get_by_test_id("matrix-empty")
    expect(empty).to_contain_text("No learners match this filter.")
    expect(empty).not_to_contain_text("No learners yet")
    shoot_both_widths(page, output_path, "cohort-filter-empty")
    empty.get_by_role("link", name="Clear the filter").click()
    expect(page.get_by_test_id("matrix").locator("tbody tr", has_text="pupil")).to_be_visible()


def test_instructor_drills_into_a_learners_answers_in_words(page, browser, daphne_server, output_path):
    from dashboards.exports import html_to_text
    from quizzes.bank import get_bank

    instructor = make_user("examiner", instructor=True)
    student = make_user("solver")
    cohort = make_cohort(instructor, "Wednesday group", learners=[student])

    learner_context = browser.new_context()
    learner = learner_context.new_page()
    learner.set_default_timeout(BROWSER_WAIT_MS)
    log_in(learner, daphne_server.url, "solver")
    learner.goto(daphne_server.url + "/quizzes/groups/")
    learner.get_by_label(re.compile("^Practice")).check()
    learner.get_by_role("button", name="Start the quiz").click()
    expect(learner).to_have_url(re.compile(r"/quizzes/attempt/\d+/$"))
    attempt = Attempt.objects.get(user=student)
    first = attempt.question_ids[0]
    question = learner.locator("#question-1")
    question.get_by_role("button", name=re.compile("Show hint 1")).click()
    expect(question.locator(".hints li").first).to_have_text(re.compile(r"\S"))
    wrong = wrong_key(first)
    learner.locator(f"#q1-{wrong}").check()
    question.get_by_role("button", name="Check answer").click()
    expect(learner.locator("#question-1 .result")).to_be_visible()
    learner_context.close()

    log_in(page, daphne_server.url, "examiner")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    page.get_by_test_id("matrix").get_by_role("link", name="solver", exact=True).click()
    expect(page.get_by_role("heading", name="solver", level=1)).to_be_visible()
    card = page.get_by_test_id("attempt").first
    expect(card.get_by_role("heading", level=3)).to_contain_text("Groups and broadcast · Practice · started")
    expect(card).not_to_contain_text("Practice: ")
    bank_question = get_bank().questions[first]
    line = card.locator(f'[data-question="{first}"]')
    stem_text = line.locator(".answer-stem").inner_text()
    assert stem_text.strip() and first not in stem_text  # the question's words, not its id
    assert "".join(stem_text.split()) == "".join(html_to_text(bank_question.stem_html).split())
    expect(line.locator(".chosen")).to_have_count(1)
    chosen_text = line.locator(".chosen").inner_text()
    assert chosen_text.strip() and chosen_text.strip() != wrong  # the choice's words, not its letter
    expect(line).to_contain_text("wrong")
    expect(line.get_by_test_id("hints")).to_have_text("1")
    other = card.locator(f'[data-question="{attempt.question_ids[1]}"]')
    expect(other).to_contain_text("not answered")
    expect(other.get_by_test_id("hints")).to_have_text("0")
    expect(page.get_by_test_id("timeline")).to_contain_text("started the Groups and broadcast quiz (practice)")
    shoot_both_widths(page, output_path, "learner-detail")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/questions/groups/")
    shoot_both_widths(page, output_path, "question-statistics")
    assert correct_keys(first)  # the bank still knows the answer the learner missed


def remove_and_undo(page, cohort_url: str, name: str) -> None:
    """The matrix's remove link asks first; cancel keeps the learner; confirm removes; undo puts them back."""
    page.goto(cohort_url)
    page.get_by_role("link", name=f"Remove {name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(rf"^Remove {name} from .+\?$"))
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("matrix").locator("tbody tr", has_text=name)).to_be_visible()
    page.get_by_role("link", name=f"Remove {name}").click()
    page.get_by_role("button", name=f"Remove {name}").click()
    expect(page.get_by_text(f"{name} was removed from the cohort.")).to_be_visible()
    expect(page.get_by_test_id("matrix").locator("tbody tr", has_text=name)).to_have_count(0)
    page.get_by_role("button", name=f"Undo: add {name} back").click()
    expect(page.get_by_text(f"{name} is back in the cohort.")).to_be_visible()
    expect(page.get_by_test_id("matrix").locator("tbody tr", has_text=name)).to_be_visible()
    expect(page.get_by_test_id("removals")).to_have_count(0)


def test_remove_asks_first_and_undo_restores_with_and_without_javascript(page, browser, daphne_server, output_path):
    instructor = make_user("warden", instructor=True)
    kept = make_user("kept")
    cohort = make_cohort(instructor, "Friday group", learners=[kept, make_user("other")])
    cohort_url = f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/"
    joined = Membership.objects.get(user=kept).joined_at

    log_in(page, daphne_server.url, "warden")
    page.goto(cohort_url)
    page.get_by_role("link", name="Remove kept").click()
    shoot_both_widths(page, output_path, "confirm-remove")
    page.get_by_role("button", name="Remove kept").click()
    expect(page.get_by_test_id("removals")).to_contain_text("Removed kept")
    shoot_both_widths(page, output_path, "cohort-after-remove")
    page.get_by_role("button", name="Undo: add kept back").click()
    expect(page.get_by_text("kept is back in the cohort.")).to_be_visible()
    assert Membership.objects.get(user=kept).joined_at == joined
    remove_and_undo(page, cohort_url, "other")

    no_js = browser.new_context(java_script_enabled=False)
    plain = no_js.new_page()
    plain.set_default_timeout(BROWSER_WAIT_MS)
    log_in(plain, daphne_server.url, "warden")
    remove_and_undo(plain, cohort_url, "kept")
    no_js.close()
    assert set(Membership.objects.filter(cohort=cohort, role="learner").values_list("user__username", flat=True)) == {
        "kept",
        "other",
    }


def test_downloaded_gradebook_opens_in_a_spreadsheet_without_formulas(page, daphne_server, output_path, tmp_path):
    if not soffice_available():
        missing_service("LibreOffice (soffice) is not installed: scripts/system-packages.sh installs it")
    instructor = make_user("bookkeeper", instructor=True)
    cohort = make_cohort(instructor, "Gradebook group", learners=[make_user("=1+1"), make_user("@SUM(A1)")])
    log_in(page, daphne_server.url, "bookkeeper")
    page.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    files = []
    for link in ("Gradebook CSV", "Answers CSV"):
        with page.expect_download() as download:
            page.get_by_role("link", name=link).click()
        target = Path(tmp_path) / download.value.suggested_filename
        download.value.save_as(target)
        files.append(target)
    assert [f.name for f in files] == [f"cohort-{cohort.pk}-gradebook.csv", f"cohort-{cohort.pk}-answers.csv"]
    sheets = open_in_calc(files, Path(tmp_path))
    gradebook = sheets[f"cohort-{cohort.pk}-gradebook"]
    assert [row[0].text for row in gradebook] == ["learner", "'=1+1", "'@SUM(A1)"]
    assert not [cell for rows in sheets.values() for row in rows for cell in row if cell.formula]
