"""Issue 19 item 6 in a browser: with the Content-Security-Policy enforced, the main pages work without a single
violation, and a script injected into a page does not run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cohorts.models import Membership
from tests.e2e.test_lessons_flow import log_in
from tests.e2e.test_playground_flow import add_client, open_playground, send_from
from tests.e2e.views import BROWSER_WAIT_MS, shoot_both_widths
from tests.factories import make_cohort, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs before any script of each page (Playwright injects it outside the page's policy) and records every violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`);
});
"""

INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__injectedRan = true;";
  document.body.append(script);
}"""


class ViolationWatch:
    """Every CSP violation the page reports, from the event and from the console."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self.on_console)

    def on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def assert_none(self, where: str) -> None:
        events = self.page.evaluate("window.__cspViolations")
        assert events == [] and self.console == [], f"{where}: {events} {self.console}"

    def assert_injected_script_blocked(self, where: str) -> None:
        self.page.evaluate(INJECT_INLINE_SCRIPT)
        expect_reported = self.page.wait_for_function("window.__cspViolations.length > 0")
        assert expect_reported
        assert self.page.evaluate("window.__injectedRan") is None, f"{where}: an injected inline script ran"
        assert "script-src" in self.page.evaluate("window.__cspViolations[0]")
        self.page.evaluate("window.__cspViolations = []")
        self.console.clear()


def test_main_pages_run_under_the_policy_and_injected_script_does_not(page, browser, daphne_server, output_path):
    watch = ViolationWatch(page)
    response = page.goto(daphne_server.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    watch.assert_none("home")
    watch.assert_injected_script_blocked("home")

    page.goto(daphne_server.url + "/lessons/consumer-lifecycle/")
    page.get_by_role("tab").nth(1).click()
    watch.assert_none("lesson topic")
    watch.assert_injected_script_blocked("lesson topic")

    open_playground(page, daphne_server.url)  # signs in as a learner, runs the echo starter
    card = add_client(page)
    send_from(card, "under the policy")
    expect(card.locator("tr.log-received")).to_contain_text("under the policy")
    expect(
        page.locator(".ace_editor.ace-chrome, .ace_editor.ace-tomorrow-night")
    ).to_be_visible()  # styled by the linked CSS
    watch.assert_none("playground run")
    watch.assert_injected_script_blocked("playground")
    shoot_both_widths(page, output_path, "csp-playground")
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("link", name="Replay this run").click()
    expect(page.locator(".viz-table tbody tr").first).to_be_visible()
    expect(page.locator(".ace_editor .ace_line").first).to_contain_text("# Echo")
    watch.assert_none("replay")
    watch.assert_injected_script_blocked("replay")
    shoot_both_widths(page, output_path, "csp-replay")

    page.goto(daphne_server.url + "/quizzes/groups/")
    page.get_by_role("button", name="Start the quiz").click()
    expect(page).to_have_url(re.compile(r"/quizzes/attempt/\d+/$"))
    page.locator("#question-1 input[name=choice]").first.check()
    page.get_by_role("button", name="Check answer").first.click()  # htmx swaps the answered question in
    expect(page.locator("#question-1 .result")).to_be_visible()
    watch.assert_none("quiz attempt")
    watch.assert_injected_script_blocked("quiz attempt")

    instructor = make_user("csp-prof", instructor=True)
    cohort = make_cohort(instructor, "CSP cohort")
    Membership.objects.create(cohort=cohort, user=make_user("csp-learner"), role=Membership.Role.LEARNER)
    context = browser.new_context()
    teacher = context.new_page()
    teacher.set_default_timeout(BROWSER_WAIT_MS)
    teacher_watch = ViolationWatch(teacher)
    log_in(teacher, daphne_server.url, "csp-prof")
    teacher.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/")
    expect(teacher.locator("#live-state")).to_have_attribute("data-state", "live")
    teacher_watch.assert_none("dashboard")
    teacher_watch.assert_injected_script_blocked("dashboard")
    teacher.goto(f"{daphne_server.url}/dashboard/cohorts/{cohort.pk}/questions/consumer-lifecycle/")
    teacher.get_by_label("Topic").select_option(value="groups")  # a plain form now; it had an inline handler
    teacher.get_by_role("button", name="Show").click()
    expect(teacher).to_have_url(re.compile(r"/questions/groups/\?attempts=\w+$"))
    teacher_watch.assert_none("question statistics")
    shoot_both_widths(teacher, output_path, "csp-questions")
    context.close()


def test_static_files_carry_nosniff(daphne_server):
    import urllib.request

    for path in ("/static/js/playground.js", "/static/css/site.css", "/static/img/favicon.svg"):
        with urllib.request.urlopen(daphne_server.url + path) as response:
            assert response.headers["X-Content-Type-Options"] == "nosniff", path
