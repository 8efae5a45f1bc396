"""The package rules of docs/architecture.md, read from the source: who may import whom, and no import cycles.

Every ``import`` and ``from ... import`` of our own modules counts, at module level or inside a function
(a lazy import is still a dependency), except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = ("fashion_desktop", "training")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for top in OURS for p in (REPO / top).rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Our modules that ``path`` imports (``from pkg import mod`` counts as ``pkg.mod`` when that is one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):  # `if TYPE_CHECKING:` blocks are for the type checker only
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # a name inside a module: the module itself
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tops = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            tops.add(node.module.split(".")[0])
    return tops


# (importer prefix, what it must never import): docs/architecture.md's package rules.
RULES = [
    ("fashion_desktop.core", ("fashion_desktop.ui", "fashion_desktop.web", "fashion_desktop.cli", "training")),
    ("fashion_desktop.ui", ("training", "fashion_desktop.web", "fashion_desktop.cli")),
    ("fashion_desktop.cli", ("fashion_desktop.ui", "fashion_desktop.web", "training")),
    ("fashion_desktop.web", ("fashion_desktop.ui", "fashion_desktop.cli", "training")),
    ("training", ("fashion_desktop.ui", "fashion_desktop.web", "fashion_desktop.cli")),
]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_each_package_imports_only_what_its_rules_allow(graph):
    broken = [
        f"{importer} imports {target}"
        for importer, targets in graph.items()
        for prefix, forbidden in RULES
        if _under(importer, prefix)
        for target in targets
        if any(_under(target, f) for f in forbidden)
    ]
    assert not broken, "\n".join(broken)


def test_core_and_training_never_import_qt():
    offenders = [
        name
        for name, path in _modules().items()
        if (_under(name, "fashion_desktop.core") or _under(name, "training")) and "PySide6" in _third_party(path)
    ]
    assert not offenders


def test_there_is_no_import_cycle(graph):
    """Depth-first search for a back edge; the message names the cycle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_the_rules_see_real_imports(graph):
    """The graph is not empty by mistake: known edges are found, lazy ones included."""
    assert "fashion_desktop.core.images" in graph["fashion_desktop.core.analysis"]
    assert "fashion_desktop.ui.display" in graph["fashion_desktop.ui.worker"]  # imported inside a function
    assert "fashion_desktop.core.prepare" in graph["training.photos"]
