"""Dependencies point one way: the sandboxed code (`inside/`, `shared/`) never imports the host side or the project."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from playground.sandbox.host.options import PROJECT_ROOT

SANDBOX = PROJECT_ROOT / "playground" / "sandbox"
# What each sandboxed package may import from the project (the standard library, Django and Channels are free).
ALLOWED = {
    "inside": ("playground.sandbox.inside", "playground.sandbox.shared"),
    "shared": ("playground.sandbox.shared",),
}
PROJECT_PACKAGES = sorted(p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py"))


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, a module of `package`; `from X import a` names X.a."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def forbidden_imports(source: str, package: str, allowed: tuple[str, ...]) -> list[str]:
    """Imports of project code outside `allowed` (e.g. `playground.sandbox.host`, `lessons`, `playground.models`)."""
    return [
        f"line {line}: {name}"
        for line, name in imported_modules(source, package)
        if name.split(".")[0] in PROJECT_PACKAGES and not any(name.startswith(f"{a}.") for a in allowed)
    ]


@pytest.mark.parametrize(
    "path",
    sorted(p for name in ALLOWED for p in (SANDBOX / name).glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_sandboxed_modules_import_nothing_from_the_host_side_or_the_project(path: Path):
    name = path.parent.name
    assert not forbidden_imports(path.read_text(), f"playground.sandbox.{name}", ALLOWED[name])


def test_the_import_check_catches_host_and_project_imports():
    source = "from ..host import policy\nfrom .. import protocol\nimport lessons.models\nfrom playground import runs\n"
    found = forbidden_imports(source, "playground.sandbox.inside", ALLOWED["inside"])
    assert found == [
        "line 1: playground.sandbox.host.policy",
        "line 2: playground.sandbox.protocol",
        "line 3: lessons.models",
        "line 4: playground.runs",
    ]
    fine = "from . import tracing\nfrom ..shared import protocol\nimport json\nfrom channels.layers import get_channel_layer\n"
    assert forbidden_imports(fine, "playground.sandbox.inside", ALLOWED["inside"]) == []
