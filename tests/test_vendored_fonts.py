"""The code font is the npm package's files, unchanged (static/fonts/jetbrains-mono/README.md says how to check)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts" / "jetbrains-mono"
# @fontsource/jetbrains-mono 5.3.0, tarball integrity checked against the registry's dist.integrity
SHA256 = {
    "LICENSE": "403581b69dac5cff4079205e01c6b467e56af449ecbd7247693ddb1baafa005b",
    "jetbrains-mono-latin-400-normal.woff2": "14425ba9c695763c1547f48a206b7aa60350a33ae23de09f0407877f3fcd89eb",
    "jetbrains-mono-latin-ext-400-normal.woff2": "505dfba8ecbe77e82765f36d317ed7ef4ac42719dc5f4ae68d1c483fd22d0d14",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_vendored_font_file_is_the_packaged_one(name):
    assert hashlib.sha256((FONT_DIR / name).read_bytes()).hexdigest() == SHA256[name], f"{name} is not 5.3.0's"


def test_the_stylesheet_names_only_vendored_files():
    css = (FONT_DIR / "jetbrains-mono.css").read_text(encoding="utf-8")
    named = {part.split('"')[0] for part in css.split('url("')[1:]}
    assert named == {name for name in SHA256 if name.endswith(".woff2")}
