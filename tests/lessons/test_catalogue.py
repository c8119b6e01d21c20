"""The catalogue loads every content file, and each kind of broken content is named by file, line and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils.html import escape

from lessons.catalogue import CatalogueError, load_catalogue

VALID_YAML = """\
title: Alpha topic
summary: A topic for tests.
minutes: 5
prerequisites: []
objectives:
  - Do a thing
modes: [concept, execution, walkthrough, playground, mistakes, snapshot]
execution:
  trace: alpha-trace
playground:
  starter: alpha
"""
EVENT = {
    "step": 1,
    "t": 0.1,
    "client": "c1",
    "kind": "connect",
    "method": "connect",
    "line": 3,
    "action": "a",
    "evaluation": "e",
    "result": "r",
    "state": "connecting",
    "vars": {},
    "groups": [],
}


def write_topic(content: Path, folder: str = "01-alpha", yaml_text: str = VALID_YAML) -> Path:
    topic_dir = content / "topics" / folder
    topic_dir.mkdir(parents=True)
    (topic_dir / "topic.yaml").write_text(yaml_text)
    for mode in ("concept", "execution", "walkthrough", "playground", "mistakes", "snapshot"):
        (topic_dir / f"{mode}.md").write_text(f"## {mode} heading\n\nSome `{mode}` text.\n\n```python\nx = 1\n```\n")
    return topic_dir


@pytest.fixture
def content(tmp_path) -> Path:
    root = tmp_path / "content"
    write_topic(root)
    (root / "traces").mkdir()
    (root / "traces" / "alpha-trace.json").write_text(
        json.dumps({"name": "alpha-trace", "starter": "alpha", "script": [], "events": [EVENT]})
    )
    (root / "starters").mkdir()
    (root / "starters" / "alpha.py").write_text("x = 1\n")
    return root


def errors_of(content: Path) -> list[str]:
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(content)
    return [str(error) for error in excinfo.value.errors]


def test_catalogue_valid_fixture_loads(content):
    catalogue = load_catalogue(content)
    topic = catalogue.get("alpha")
    assert topic.number == 1 and topic.mode_keys[0] == "concept"
    assert '<span class="n">x</span>' in topic.modes["concept"].html  # Pygments highlighted
    assert topic.modes["concept"].headings[0].anchor == "concept-heading"


def test_catalogue_real_content_loads_and_every_mode_renders(client, db):
    catalogue = load_catalogue(Path(settings.CONTENT_DIR))
    assert len(catalogue.topics) >= 3
    for topic in catalogue.topics:
        assert len(topic.modes) >= 6
        for mode in topic.mode_keys:
            response = client.get(f"/lessons/{topic.slug}/{mode}/")
            assert response.status_code == 200, (topic.slug, mode)
            assert escape(topic.modes[mode].label) in response.text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda y: y.replace("minutes: 5", "minutes: five"), "topics/01-alpha/topic.yaml:3: minutes: must be a int"),
        (
            lambda y: y.replace("minutes: 5", "minutes: 0"),
            "topics/01-alpha/topic.yaml:3: minutes: must be a positive whole number",
        ),
        (lambda y: y + "colour: blue\n", "topics/01-alpha/topic.yaml:12: colour: unknown key"),
        (lambda y: y.replace("title: Alpha topic\n", ""), "topics/01-alpha/topic.yaml:1: title: is required"),
        (
            lambda y: y.replace("prerequisites: []", "prerequisites: [nowhere]"),
            "topics/01-alpha/topic.yaml: prerequisites: unknown topic 'nowhere'",
        ),
        (
            lambda y: y.replace("concept, execution", "concept, teleport, execution"),
            "topics/01-alpha/topic.yaml:7: modes: unknown mode 'teleport'",
        ),
        (
            lambda y: y.replace(", snapshot]", "]"),
            "topics/01-alpha/topic.yaml:7: modes: a topic offers at least 6 learning modes",
        ),
        (
            lambda y: y.replace("alpha-trace", "missing-trace"),
            "topics/01-alpha/topic.yaml:9: execution.trace: refers to content/traces/missing-trace.json, which does not exist",
        ),
        (
            lambda y: y.replace("starter: alpha", "starter: ghost"),
            "topics/01-alpha/topic.yaml:11: playground.starter: refers to content/starters/ghost.py, which does not exist",
        ),
        (
            lambda y: y.replace("summary: A topic for tests.", "summary: [unclosed"),
            "topics/01-alpha/topic.yaml:3: invalid YAML",
        ),
        (
            lambda y: y.replace("minutes: 5", "minutes: 5\nminutes: 6"),
            "topics/01-alpha/topic.yaml:4: invalid YAML: duplicate key 'minutes'",
        ),
    ],
)
def test_catalogue_error_names_file_line_and_field(content, change, expected):
    yaml_path = content / "topics" / "01-alpha" / "topic.yaml"
    yaml_path.write_text(change(VALID_YAML))
    assert any(expected in message for message in errors_of(content)), errors_of(content)


def test_catalogue_mode_file_missing_is_named(content):
    (content / "topics" / "01-alpha" / "mistakes.md").unlink()
    assert (
        "content/topics/01-alpha/topic.yaml:7: modes: mode 'mistakes' has no file content/topics/01-alpha/mistakes.md"
        in errors_of(content)
    )


def test_catalogue_unlisted_mode_file_is_named(content):
    (content / "topics" / "01-alpha" / "qa.md").write_text("## Q\n")
    assert any("qa.md exists but 'qa' is not listed in modes" in e for e in errors_of(content))


def test_catalogue_duplicate_slug_is_named(content):
    shutil.copytree(content / "topics" / "01-alpha", content / "topics" / "02-alpha")
    assert any("content/topics/02-alpha/topic.yaml: duplicate topic slug 'alpha'" in e for e in errors_of(content))


def test_catalogue_prerequisite_cycle_is_named(content):
    write_topic(content, "02-beta", VALID_YAML.replace("prerequisites: []", "prerequisites: [alpha]"))
    yaml_path = content / "topics" / "01-alpha" / "topic.yaml"
    yaml_path.write_text(VALID_YAML.replace("prerequisites: []", "prerequisites: [beta]"))
    assert any("prerequisites: cycle: alpha -> beta -> alpha" in e for e in errors_of(content))


def test_catalogue_bad_folder_name_is_named(content):
    (content / "topics" / "01-alpha").rename(content / "topics" / "Alpha")
    assert any("content/topics/Alpha: folder must be named NN-slug" in e for e in errors_of(content))


def test_catalogue_broken_trace_is_named(content):
    trace = content / "traces" / "alpha-trace.json"
    trace.write_text(
        json.dumps({"name": "alpha-trace", "starter": "alpha", "script": [], "events": [{**EVENT, "kind": "teleport"}]})
    )
    assert "content/traces/alpha-trace.json: events[0].kind: unknown kind 'teleport'" in errors_of(content)
    trace.write_text('{"name": "x",\n  "events": [')
    assert any(e.startswith("content/traces/alpha-trace.json:2: invalid JSON") for e in errors_of(content))


def test_catalogue_collects_every_error_at_once(content):
    (content / "topics" / "01-alpha" / "topic.yaml").write_text(
        VALID_YAML.replace("minutes: 5", "minutes: -1").replace("starter: alpha", "starter: ghost")
    )
    messages = errors_of(content)
    assert any("minutes" in m for m in messages) and any("playground.starter" in m for m in messages)


def test_manage_check_fails_on_broken_content(content, settings):
    (content / "topics" / "01-alpha" / "topic.yaml").write_text(VALID_YAML.replace("minutes: 5", "minutes: nope"))
    real_content = settings.CONTENT_DIR
    settings.CONTENT_DIR = content
    with pytest.raises(SystemCheckError, match=r"topic.yaml:3: minutes: must be a int"):
        call_command("check")
    settings.CONTENT_DIR = real_content
    call_command("check")


PERFORMANCE_PAGE = """\
## What it costs

