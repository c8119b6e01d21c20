"""Issue 13, "nothing lost", in a real browser: drafts come back after a reload, a starter change, a sign-in and on
another device; "Reset to starter" asks and can be undone; a failed save says so and keeps the text; a reload during
a run re-attaches to it (or offers its replay); /playground/runs/ lists the learner's runs."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from playground.models import Draft, Run
from playground.run.limits import run_limits
from tests.conftest import DaphneServer, shared_server_env
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.views import shoot_both_widths
from tests.factories import make_user
from tests.playground.conftest import starter_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class ConsoleErrors:
    """Every console error and uncaught exception of the page, so a test can demand none."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


def editor_text(page) -> str:
    return page.evaluate("window.playground.editor.getValue()")


def type_at_the_end(page, text: str) -> None:
    """Type as a learner does: click into the editor, go to the end, type."""
    page.locator("#editor .ace_content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def expect_saved(page) -> None:
    expect(page.get_by_test_id("draft-status")).to_have_text("Saved")


@pytest.fixture
def reattaching_server(django_db_setup, collected_static, tmp_path):
    """A Daphne whose runs outlive their page for 60 s (the shared test server ends them at once)."""
    server = DaphneServer(
        shared_server_env(collected_static, PLAYGROUND_REATTACH_SECONDS="60"), tmp_path / "daphne-reattach.log"
    )
    yield server
    server.stop()


def test_typed_code_comes_back_after_reload_starter_change_and_on_another_device(
    page, browser, daphne_server, output_path
):
    console = ConsoleErrors(page)
    make_user("drafter")
    log_in(page, daphne_server.url, "drafter")
    page.goto(f"{daphne_server.url}/playground/echo/")
    expect(page.get_by_test_id("draft-status")).to_have_text("Starter code")
    type_at_the_end(page, "\n# my own line_with_underscores\n")
    expect_saved(page)
    mine = editor_text(page)
    assert mine.endswith("# my own line_with_underscores\n")
    shoot_both_widths(page, output_path, "draft-saved")

    page.reload()
    expect_saved(page)
    assert editor_text(page) == mine

    page.get_by_test_id("starter-select").select_option(index=1)
    expect(page).not_to_have_url(f"{daphne_server.url}/playground/echo/")
    assert "# my own line_with_underscores" not in editor_text(page)  # another starter, its own code
    page.get_by_test_id("starter-select").select_option(value="/playground/echo/")
    expect(page).to_have_url(f"{daphne_server.url}/playground/echo/")
    expect_saved(page)
    assert editor_text(page) == mine

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    other = phone.new_page()
    log_in(other, daphne_server.url, "drafter")
    other.goto(f"{daphne_server.url}/playground/echo/")
    expect(other.get_by_test_id("draft-status")).to_have_text("Saved")
    assert editor_text(other) == mine
    phone.close()
    assert console.errors == []


def test_a_visitors_draft_moves_to_the_account_at_sign_in(page, browser, daphne_server):
    console = ConsoleErrors(page)
    make_user("late-signer")
    page.goto(f"{daphne_server.url}/playground/echo/")
    type_at_the_end(page, "\n# written before signing in\n")
    expect_saved(page)
    written = editor_text(page)
    page.get_by_test_id("login-to-run").get_by_role("link", name="log in").click()
    page.get_by_label("Username").fill("late-signer")
    page.get_by_label("Password:", exact=True).fill("correct-horse-battery-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-user")).to_have_text("late-signer")
    expect(page).to_have_url(f"{daphne_server.url}/playground/echo/")
    assert editor_text(page) == written
    assert Draft.objects.get(learner__username="late-signer", starter="echo").code == written

    laptop = browser.new_context()
    other = laptop.new_page()
    log_in(other, daphne_server.url, "late-signer")
    other.goto(f"{daphne_server.url}/playground/echo/")
    expect(other.get_by_test_id("draft-status")).to_have_text("Saved")
    assert editor_text(other) == written
    laptop.close()
    assert console.errors == []


