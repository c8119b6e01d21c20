"""The two widths every page is judged at: screenshots kept as test artifacts, and no sideways scroll."""

from __future__ import annotations

from pathlib import Path

VIEWPORTS = ((1366, 900), (390, 844))
# How long a browser test waits for a condition (an element, a navigation, a frame) before failing. Generous on
# purpose: waits end as soon as the condition holds, and CI may share the machine with other work.
BROWSER_WAIT_MS = 30_000


def shoot_both_widths(page, output_path: str | Path, name: str) -> None:
    """Screenshot `page` at 1366x900 and 390 px wide (full page) into test-results, failing on sideways scroll."""
    original = page.viewport_size
    for width, height in VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name}: the page scrolls sideways at {width} px ({scroll_width} px wide)"
        page.screenshot(path=f"{output_path}/{name}-{width}.png", full_page=True)
    if original:
        page.set_viewport_size(original)