Some text.

## DevTools: Network

### How to check

Open DevTools.

### What to look for

A 101.

## Tips

- Measure.
"""


def with_performance_page(content: Path, text: str) -> Path:
    """The fixture topic offering a performance mode whose page is `text`."""
    topic_dir = content / "topics" / "01-alpha"
    (topic_dir / "topic.yaml").write_text(VALID_YAML.replace("snapshot]", "snapshot, performance]"))
    (topic_dir / "performance.md").write_text(text)
    return topic_dir / "performance.md"


def test_catalogue_performance_page_with_the_devtools_section_loads(content):
    with_performance_page(content, PERFORMANCE_PAGE)
    page = load_catalogue(content).get("alpha").modes["performance"]
    assert [heading.text for heading in page.headings][1:4] == ["DevTools: Network", "How to check", "What to look for"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # no section: named at the page's last line, where it would go
            PERFORMANCE_PAGE.split("## DevTools")[0] + "```markdown\n## DevTools: Network\n```\n",
            "content/topics/01-alpha/performance.md:7: sections: a performance page needs the section "
            "## DevTools: Network (with ### How to check, ### What to look for)",
        ),
        (  # a subsection missing: named at the section's heading
            PERFORMANCE_PAGE.replace("### What to look for", "### Things to see"),
            "content/topics/01-alpha/performance.md:5: sections: the section 'DevTools: Network' lacks "
            "### What to look for",
        ),
        (  # a subsection under the next section does not count
            PERFORMANCE_PAGE.replace("### What to look for\n\nA 101.\n\n## Tips", "## Tips\n\n### What to look for"),
            "content/topics/01-alpha/performance.md:5: sections: the section 'DevTools: Network' lacks "
            "### What to look for",
        ),
        (  # out of order: named at the subsection that should come last
            PERFORMANCE_PAGE.replace("How to check", "SWAP")
            .replace("What to look for", "How to check")
            .replace("SWAP", "What to look for"),
            "content/topics/01-alpha/performance.md:7: sections: the section 'DevTools: Network' must hold "
            "### How to check, then ### What to look for",
        ),
    ],
)
def test_catalogue_refuses_a_performance_page_without_the_devtools_section(content, text, expected):
    with_performance_page(content, text)
    assert expected in errors_of(content), errors_of(content)
