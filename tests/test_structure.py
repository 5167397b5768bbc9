"""The package's shape: modules import one way (no circle, lazy imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "labelgrow"


def module_name(path: Path) -> str:
    """``labelgrow/cli/extend.py`` -> ``cli.extend``; a package's ``__init__.py`` is the package itself."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """``{module: labelgrow modules it imports anywhere in its source}`` (the package root left out: it only
    re-exports lazily)."""
    modules = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if p.parent.name != "__pycache__"}
    modules.pop("", None)
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for imported in names:
                parts = imported.split(".")
                if parts[0] != "labelgrow":
                    continue
                # the longest known module the name starts with (``labelgrow.cli.app.app`` -> ``cli.app``)
                for end in range(len(parts), 1, -1):
                    if ".".join(parts[1:end]) in modules:
                        found.add(".".join(parts[1:end]))
                        break
        graph[name] = found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, set())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt] if nxt in path else [*path, nxt]
            if state.get(nxt) is None:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if state.get(start) is None:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_no_import_circle_in_the_package():
    graph = import_graph()
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_each_command_is_a_module_of_the_cli_package():
    graph = import_graph()
    assert {"cli.extend", "cli.evaluate", "cli.predict", "cli.diff", "cli.options", "cli.app"} <= set(graph)
    outside = {name: deps for name, deps in graph.items() if not name.startswith("cli")}
    assert not {name for name, deps in outside.items() if any(d.startswith("cli") for d in deps)}, (
        "only the command line imports the command line"
    )


def test_metrics_sit_below_the_commands():
    graph = import_graph()
    assert graph["metrics"] <= {"configuration", "data", "labels", "errors"}
    assert "evaluation" not in graph["report"] and "evaluation" not in graph["trainer"]
