"""Sections a mode page must carry, so a mode of the seeds (seed 000's "DevTools: Network") has a home in every topic."""

from __future__ import annotations

import re

# mode -> (its level-2 heading, the level-3 headings that section holds, in this order)
REQUIRED_SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "performance": ("DevTools: Network", ("How to check", "What to look for")),
}
HEADING = re.compile(r"^(?P<hashes>#{2,3}) (?P<title>.+?)\s*#*\s*$")


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line, level, title) of every level-2 and level-3 heading outside fenced code."""
    found = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.append((number, len(match["hashes"]), match["title"]))
    return found


def problems(mode: str, text: str) -> list[tuple[int, str]]:
    """(line, problem) for each required section or subsection the page lacks or puts out of order."""
    if mode not in REQUIRED_SECTIONS:
        return []
    title, parts = REQUIRED_SECTIONS[mode]
    wanted = f"## {title} (with {', '.join(f'### {part}' for part in parts)})"
    found = headings(text)
    start = next((index for index, (_, level, name) in enumerate(found) if level == 2 and name == title), None)
    if start is None:
        return [(max(len(text.splitlines()), 1), f"a {mode} page needs the section {wanted}")]
    section_line = found[start][0]
    inside = []
    for line, level, name in found[start + 1 :]:
        if level == 2:
            break
        inside.append((line, name))
    names = [name for _, name in inside]
    missing = [part for part in parts if part not in names]
    if missing:
        return [(section_line, f"the section '{title}' lacks ### {', ### '.join(missing)}")]
    positions = [names.index(part) for part in parts]
    if positions != sorted(positions):
        line = inside[positions[-1]][0]
        return [(line, f"the section '{title}' must hold ### {', then ### '.join(parts)}")]
    return []
