"""Every page template, with data, at 1366 and 390 px wide (no sideways scroll) and under axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.e2e.site_walk import READERS, walk_every_page
from tests.e2e.views import shoot_both_widths

# A walk opens 5 to 31 pages; on a loaded 2-core machine that can pass the suite's 300 s.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

AXE = Path(__file__).resolve().parent.parent / "assets" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # tests/assets/axe-core/README.md
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
MIN_PAGES = {"visitor": 31, "learner": 16, "instructor": 7}  # a walk that quietly skips pages must not pass
# The innermost elements reaching past the right edge, outside any scrolling box, so a failure names what to fix.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const clipped = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [...document.querySelectorAll("body *")].filter(
    (el) => el.getBoundingClientRect().right > width + 1 && !clipped(el));
  const innermost = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  return innermost.slice(0, 6).map((el) => {
    const chain = [];
    for (let node = el; node && node !== document.body && chain.length < 4; node = node.parentElement) chain.unshift(describe(node));
    return chain.join(" > ") + " (" + Math.round(el.getBoundingClientRect().right) + " px)";
  });
}"""
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    violations = page.evaluate(RUN_AXE, WCAG_21_AA)
    return [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}: " + json.dumps(v["nodes"][:3])
        for v in violations
    )


@pytest.mark.parametrize("reader", READERS)
def test_every_page_fits_390_px_and_passes_axe_wcag_21_aa_in_light_and_dark(
    browser, daphne_server, output_path, reader
):
    """One walk per reader judges each page three ways: no sideways scroll at 1366 and 390 px (with screenshots), and
    axe-core in the light and the dark colour scheme. axe is injected before the page's scripts, outside its policy,
    so the pages are judged with the Content-Security-Policy enforced, as learners get them."""
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256, "axe.min.js is not the vendored 4.14.1"
    failures: list[str] = []

    def judge(page, name: str) -> None:
        try:
            shoot_both_widths(page, output_path, name)
        except AssertionError as error:
            failures.append(f"{error}: " + "; ".join(page.evaluate(OVERFLOWING)))
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            violations = axe_violations(page)
            if violations:
                failures.append(f"{name} ({scheme}): {describe(violations)}")
        page.emulate_media(color_scheme="light")

    checked = walk_every_page(browser, daphne_server.url, reader, judge, init_script=AXE)
    assert len(set(checked)) >= MIN_PAGES[reader], checked
    assert not failures, "\n".join(failures)
