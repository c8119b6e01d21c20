"""Import architecture: the project's modules form no import cycle, and each app imports only its own layer or below.

Imports are read with `ast` from every .py file of the project's own packages (tests/, bench/ and migrations
excluded), including imports inside functions: a late import hides a dependency from start-up, not from the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_PROJECT_CODE = {"tests", "bench", "content", "scripts", "deploy", "static", "templates", "data"}

# The declared layering, bottom to top. A module may import modules of its own layer or of a layer below it.
# Why this order:
# - config's foundations (settings, checks, the fault-tolerant channel-layer helpers) serve every app and import none.
# - accounts: users and the instructor role; everything else may ask who is an instructor.
# - activity: the announcement signals; the learning apps announce what a learner did without knowing who listens.
# - cohorts: who learns and who teaches in which cohort; the playground's permission checks need it, so it sits
#   below the playground, not inside the dashboards.
# - playground: runs learner code; lessons record their traces and quizzes verify their answers with it.
# - lessons: the content catalogue and learner progress; quizzes take their topics from it.
# - quizzes: attempts and grading on top of the lesson catalogue.
# - challenges: consumer challenges graded in the sandbox; their content sits beside the catalogue's topics.
# - predictions: predict-the-next-step questions over lesson traces and runs, scored like quiz answers.
# - dashboards: report on everything below (and subscribe to activity); nothing imports them.
# - the site's wiring (URLs, ASGI routing, pages that combine several apps) sits on top of all apps.
LAYERS: list[tuple[str, ...]] = [
    ("config",),
    ("accounts",),
    ("activity",),
    ("cohorts",),
    ("playground",),
    ("lessons",),
    ("quizzes",),
    ("challenges",),
    ("predictions",),
    ("dashboards",),
    ("config.asgi", "config.routing", "config.urls", "config.views", "config.outline", "config.health"),
]


def project_packages() -> list[str]:
    return sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_PROJECT_CODE and not path.parent.name.startswith(".")
    )


def module_files() -> dict[str, Path]:
    """Every module of the project's own packages by dotted name (a package by its own name)."""
    modules = {}
    for package in project_packages():
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Dotted names this module imports anywhere in its body; `from a import b` gives a.b (a submodule or not)."""
    names = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (the longest project module each imported name falls in)."""
    modules = module_files()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer_of(module: str) -> int | None:
    """The layer of the longest declared prefix the module falls under."""
    best, best_length = None, -1
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = level, len(prefix)
    return best


def test_the_graph_sees_imports_inside_functions():
    """The checks below would be blind without this: a late import in config.views must show up as an edge."""
    graph = import_graph()
    assert "lessons.learner_progress" in graph["config.views"]
    assert "playground.run.limits" in graph["playground.live"]


def test_no_import_cycles_between_project_modules():
    assert cycles(import_graph()) == []


def test_every_project_package_has_a_declared_layer():
    assert [package for package in project_packages() if layer_of(package) is None] == []


def test_no_module_imports_a_layer_above_its_own():
    upward = sorted(
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )
    assert upward == []
