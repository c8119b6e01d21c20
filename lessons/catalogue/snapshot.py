"""Loaded content kept on disk per content version, so each process start does not re-render every page and question.

Rendering content/ (YAML, Markdown, Pygments) costs seconds of CPU; every Daphne, worker and `manage.py` command
needs the result. A snapshot is stored under CONTENT_CACHE_DIR, named by a hash of every content file and of the code
and library versions that render it, so any change to either makes a new one. Only content that loaded without errors
is stored: broken content is re-read, and its errors reported, every time. The directory is this process's own
(written atomically); an unwritable or missing one only costs the time it would have saved.
"""

from __future__ import annotations

import copyreg
import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from django.conf import settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# The libraries whose output is stored; a new version of any of them renders differently.
RENDERING_PACKAGES = ("markdown", "pygments", "pyyaml")
# Versions kept per snapshot name: a rolling upgrade runs two at once; older ones are deleted when a new one is stored.
SNAPSHOTS_KEPT = 4


def frozen(mapping: dict) -> MappingProxyType:
    """Rebuilds a read-only mapping when a snapshot is read."""
    return MappingProxyType(mapping)


# Loaded content is frozen with MappingProxyType, which pickle cannot store by itself.
copyreg.pickle(MappingProxyType, lambda proxy: (frozen, (dict(proxy),)))


def version_key(content_dir: Path, code_files: Iterable[Path]) -> str:
    """A hash of every file under content_dir (names and bytes), of the code that loads it and of the renderers."""
    digest = hashlib.sha256()
    for path in sorted(p for p in content_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(content_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(code_files):
        digest.update(path.read_bytes())
    for package in RENDERING_PACKAGES:
        digest.update(f"{package}={version(package)}\0".encode())
    return digest.hexdigest()[:32]


def load_or_build(name: str, key: str, build: Callable[[], T]) -> T:
    """The snapshot `name` for `key` if one is stored; otherwise build it (errors propagate) and store it."""
    folder = Path(settings.CONTENT_CACHE_DIR)
    path = folder / f"{name}-{key}.pickle"
    try:
        with path.open("rb") as stored:
            value: T = pickle.load(stored)  # written only by store(), in a folder only the site writes
        return value
    except FileNotFoundError:
        pass
    except Exception:  # a damaged snapshot is rebuilt, never fatal
        log.warning("content snapshot %s could not be read; rebuilding it", path, exc_info=True)
    value = build()
    store(folder, path, value)
    return value


def store(folder: Path, path: Path, value: object) -> None:
    """Write the snapshot atomically and drop the oldest of the same name; failing only costs the next start time."""
    temporary: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tmp-", delete=False) as handle:
            temporary = Path(handle.name)
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        temporary = None
        name = path.name.rsplit("-", 1)[0]
        by_age = sorted(folder.glob(f"{name}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in by_age[SNAPSHOTS_KEPT:]:
            old.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - an unwritable cache must not stop the site
        log.info("content snapshot %s not stored: %s", path, exc)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
