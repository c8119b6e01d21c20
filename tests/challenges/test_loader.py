"""Challenge content is validated at load: every problem is named by file, line and field, and fails `manage.py check`."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from challenges.checks import check_challenges
from challenges.loader import get_challenges, load_challenges
from lessons.catalogue import CatalogueError, get_catalogue

REAL = Path(settings.CONTENT_DIR) / "challenges" / "01-shout-echo"


def copy_challenge(tmp_path: Path, name: str = "01-shout-echo") -> Path:
    folder = tmp_path / "content" / "challenges" / name
    shutil.copytree(REAL, folder)
    return folder


def errors_for(tmp_path: Path) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_challenges(tmp_path / "content", get_catalogue())
    return [str(error) for error in caught.value.errors]


def test_real_challenges_load_with_their_parts():
    challenge = get_challenges().get("shout-echo")
    assert challenge.topic == "consumer-lifecycle" and challenge.difficulty == "easy"
    assert challenge.visible_tests and challenge.hidden_tests and len(challenge.known_wrong) >= 2
    assert "<h1" in challenge.brief_html and "class ShoutConsumer" in challenge.starter


def test_a_copy_of_a_good_challenge_loads(tmp_path):
    copy_challenge(tmp_path)
    assert [c.slug for c in load_challenges(tmp_path / "content", get_catalogue()).challenges] == ["shout-echo"]


def test_metadata_errors_name_file_line_and_field(tmp_path):
    folder = copy_challenge(tmp_path)
    text = (folder / "challenge.yaml").read_text()
    text = text.replace("topic: consumer-lifecycle", "topic: no-such-topic").replace(
        "difficulty: easy", "difficulty: 3"
    )
    (folder / "challenge.yaml").write_text(text + "colour: red\n")
    found = errors_for(tmp_path)
    assert (
        "content/challenges/01-shout-echo/challenge.yaml:2: topic: no topic has the slug 'no-such-topic' (see content/topics/)"
        in found
    )
    assert any(
        e.startswith("content/challenges/01-shout-echo/challenge.yaml:3: difficulty: must be a str") for e in found
    )
    assert any(":" in e and "colour: unknown key" in e for e in found)


def test_missing_files_and_unlisted_wrong_solutions_are_errors(tmp_path):
    folder = copy_challenge(tmp_path)
    (folder / "solution.py").unlink()
    (folder / "wrong" / "extra.py").write_text("x = 1\n")
    found = errors_for(tmp_path)
    assert "content/challenges/01-shout-echo/solution.py: is required" in found


def test_known_wrong_rules(tmp_path):
    folder = copy_challenge(tmp_path)
    (folder / "wrong" / "extra.py").write_text("x = 1\n")
    text = (folder / "challenge.yaml").read_text().replace("fails: shouts a word back", "fails: no such test")
    (folder / "challenge.yaml").write_text(text)
    found = " | ".join(errors_for(tmp_path))
    assert "known_wrong[0].fails: names no test of this challenge: 'no such test'" in found
    assert "wrong/extra.py exists but is not listed" in found


def test_script_errors_name_the_test_file_and_line(tmp_path):
    folder = copy_challenge(tmp_path)
    (folder / "tests.yaml").write_text(
        textwrap.dedent(
            """\
            tests:
              - name: broken
                steps:
                  - connect: ann
                    path: no-slash
                  - receive: ann
                    regex: "(unclosed"
                  - send: bob
                    text: hi
                  - silent: ann
                    seconds: 60
                  - accepted: ann
                    within: 0
                  - receive: ann
                    text: a
                    json: {}
                  - shout: ann
            """
        )
    )
    found = errors_for(tmp_path)
    shown = "content/challenges/01-shout-echo/tests.yaml"
    assert (
        f"{shown}:4: tests[0] (broken).steps[0]: path must be a string starting with '/' of at most 2048 characters"
        in found
    )
    assert any(e.startswith(f"{shown}:6: ") and "regex does not compile" in e for e in found)
    assert any(e.startswith(f"{shown}:10: ") and "bounded wait" in e for e in found)
    assert any(e.startswith(f"{shown}:12: ") and "within must be" in e for e in found)
    assert any(e.startswith(f"{shown}:14: ") and "exactly one of text, json, regex, bytes" in e for e in found)
    assert any(e.startswith(f"{shown}:17: ") and "names exactly one of" in e for e in found)


def test_a_client_must_connect_before_it_is_used(tmp_path):
    folder = copy_challenge(tmp_path)
    (folder / "hidden.yaml").write_text(
        "tests:\n  - name: early\n    steps:\n      - send: bob\n        text: hi\n      - accepted: bob\n"
    )
    found = errors_for(tmp_path)
    assert any("hidden.yaml:4: " in e and "send bob before connect bob" in e for e in found)


def test_duplicate_test_names_are_errors(tmp_path):
    folder = copy_challenge(tmp_path)
    (folder / "hidden.yaml").write_text((folder / "tests.yaml").read_text())
    assert any("two tests are named 'accepts the connection'" in e for e in errors_for(tmp_path))


def test_python_that_does_not_compile_is_named_with_its_line(tmp_path):
    folder = copy_challenge(tmp_path)
    (folder / "solution.py").write_text("x = 1\ndef broken(:\n")
    assert "content/challenges/01-shout-echo/solution.py:2: does not compile: invalid syntax" in errors_for(tmp_path)


def test_broken_challenge_fails_the_system_check(tmp_path, settings):
    shutil.copytree(settings.CONTENT_DIR, tmp_path / "content", ignore=shutil.ignore_patterns("challenges"))
    folder = copy_challenge(tmp_path)
    (folder / "challenge.yaml").write_text(
        (folder / "challenge.yaml").read_text().replace("difficulty: easy", "difficulty: extreme")
    )
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_CACHE_DIR = tmp_path / "cache"
    get_catalogue.cache_clear()
    try:
        messages = check_challenges()
    finally:
        get_catalogue.cache_clear()
        get_challenges.cache_clear()
    assert [m.id for m in messages] == ["challenges.E001"]
    assert "01-shout-echo/challenge.yaml:3: difficulty: must be one of easy, medium, hard" in messages[0].msg


def test_real_content_passes_the_system_check():
    assert check_challenges() == []


def test_challenges_are_read_from_the_content_snapshot(tmp_path, settings, monkeypatch):
    settings.CONTENT_CACHE_DIR = tmp_path / "cache"
    get_challenges.cache_clear()
    try:
        built = get_challenges()
        assert len(list((tmp_path / "cache").glob("challenges-*.pickle"))) == 1
        get_challenges.cache_clear()

        def must_not_build(*args):
            raise AssertionError("rebuilt although the snapshot was stored")

        monkeypatch.setattr("challenges.loader.load_challenges", must_not_build)
        assert get_challenges() == built
    finally:
        get_challenges.cache_clear()
