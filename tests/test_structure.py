"""The package's imports run one way: no two kg modules import each other, directly or round a
circle, not even lazily inside a function (docs/architecture.md, "Keeping the structure")."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kg"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> nx.DiGraph:
    """kg module -> the kg modules it imports (at the top or inside functions)."""
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                # `from . import console` imports the module kg.cli.console; `from .console import
                # out` imports from kg.cli.console: either way the module, found by its longest name
                targets = [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                found = known(target) if target.startswith("kg") else None
                # a module's parent packages are loaded before it in any case: not an import of it
                if found and found != name and not name.startswith(found + "."):
                    graph.add_edge(name, found)
    return graph


def test_the_import_graph_is_read():
    graph = import_graph()
    assert graph.has_edge("kg.cli.graph", "kg.cli.console")
    assert graph.has_edge("kg.pipeline", "kg.build")
    assert graph.number_of_edges() > 200


def test_no_module_imports_back_round_a_circle():
    graph = import_graph()
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == [], f"modules that import each other: {circles}"


def test_the_ground_imports_nothing_of_kg_above_it():
    graph = import_graph()
    ground = {"kg.errors", "kg.paths", "kg.fileio", "kg.vocab", "kg.sparql.text"}
    for module in ground:
        above = sorted(t for t in graph.successors(module) if t not in ground and t != "kg")
        assert above == [], f"{module} imports {above}"


def _in_cli_or_app(module: str) -> bool:
    """kg.cli and kg.app and their modules (kg.app_timing is no part of the app: it starts it as a process)."""
    return any(module == top or module.startswith(top + ".") for top in ("kg.cli", "kg.app"))


def test_the_library_never_imports_the_command_line_or_the_app():
    graph = import_graph()
    for module in graph:
        if _in_cli_or_app(module) or module in ("kg", "kg.__main__"):
            continue
        users = sorted(t for t in graph.successors(module) if _in_cli_or_app(t))
        assert users == [], f"{module} imports {users}"
