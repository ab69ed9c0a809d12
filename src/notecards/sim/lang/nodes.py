"""What the sim language knows of a node once it is read: its plates and index letters, the
expressions it reads, a constant's value as a `Val`, and the order of a model's nodes; with the
language's limits and defaults."""

from __future__ import annotations

import numpy as np

from notecards.sim.expr import Val
from notecards.sim.model import Expr, Node

MAX_DRAWS = 2_000_000
MAX_PLATE = 100_000
DEFAULT_DRAWS = 10_000
DEFAULT_PLATE = 5
DEFAULT_VALUE = 1.0
OPTIONS = ("n", "draws", "seed")


def node_exprs(node: Node) -> list[Expr]:
    return ([node.expr] if node.expr is not None else []) + list(node.args.values())


def value_of(node: Node) -> Val:
    """A const/data node's value as a `Val` (plate axes named, other axes anonymous)."""
    arr = np.asarray(node.value, dtype=float)
    plates = node.plates
    anonymous = tuple(f"#{k + 1}" for k in range(arr.ndim - len(plates)))
    return Val(arr[None, ...], tuple(plates) + anonymous)


def topological_order(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
    """Nodes with every parent (and plate size) before its child, keeping written order
    where it already works; the second list holds nodes on a cycle."""
    by_name = {n.name: n for n in nodes}
    done: set[str] = set()
    ordered: list[Node] = []
    remaining = list(nodes)
    while remaining:
        ready = next((n for n in remaining
                      if all(p in done or p not in by_name for p in _deps(n))), None)
        if ready is None:
            return ordered, remaining
        ordered.append(ready)
        done.add(ready.name)
        remaining.remove(ready)
    return ordered, []


def _deps(node: Node) -> list[str]:
    return [p for p in [*node.parents, *node.plates] if p != node.name]
