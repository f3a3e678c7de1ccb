"""The layers hold: imports go one way, statistics stay below the UI, SQL stays in warehouse/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
PACKAGES = ("warehouse", "models", "flows", "dashboard")
# What each package may import of the others (sources → flows → warehouse → models →
# dashboard; flows orchestrate the warehouse and the models).
ALLOWED = {
    "warehouse": {"warehouse"},
    "models": {"models", "warehouse"},
    "dashboard": {"dashboard", "models", "warehouse"},
    "flows": {"flows", "models", "warehouse"},
}
# The command line is where the product is put together: it may start the dashboard.
COMPOSITION_ROOTS = {"flows.cli"}
STATISTICS = {"scipy", "statsmodels", "sklearn", "ruptures"}
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|CREATE\s+(TABLE|SCHEMA|VIEW)|DELETE\s+FROM|"
                 r"DROP\s+TABLE|UPDATE\s+\w+\s+SET)\b", re.S)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, name: str) -> set[str]:
    """Every module `path` imports (absolute names; relative imports resolved)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: -node.level] if path.name != "__init__.py" \
                    else name.split(".")[: len(name.split(".")) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = modules()


def internal_imports(name: str) -> set[str]:
    return {m for m in imports_of(MODULES[name], name) if m in MODULES and m != name}


def test_no_package_imports_a_layer_above_it():
    wrong = []
    for name in MODULES:
        if name in COMPOSITION_ROOTS:
            continue
        top = name.split(".")[0]
        for target in internal_imports(name):
            if target.split(".")[0] not in ALLOWED[top]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_import_graph_has_no_loops():
    graph = {name: internal_imports(name) for name in MODULES}
    # a package's __init__ importing its own submodules is how a package is made, not a loop
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not (MODULES[name].name == "__init__.py"
                                                   and t.startswith(name + "."))}
    state: dict[str, int] = {}
    loops = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                loops.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not loops, "\n".join(loops)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("dashboard")))
def test_the_dashboard_holds_no_statistics(name):
    used = {m.split(".")[0] for m in imports_of(MODULES[name], name)}
    assert not used & STATISTICS, f"{name} imports {used & STATISTICS}: put it in models/"


def sql_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and SQL.search(node.value)]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("warehouse")))
def test_sql_is_written_only_in_the_warehouse_package(name):
    found = sql_strings(MODULES[name])
    assert not found, f"{name} holds SQL: {found[0][:120]!r}"
