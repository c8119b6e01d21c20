"""Markdown to HTML with Pygments, heading anchors and admonitions; runs once per file at load."""

from __future__ import annotations

import html
import re
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

import markdown
from pygments.formatters import HtmlFormatter

from lessons.catalogue.types import Heading, Section

if TYPE_CHECKING:
    from markdown.extensions.toc import _TocToken  # the stub's type of one heading in toc_tokens

CODE_CSS_CLASS = "highlight"
LIGHT_STYLE = "xcode"  # every token colour 4.5:1 or more on its background (WCAG AA)
DARK_STYLE = "monokai"
_TAG = re.compile(r"<[^>]+>")
_PERMALINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>')
_SECTION_HEADING = re.compile(r'<h[23] id="([^"]+)"')


def _new_renderer() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["fenced_code", "codehilite", "tables", "toc", "admonition", "sane_lists", "attr_list"],
        extension_configs={
            "codehilite": {"css_class": CODE_CSS_CLASS, "guess_lang": False},
            "toc": {"permalink": "#", "permalink_title": "Link to this section", "toc_depth": "2-3"},
        },
        output_format="html",
    )


def _flatten(tokens: list[_TocToken]) -> list[Heading]:
    headings: list[Heading] = []
    for token in tokens:
        headings.append(Heading(level=token["level"], anchor=token["id"], text=html.unescape(token["name"])))
        headings.extend(_flatten(token["children"]))
    return headings


def render_markdown(text: str) -> tuple[str, tuple[Heading, ...]]:
    """Render trusted, reviewed Markdown; returns the HTML and its h2/h3 headings."""
    renderer = _new_renderer()
    rendered = _scrollable_by_keyboard(renderer.convert(text))
    # The toc extension adds toc_tokens to the Markdown object at run time, so its stub cannot declare it.
    return rendered, tuple(_flatten(renderer.toc_tokens))  # type: ignore[attr-defined]


def _scrollable_by_keyboard(rendered_html: str) -> str:
    """Code blocks and tables scroll sideways on a narrow screen: each becomes a named region the keyboard can focus."""
    rendered_html = rendered_html.replace("<pre>", '<pre tabindex="0" role="region" aria-label="Code">')
    rendered_html = rendered_html.replace(
        "<table>", '<div class="table-scroll" tabindex="0" role="region" aria-label="Table"><table>'
    )
    return rendered_html.replace("</table>", "</table></div>")


def plain_text(rendered_html: str) -> str:
    """Text of rendered HTML, whitespace folded, for search (heading permalinks left out)."""
    return " ".join(html.unescape(_TAG.sub(" ", _PERMALINK.sub("", rendered_html))).split())


def split_sections(rendered_html: str) -> tuple[Section, ...]:
    """The page cut at each h2/h3 heading, each piece with its heading's anchor; empty pieces are dropped."""
    cuts = [(match.start(), match.group(1)) for match in _SECTION_HEADING.finditer(rendered_html)]
    bounds = [(0, ""), *cuts, (len(rendered_html), "")]
    sections = []
    for (start, anchor), (end, _) in pairwise(bounds):
        text = plain_text(rendered_html[start:end])
        if text:
            sections.append(Section(anchor=anchor, text=text))
    return tuple(sections)


def highlight_python(source: str) -> str:
    """A highlighted block of Python, for starters shown on lesson pages."""
    return render_markdown(f"```python\n{source}\n```")[0]


def style_css(style: str) -> str:
    """One Pygments style, with code blocks on the style's own background (the colours were checked against it)."""
    formatter = HtmlFormatter(style=style)
    background = formatter.style.background_color
    return f"{formatter.get_style_defs(f'.{CODE_CSS_CLASS}')}\n.{CODE_CSS_CLASS} pre {{ background: {background}; }}"


@cache
def pygments_css() -> str:
    """Light styles by default, dark ones under prefers-color-scheme: dark."""
    return f"{style_css(LIGHT_STYLE)}\n@media (prefers-color-scheme: dark) {{\n{style_css(DARK_STYLE)}\n}}\n"