def test_reset_to_starter_asks_first_and_can_be_undone(page, daphne_server, output_path):
    console = ConsoleErrors(page)
    make_user("resetter")
    log_in(page, daphne_server.url, "resetter")
    page.goto(f"{daphne_server.url}/playground/echo/")
    type_at_the_end(page, "\n# keep me\n")
    expect_saved(page)
    mine = editor_text(page)

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Reset to starter").click()
    expect(page.get_by_test_id("draft-status")).to_have_text("Saved")
    assert editor_text(page) == mine  # said no: nothing changed

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Reset to starter").click()
    expect(page.get_by_test_id("draft-status")).to_contain_text("Reset to the starter code")
    assert "undo" in questions[0]
    assert editor_text(page) == starter_code("echo")
    assert not Draft.objects.filter(learner__username="resetter").exists()
    shoot_both_widths(page, output_path, "draft-reset")

    page.get_by_role("button", name="Undo reset").click()
    expect_saved(page)
    assert editor_text(page) == mine
    page.reload()
    assert editor_text(page) == mine
    assert console.errors == []


def test_a_failed_save_says_why_keeps_the_text_and_saves_once_it_can(page, daphne_server, output_path):
    make_user("unlucky")
    log_in(page, daphne_server.url, "unlucky")
    page.goto(f"{daphne_server.url}/playground/echo/")
    page.route("**/playground/echo/draft/", lambda route: route.abort())
    type_at_the_end(page, "\n# typed while the server was away\n")
    status = page.get_by_test_id("draft-status")
    expect(status).to_have_text("Not saved: no connection to the server; trying again.")
    assert editor_text(page).endswith("# typed while the server was away\n")
    shoot_both_widths(page, output_path, "draft-not-saved")
    page.unroute("**/playground/echo/draft/")
    expect(status).to_have_text("Saved")  # the retry after 2 s
    assert Draft.objects.get(learner__username="unlucky").code.endswith("# typed while the server was away\n")

    too_large = "#" * (run_limits().max_code_bytes + 1)
    page.evaluate("(text) => window.playground.editor.setValue(text)", too_large)
    expect(status).to_contain_text("Not saved: the code is")
    expect(status).to_contain_text("at most")
    assert len(editor_text(page)) == len(too_large)  # the text stays in the editor
    assert Draft.objects.get(learner__username="unlucky").code.endswith("# typed while the server was away\n")


def test_two_tabs_never_overwrite_each_other_silently(page, daphne_server, output_path):
    console = ConsoleErrors(page)
    make_user("two-tabs")
    log_in(page, daphne_server.url, "two-tabs")
    page.goto(f"{daphne_server.url}/playground/echo/")
    other = page.context.new_page()
    other.goto(f"{daphne_server.url}/playground/echo/")  # opened before the first tab saves anything
    type_at_the_end(page, "\n# from the first tab\n")
    expect_saved(page)
    type_at_the_end(other, "\n# from the second tab\n")
    status = other.get_by_test_id("draft-status")
    expect(status).to_contain_text("Not saved: this starter's code was changed on another page or device")
    assert "# from the first tab" in Draft.objects.get(learner__username="two-tabs").code
    shoot_both_widths(other, output_path, "draft-conflict")
    other.get_by_role("button", name="Keep this version").click()
    expect(status).to_have_text("Saved")
    assert "# from the second tab" in Draft.objects.get(learner__username="two-tabs").code

    type_at_the_end(page, "# the first tab again\n")
    expect(page.get_by_test_id("draft-status")).to_contain_text("changed on another page or device")
    page.get_by_role("button", name="Load the other version").click()
    expect_saved(page)
    assert "# from the second tab" in editor_text(page)
    other.close()
    assert [error for error in console.errors if "409" not in error] == []


def test_a_reload_while_a_save_is_answered_keeps_the_newest_text(page, daphne_server):
    """The save reaches the server but its answer is held back; the learner types on and reloads. The page sends its
    text on the way out with the base it last knew: that is the page's own save, not a change made elsewhere."""
    console = ConsoleErrors(page)
    make_user("reloader")
    log_in(page, daphne_server.url, "reloader")
    page.goto(f"{daphne_server.url}/playground/echo/")
    held = []

    def answer_the_first_save_late(route) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # saved on the server; the page has no answer yet

    page.route("**/playground/echo/draft/", answer_the_first_save_late)
    type_at_the_end(page, "\n# saved, answer held back\n")
    deadline = time.monotonic() + 30
    while not held:
        assert time.monotonic() < deadline, "the page sent no save"
        page.wait_for_timeout(50)  # lets the route handler run
    assert Draft.objects.get(learner__username="reloader").code.endswith("# saved, answer held back\n")
    type_at_the_end(page, "# typed while the answer was on its way\n")
    page.unroute("**/playground/echo/draft/")  # an intercepted request is dropped when its page unloads
    page.reload()  # the text goes out on the way, beside the new page's request: either may reach Daphne first
    newest = "# typed while the answer was on its way\n"
    deadline = time.monotonic() + 30
    while not Draft.objects.get(learner__username="reloader").code.endswith(newest):
        assert time.monotonic() < deadline, "the text sent on the way out was not kept"
        page.wait_for_timeout(50)
    page.reload()
    page.wait_for_function("() => window.playground !== undefined")
    assert editor_text(page).endswith(newest)
    expect_saved(page)
    assert console.errors == []


