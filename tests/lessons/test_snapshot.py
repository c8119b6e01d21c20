"""Content snapshots: a process start reads rendered content from disk, never stale, never broken content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from lessons.catalogue import CatalogueError, get_catalogue, load_catalogue, snapshot
from quizzes.bank import get_bank, load_bank

CODE = list(Path(snapshot.__file__).parent.glob("*.py"))


@pytest.fixture(scope="module")
def fresh():
    """The catalogue and bank loaded from the content files (no snapshot), once for the module: each load takes
    seconds."""
    catalogue = load_catalogue(Path(settings.CONTENT_DIR))
    return catalogue, load_bank(Path(settings.CONTENT_DIR), catalogue)


@pytest.fixture
def cache_dir(settings, tmp_path):
    settings.CONTENT_CACHE_DIR = tmp_path / "content-cache"
    get_catalogue.cache_clear()
    get_bank.cache_clear()
    yield settings.CONTENT_CACHE_DIR
    get_catalogue.cache_clear()
    get_bank.cache_clear()


def test_a_stored_snapshot_equals_a_fresh_load(cache_dir, fresh):
    built = get_catalogue(), get_bank()
    assert sorted(p.name.split("-")[0] for p in cache_dir.glob("*.pickle")) == ["bank", "catalogue"]
    get_catalogue.cache_clear()
    get_bank.cache_clear()
    read = get_catalogue(), get_bank()
    assert read[0] is not built[0]  # it came from disk this time
    assert read == built
    assert read == fresh


def test_any_change_to_content_or_code_makes_a_new_key(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(settings.CONTENT_DIR, content)
    key = snapshot.version_key(content, CODE)
    assert snapshot.version_key(content, CODE) == key
    page = next(content.glob("topics/*/*.md"))
    page.write_text(page.read_text() + "\nOne more sentence.\n")
    changed = snapshot.version_key(content, CODE)
    assert changed != key
    code = tmp_path / "loader.py"
    code.write_text("# another version of the code\n")
    assert snapshot.version_key(content, [*CODE, code]) != changed


def test_broken_content_is_never_stored_and_fails_every_time(cache_dir, tmp_path, settings):
    content = tmp_path / "content"
    shutil.copytree(settings.CONTENT_DIR, content)
    first, *others = sorted((content / "topics").iterdir())
    for other in others:  # one topic is enough to be broken, and loads in a tenth of the time
        shutil.rmtree(other)
    topic = first / "topic.yaml"
    topic.write_text(topic.read_text().replace("minutes:", "minutes: nope\nignored:", 1))
    settings.CONTENT_DIR = content
    for _ in range(2):
        get_catalogue.cache_clear()
        with pytest.raises(CatalogueError, match="minutes"):
            get_catalogue()
    assert not list(cache_dir.glob("*.pickle"))


def test_a_damaged_snapshot_is_rebuilt(cache_dir, fresh):
    key = snapshot.version_key(Path(settings.CONTENT_DIR), CODE)
    stored = cache_dir / f"catalogue-{key}.pickle"
    snapshot.store(cache_dir, stored, fresh[0])
    good = fresh[0]
    stored.write_bytes(b"not a pickle")
    get_catalogue.cache_clear()
    assert get_catalogue() == good
    assert stored.read_bytes() != b"not a pickle"


def test_an_unwritable_cache_folder_only_costs_time(settings, tmp_path, fresh):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.CONTENT_CACHE_DIR = blocker / "content-cache"  # a folder under a file cannot be made
    get_catalogue.cache_clear()
    try:
        assert get_catalogue() == fresh[0]
    finally:
        get_catalogue.cache_clear()


def test_only_the_newest_snapshots_are_kept(tmp_path):
    for n in range(snapshot.SNAPSHOTS_KEPT + 3):
        snapshot.store(tmp_path, tmp_path / f"thing-{n:032d}.pickle", n)
    kept = sorted(tmp_path.glob("thing-*.pickle"))
    assert len(kept) == snapshot.SNAPSHOTS_KEPT
    assert not list(tmp_path.glob(".tmp-*"))
