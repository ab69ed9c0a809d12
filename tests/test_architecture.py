"""The code's shape, checked from its source: no import cycle between modules, nor between the
sub-packages of any package (imports inside functions and under TYPE_CHECKING included, since a
deferred import is still a dependency), and no module longer than a reader can hold.

The direction this keeps, among others: `notecards.models` (the model stage) above
`notecards.infer` above `notecards.sim`; render rules never reaching back into the pipeline.
See docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import notecards

PACKAGE = Path(notecards.__file__).parent
MAX_LINES = 450


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of notecards (a package by its __init__.py)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The notecards modules `name` imports anywhere in its file: `from a.b import c` is a.b.c when
    that is a module, else a.b."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_no_import_cycle_between_the_sub_packages_of_any_package():
    graph = import_graph()
    packages = [name for name, path in modules().items() if path.name == "__init__.py"]
    found = {}
    for package in packages:
        depth = package.count(".") + 1

        def child(module: str) -> str | None:
            inside = module.startswith(package + ".")
            return ".".join(module.split(".")[: depth + 1]) if inside else None

        children: dict[str, set[str]] = {}
        for module, targets in graph.items():
            a = child(module)
            if a is None:
                continue
            children.setdefault(a, set()).update(b for b in map(child, targets) if b is not None and b != a)
        if cycles(children):
            found[package] = cycles(children)
    assert found == {}


def test_no_module_is_longer_than_the_limit():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_the_walk_sees_deferred_imports_and_knows_a_cycle():
    """The checks above cannot pass by seeing nothing: the pipeline's deferred import of the model
    stage is an edge, and a two-module loop is reported."""
    graph = import_graph()
    assert "notecards.models.run" in graph["notecards.pipeline"]
    assert "notecards.sim.lang" in graph["notecards.models.find"]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
