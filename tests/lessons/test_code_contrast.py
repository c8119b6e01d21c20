"""Highlighted code is readable: every token colour of both Pygments styles has 4.5:1 contrast on its background."""

from __future__ import annotations

import pytest
from pygments.styles import get_style_by_name
from pygments.token import Whitespace

from lessons.catalogue.rendering import DARK_STYLE, LIGHT_STYLE, pygments_css

WCAG_AA_TEXT = 4.5


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of #rrggbb."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def expand(colour: str) -> str:
    colour = colour.lstrip("#")
    return "#" + ("".join(c * 2 for c in colour) if len(colour) == 3 else colour)


def test_contrast_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("name", [LIGHT_STYLE, DARK_STYLE])
def test_every_token_colour_passes_aa_on_the_code_background(name):
    style = get_style_by_name(name)
    failing = []
    for token, spec in style:
        if not spec["color"] or token in Whitespace:  # whitespace draws nothing
            continue
        background = expand(spec["bgcolor"] or style.background_color)
        ratio = contrast(expand(spec["color"]), background)
        if ratio < WCAG_AA_TEXT:
            failing.append(f"{token} #{spec['color']} on {background}: {ratio:.2f}")
    assert not failing, failing


def test_code_blocks_sit_on_the_style_background():
    css = pygments_css()
    for name in (LIGHT_STYLE, DARK_STYLE):
        assert f".highlight pre {{ background: {get_style_by_name(name).background_color}; }}" in css