def test_a_reload_during_a_run_reattaches_to_it(page, reattaching_server, output_path):
    console = ConsoleErrors(page)
    base = reattaching_server.url
    make_user("reloader")
    log_in(page, base, "reloader")
    page.goto(f"{base}/playground/echo/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-status")).to_have_text("running")
    page.get_by_role("button", name="Add client").click()
    card = page.locator(".client-card").last
    card.get_by_role("button", name="Connect").click()
    expect(card.locator(".client-state")).to_have_text("open")
    card.get_by_label("Message").fill("before the reload")
    card.get_by_role("button", name="Send").click()
    expect(card.locator("tr.log-received")).to_contain_text("before the reload")
    run = Run.objects.get(learner__username="reloader")
    live_url = page.get_by_role("textbox", name="Live URL").input_value()

    page.reload()
    expect(page.locator("#run-status")).to_have_text("running")
    expect(page.get_by_test_id("run-notice")).to_have_text(
        "Your run went on while the page reloaded; it is shown here again."
    )
    expect(page.get_by_role("textbox", name="Live URL")).to_have_value(live_url)
    card = page.locator('.client-card[data-client="c1"]')
    expect(card.locator(".client-state")).to_have_text("open")
    expect(page.locator(".visualizer")).to_contain_text("before the reload")
    card.get_by_label("Message").fill("after the reload")
    card.get_by_role("button", name="Send").click()
    expect(card.locator("tr.log-received")).to_contain_text("after the reload")
    shoot_both_widths(page, output_path, "run-reattached")
    assert Run.objects.get(pk=run.pk).ended_at is None  # one run all along

    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#run-status")).to_contain_text("stopped")
    expect(page.get_by_test_id("run-notice").get_by_role("link", name="Replay this run")).to_have_attribute(
        "href", f"/playground/runs/{run.pk}/"
    )
    assert console.errors == []


def test_a_reload_after_the_run_ended_puts_its_replay_one_click_away(page, daphne_server, output_path):
    console = ConsoleErrors(page)
    make_user("too-late")
    log_in(page, daphne_server.url, "too-late")
    page.goto(f"{daphne_server.url}/playground/echo/")
    expect(page.locator("#playground")).to_have_attribute("data-connected", "true")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#run-status")).to_have_text("running")
    page.reload()  # this server ends a run the moment its page closes
    notice = page.get_by_test_id("run-notice")
    expect(notice).to_contain_text("Run ended: The page was closed")
    shoot_both_widths(page, output_path, "run-ended-replay")
    notice.get_by_role("link", name="Replay this run").click()
    expect(page.locator("h1")).to_have_text(f"Replay of run {Run.objects.get(learner__username='too-late').pk}")
    assert console.errors == []


def test_the_runs_page_lists_the_learners_runs_with_replays(page, daphne_server, output_path):
    console = ConsoleErrors(page)
    learner, other = make_user("lister"), make_user("not-me")
    now = timezone.now()
    runs = [
        Run.objects.create(
            learner=learner,
            starter=starter,
            code="x = 1",
            started_at=now - timedelta(minutes=minutes),
            ended_at=now - timedelta(minutes=minutes) + timedelta(seconds=42),
            end_reason=reason,
            event_count=12,
        )
        for minutes, starter, reason in ((30, "echo", "stopped"), (10, "chat_room", "limit"))
    ]
    Run.objects.create(learner=other, code="y = 2", started_at=now, event_count=3)
    log_in(page, daphne_server.url, "lister")
    page.goto(f"{daphne_server.url}/playground/")
    page.locator(".pg-run").get_by_role("link", name="My runs").click()
    expect(page.locator("h1")).to_have_text("My runs")
    rows = page.get_by_test_id("runs-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("A limit was reached")
    expect(rows.nth(0)).to_contain_text("42 s")
    expect(rows.nth(1)).to_contain_text("Stopped by the learner")
    shoot_both_widths(page, output_path, "my-runs")
    rows.nth(1).get_by_role("link", name=f"Replay run {runs[0].pk}").click()
    expect(page.locator("h1")).to_have_text(f"Replay of run {runs[0].pk}")
    assert console.errors == []
