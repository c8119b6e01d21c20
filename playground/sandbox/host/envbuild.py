"""Builds the read-only package directory the sandbox imports Channels from: `python -m playground.sandbox.host.envbuild [DEST]`."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .options import DEFAULT_ENV_DIR, PROJECT_ROOT

STAMP_NAME = ".channels-academy-env.json"
SANDBOX_PYTHON = "/usr/bin/python3"
# Pinned in requirements.txt; the sandbox must run exactly what the server runs.
PINNED_FROM_REQUIREMENTS = ("Django", "channels")
# Django's and Channels' own dependencies: pinned to what this environment has installed.
DEPENDENCIES = {"asgiref": "3.13.0", "sqlparse": "0.6.1"}
# Import names that must be present for the sandbox to work at all.
REQUIRED_PACKAGES = ("django", "channels", "asgiref", "sqlparse")


def requirement_pins(requirements: Path = PROJECT_ROOT / "requirements.txt") -> list[str]:
    """`name==version` for every package the sandbox needs, read from requirements.txt and the installed set."""
    text = requirements.read_text(encoding="utf-8") if requirements.exists() else ""
    pins: list[str] = []
    for name in PINNED_FROM_REQUIREMENTS:
        match = re.search(rf"^\s*{re.escape(name)}\s*==\s*([\w.\-+]+)", text, re.IGNORECASE | re.MULTILINE)
        if not match:
            raise SystemExit(f"{requirements}: no `{name}==<version>` pin; the sandbox env needs one")
        pins.append(f"{name}=={match.group(1)}")
    for name, fallback in DEPENDENCIES.items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = fallback
        pins.append(f"{name}=={version}")
    return pins


def stamp_for(pins: list[str]) -> dict[str, object]:
    """What the stamp file records: the pins and the interpreter series they were compiled for."""
    return {"pins": sorted(pins), "python": "3.11"}


def env_problem(dest: Path = DEFAULT_ENV_DIR) -> str | None:
    """Why `dest` cannot serve as the sandbox env (None when it can)."""
    stamp = Path(dest) / STAMP_NAME
    if not stamp.is_file():
        return f"sandbox package env {dest} is missing: run `python -m playground.sandbox.host.envbuild`"
    missing = [name for name in REQUIRED_PACKAGES if not (Path(dest) / name / "__init__.py").is_file()]
    if missing:
        return f"sandbox package env {dest} lacks {', '.join(missing)}: rebuild it with envbuild --force"
    return None


def is_current(dest: Path, pins: list[str]) -> bool:
    """True when `dest` was built from exactly these pins."""
    try:
        recorded = json.loads((Path(dest) / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded == stamp_for(pins) and env_problem(dest) is None


def make_world_readable(root: Path) -> None:
    """a+rX, no group/other write: the sandbox uid reads the env through a bind mount, whatever the parents' modes."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            os.chmod(path, 0o755 if mode & 0o111 else 0o644)
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]


def build(dest: Path = DEFAULT_ENV_DIR, *, force: bool = False, quiet: bool = True) -> bool:
    """Install the pinned packages into `dest` unless already current; returns True when it built."""
    dest = Path(dest).resolve()
    pins = requirement_pins()
    if not force and is_current(dest, pins):
        return False
    staging = dest.with_name(f"{dest.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary=:all:", "--no-compile"]
    pip += ["--disable-pip-version-check", "--target", str(staging), *pins]
    if quiet:
        pip.append("--quiet")
    subprocess.run(pip, check=True)
    shutil.rmtree(staging / "bin", ignore_errors=True)
    # Compile with the sandbox's own interpreter so its bytecode cache is valid and no start compiles sources.
    python = SANDBOX_PYTHON if Path(SANDBOX_PYTHON).exists() else sys.executable
    subprocess.run([python, "-I", "-S", "-m", "compileall", "-q", "-j", "0", str(staging)], check=True)
    (staging / STAMP_NAME).write_text(json.dumps(stamp_for(pins)), encoding="utf-8")
    make_world_readable(staging)
    old = dest.with_name(f"{dest.name}.old-{os.getpid()}")
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return True


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", nargs="?", default=str(DEFAULT_ENV_DIR), help="target directory (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamp matches")
    args = parser.parse_args(argv)
    built = build(Path(args.dest), force=args.force, quiet=True)
    print(f"{'built' if built else 'up to date'}: {Path(args.dest).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
