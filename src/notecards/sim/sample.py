"""Ancestral sampling of a `ModelSpec`: every node drawn n times, in dependency order.

Draws are vectorised: one numpy call per node covers all n draws and all plate elements.
A node's draws have shape (n,) or (n, *plate sizes) (plus a category axis for Dirichlet and
Multinomial draws).

Seeding: each node draws from its own stream, derived from the root seed and a hash of the
node's name (`SeedSequence(entropy, spawn_key=(..., stream, hash(name)))`), so adding a node,
a check or a `show` line leaves the other nodes' draws unchanged. A `seed = …` option in the
block overrides the seed the caller passes (derived from the model's content).

Alternatives (a variable defined twice in a card's math) are simulated on independent streams:
the alternative and all its ancestors are drawn afresh, so the two samples compared in
`compare.py` are independent and the two-sample test's assumption holds.

Observed nodes are simulated like any other draw here; inference uses their data.
"""

from __future__ import annotations

import hashlib

import numpy as np

from notecards.sim import distributions
from notecards.sim.checks import evaluate_checks
from notecards.sim.compare import compare_draws, summary_text
from notecards.sim.expr import (BUILTIN_CONSTANTS, MAX_ELEMENTS, EvalError, Evaluator, Val, align,
                                expand)
from notecards.sim.lang import topological_order, value_of
from notecards.sim.model import Comparison, ModelSpec, Node, SimResult
from notecards.types import Diagnostic

EVENT_AXIS = "@event"


def simulate(spec: ModelSpec,
             seed: int | np.random.SeedSequence) -> tuple[SimResult, list[Diagnostic]]:
    """Draw the model, evaluate its checks and compare alternative definitions."""
    root = root_sequence(spec, seed)
    diagnostics: list[Diagnostic] = []
    with np.errstate(all="ignore"):
        values = run_nodes(spec, list(spec.nodes.values()), root, 0, diagnostics)
        checks, check_diagnostics = evaluate_checks(spec, values)
        comparisons = _compare_alternatives(spec, values, root, diagnostics)
    diagnostics += check_diagnostics
    draws = {name: _draws_array(values[name], spec.n) for name, node in spec.nodes.items()
             if node.kind in ("stochastic", "deterministic") and name in values}
    return SimResult(spec=spec, draws=draws, checks=checks, comparisons=comparisons), diagnostics


def root_sequence(spec: ModelSpec, seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if spec.seed is not None:
        return np.random.SeedSequence(spec.seed)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(seed)


def node_rng(root: np.random.SeedSequence, stream: int, name: str) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    return np.random.default_rng(np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, stream, key)))


def run_nodes(spec: ModelSpec, nodes: list[Node], root: np.random.SeedSequence, stream: int,
              diagnostics: list[Diagnostic]) -> dict[str, Val]:
    """Values of `nodes` (in dependency order); a node that fails is reported and skipped,
    and so, silently, are the nodes below it. All random nodes together hold at most
    `MAX_ELEMENTS` values; the budget is checked before an array is allocated."""
    values: dict[str, Val] = {}
    sizes: dict[str, int] = {}
    elements = 0
    for node in nodes:
        if any(p not in values and p not in BUILTIN_CONSTANTS for p in node.parents):
            continue
        try:
            node_sizes = {p: sizes[p] for p in node.plates}
        except KeyError:
            continue
        try:
            val = _node_value(node, values, node_sizes, spec.n, root, stream,
                              MAX_ELEMENTS - spec.n * elements)
        except EvalError as exc:
            diagnostics.append(Diagnostic(spec.path, node.line, "error", f"{node.name}: {exc}"))
            continue
        if node.kind in ("stochastic", "deterministic"):
            elements += int(np.prod(val.array.shape[1:], dtype=np.int64))
            if not np.all(np.isfinite(val.array)):
                diagnostics.append(Diagnostic(
                    spec.path, node.line, "warning",
                    f"{node.name} has draws that are not finite numbers (overflow, log of a "
                    "negative number, or division by zero?)"))
        values[node.name] = val
        if val.array.size == 1:
            sizes[node.name] = int(round(float(val.array.reshape(-1)[0])))
    return values


def _node_value(node: Node, values: dict[str, Val], sizes: dict[str, int], n: int,
                root: np.random.SeedSequence, stream: int, budget: int) -> Val:
    evaluator = Evaluator(values, dict(zip(node.indices, node.plates)), sizes)
    if node.kind in ("const", "data"):
        if node.value is not None:
            return value_of(node)
        return evaluator.eval(node.definition)
    if node.kind == "deterministic":
        val = evaluator.eval(node.definition)
        axes = tuple(node.plates) + tuple(a for a in val.axes if a not in node.plates)
        arr = expand(val, axes)
        shape = (n, *(sizes.get(a, arr.shape[k + 1]) for k, a in enumerate(axes)))
        _within_budget(shape, budget)
        return Val(np.array(np.broadcast_to(arr, shape)), axes)
    return _draw(node, evaluator, sizes, n, node_rng(root, stream, node.name), budget)


def _within_budget(shape: tuple[int, ...], budget: int) -> None:
    total = int(np.prod(shape, dtype=np.int64))
    if total > budget:
        raise EvalError(f"too many values to simulate ({shape[0]:,} draws × "
                        f"{total // shape[0]:,} elements; all nodes together may hold "
                        f"{MAX_ELEMENTS:,}); lower n or the plate sizes")


def _draw(node: Node, evaluator: Evaluator, sizes: dict[str, int], n: int,
          rng: np.random.Generator, budget: int) -> Val:
    dist = distributions.REGISTRY[node.law]
    args: dict[str, Val] = {}
    for param in dist.params:
        val = evaluator.eval(node.args[param.name])
        if param.vector:
            val = _mark_event_axis(val, param)
        args[param.name] = val
    _, axes = align(list(args.values()))
    plates = node.plates
    extra = tuple(a for a in axes if a not in plates and a != EVENT_AXIS)
    if plates and any(a.startswith("#") for a in extra):
        raise EvalError(f"an argument is a whole vector; index it with [{node.indices[0]}] "
                        "to take one element per plate entry")
    node_axes = tuple(plates) + extra
    all_sizes = {**{a: s for v in args.values() for a, s in v.sizes().items()}, **sizes}
    size = (n, *(all_sizes[a] for a in node_axes))
    arrays = {}
    for param in dist.params:
        target = node_axes + ((EVENT_AXIS,) if param.vector else ())
        arrays[param.name] = expand(args[param.name], target)
    categories = arrays[dist.params[-1].name].shape[-1] if dist.event_vector else 1
    _within_budget(size + (categories,), budget)
    problems = dist.check(arrays)
    if problems:
        raise EvalError("; ".join(problems))
    try:
        with np.errstate(all="ignore"):   # non-finite draws are reported by run_nodes, not warned
            out = dist.sample(rng, arrays, size)
    except (ValueError, OverflowError) as exc:  # e.g. Poisson(1e30): "lam value too large"
        raise EvalError(f"{node.dist} cannot be drawn with these arguments, beyond what numpy can "
                        f"sample ({exc})") from None
    if dist.event_vector:
        anonymous = sum(a.startswith("#") for a in node_axes)
        node_axes = node_axes + (f"#{anonymous + 1}",)
    return Val(out, node_axes)


def _mark_event_axis(val: Val, param: distributions.Param) -> Val:
    """The vector argument's last anonymous axis holds the categories."""
    anonymous = [a for a in val.axes if a.startswith("#")]
    if not anonymous:
        raise EvalError(f"{param.label} must be a vector such as [0.2, 0.3, 0.5]")
    event = anonymous[-1]
    return Val(val.array, tuple(EVENT_AXIS if a == event else a for a in val.axes))


def _draws_array(val: Val, n: int) -> np.ndarray:
    arr = val.array
    if arr.shape[0] != n:
        arr = np.array(np.broadcast_to(arr, (n, *arr.shape[1:])))
    return arr


def _compare_alternatives(spec: ModelSpec, values: dict[str, Val], root: np.random.SeedSequence,
                          diagnostics: list[Diagnostic]) -> list[Comparison]:
    comparisons = []
    for k, group in enumerate(spec.alternatives):
        target = group[-1]
        if target.name not in values:
            continue
        combined = {n.name: n for n in spec.nodes.values() if n.name != target.name}
        combined.update({n.name: n for n in group})
        needed = _needed(target, combined)
        ordered, _ = topological_order([n for n in combined.values() if n.name in needed])
        alt_values = run_nodes(spec, ordered, root, k + 1, diagnostics)
        if target.name not in alt_values:
            continue
        first = spec.nodes[target.name]
        comparison = compare_draws(target.name, target.line,
                                   _draws_array(values[target.name], spec.n),
                                   _draws_array(alt_values[target.name], spec.n))
        comparisons.append(comparison)
        if not comparison.agree:
            diagnostics.append(Diagnostic(spec.path, target.line, "warning",
                                          _disagreement(comparison, first, target)))
    return comparisons


def _needed(target: Node, nodes: dict[str, Node]) -> set[str]:
    needed: set[str] = set()
    stack = [target.name]
    while stack:
        name = stack.pop()
        if name in needed or name not in nodes:
            continue
        needed.add(name)
        stack.extend([*nodes[name].parents, *nodes[name].plates])
    return needed


def _disagreement(c: Comparison, first: Node, second: Node) -> str:
    return (f"{c.name} is defined twice and the two do not agree: line {first.line} "
            f"(`{first.source}`) gives {summary_text(c.first)}; line {second.line} "
            f"(`{second.source}`) gives {summary_text(c.second)} "
            f"(two-sample KS p = {c.p_value:.2g}); the forms are not equivalent")
