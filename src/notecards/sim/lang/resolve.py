"""Resolving a block's statements into a `ModelSpec`: parents, defaults for free names (from
LaTeX), dependency order, kinds and constant values, observed data, second definitions as
alternatives, options, checks and the element budget."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from notecards.sim import distributions
from notecards.sim.expr import BUILTIN_CONSTANTS, MAX_ELEMENTS, EvalError, Evaluator, Val, expand, format_expr, names_in
from notecards.sim.lang.nodes import (DEFAULT_PLATE, DEFAULT_VALUE, MAX_DRAWS, MAX_PLATE, OPTIONS, node_exprs,
                                      topological_order, value_of)
from notecards.sim.lang.statements import Statements
from notecards.sim.model import Expr, ModelSpec, Node, Op
from notecards.types import Diagnostic


def resolve(read: Statements) -> tuple[ModelSpec | None, list[Diagnostic]]:
    """The model the statements describe, or None when any of them is in error; and the
    diagnostics (the statements' own and the model's), in line order."""
    return _Resolver(read).finish()


def with_constants(spec: ModelSpec, values: dict[str, float]) -> tuple[ModelSpec | None, list[Diagnostic]]:
    """The model with some of its scalar constants set to other values (what a study slider
    does), resolved again from new nodes: constants computed from them follow and the laws'
    constant arguments are checked again (`sigma = -1` is an error, and no model). The resolver
    makes new nodes, so the given model is left as it was. Plate sizes and data keep their values
    (their shapes are the model's)."""
    read = Statements(spec.path, spec.line, spec.origin)
    plates = {p for node in spec.nodes.values() for p in node.plates}
    for name in values:
        node = spec.nodes.get(name)
        if node is None or node.kind != "const" or name in plates:
            what = "a plate size" if name in plates else "not a constant of this model"
            read.error(spec.line, f"{name} cannot be set: {what}")
    if read.diagnostics:
        return None, read.diagnostics
    nodes = [replace(node, expr=Expr(Op.NUM, value=float(values[node.name])), value=None)
             if node.name in values else node for node in spec.nodes.values()]
    again = replace(spec, nodes={}, defaults={k: v for k, v in spec.defaults.items() if k not in values})
    _Resolver(read)._resolve(nodes, again)
    if read.diagnostics:
        return None, read.diagnostics
    return again, []


@dataclass
class _Resolver:
    read: Statements

    def finish(self) -> tuple[ModelSpec | None, list[Diagnostic]]:
        primaries = [defs[0] for defs in self.read.defs.values()]
        seconds = [d for defs in self.read.defs.values() for d in defs[1:]]
        primaries = [replace(node, parents=self._parents(node)) for node in primaries]
        seconds = [replace(node, parents=self._parents(node)) for node in seconds]
        for node in primaries + seconds:
            if node.name in node.parents:   # a ~ Normal(a, 1): dropped without a word before
                self.read.error(node.line, f"{node.name} is defined in terms of itself; give the "
                                           f"value it depends on a name of its own (e.g. {node.name}0)")
        defaults = self._free_names(primaries + seconds)
        primaries = defaults + primaries
        moved = _alternative_only(primaries, seconds, self._pinned())
        main = [n for n in primaries if n.name not in moved]
        ordered, cyclic = topological_order(main)
        for node in cyclic:
            self.read.error(node.line, f"{node.name} depends on itself through "
                                  f"{', '.join(p for p in node.parents if p in {c.name for c in cyclic})}")
        spec = ModelSpec(path=self.read.path, line=self.read.first_line, origin=self.read.origin)
        spec.defaults = {n.name: n.scalar for n in defaults}
        self._resolve(ordered, spec)
        spec.alternatives = self._alternatives(seconds, primaries, moved, spec)
        self._options(spec)
        self._validate_checks(spec)
        self._bound_elements(spec)
        spec.source_text = "\n".join(self.read.canonical)
        self.read.diagnostics.sort(key=lambda d: d.line)
        if any(d.severity == "error" for d in self.read.diagnostics) or not spec.nodes:
            return None, self.read.diagnostics
        return spec, self.read.diagnostics

    def _parents(self, node: Node) -> list[str]:
        letters = set(node.indices)
        found: list[str] = []
        for expr in node_exprs(node) + ([self.read.observed_exprs[node.name]]
                                        if node.name in self.read.observed_exprs else []):
            for name in names_in(expr):
                if name not in letters and name not in found:
                    found.append(name)
        return found

    def _pinned(self) -> set[str]:
        """Names the checks and `show` read: they stay in the main model."""
        pinned = set(self.read.show[0]) if self.read.show else set()
        for check in self.read.checks:
            pinned.update(names_in(check.lhs) + names_in(check.rhs))
        return pinned

    def _free_names(self, nodes: list[Node]) -> list[Node]:
        """Names used but never defined: an error in a sim block, a default from LaTeX."""
        defined = set(self.read.defs)
        first_use: dict[str, tuple[int, bool]] = {}
        for node in sorted(nodes, key=lambda n: n.line):
            for name in node.parents:
                if name not in defined and name not in BUILTIN_CONSTANTS:
                    first_use.setdefault(name, (node.line, False))
            for plate in node.plates:
                if plate not in defined:
                    first_use.setdefault(plate, (node.line, True))
        defaults = []
        for name, (line, is_plate) in first_use.items():
            if name in self.read.broken:
                continue
            if self.read.origin == "latex":
                value = DEFAULT_PLATE if is_plate else DEFAULT_VALUE
                defaults.append(Node(name=name, kind="const", line=line, source=f"{name} = {value:g}",
                                     value=float(value), expr=Expr(Op.NUM, value=float(value))))
                self.read.diagnostics.append(Diagnostic(
                    self.read.path, line, "info",
                    f"{name} has no value; using {value:g} (set it in a sim block)"))
            elif name in OPTIONS:
                self.read.error(line, f"'{name}' is the number of draws in a sim block, not a "
                                 "variable; use another name (e.g. N or trials)")
            elif is_plate:
                self.read.error(line, f"plate size {name} is not defined; set it first, e.g. {name} = 8")
            else:
                self.read.error(line, f"unknown name '{name}'; define it first, e.g. {name} = 1")
        return defaults

    def _resolve(self, ordered: list[Node], spec: ModelSpec) -> None:
        """Kinds, constant values, observed data and constant-argument support checks."""
        values: dict[str, Val] = {}
        kinds: dict[str, str] = {}
        for node in ordered:
            if any(p in self.read.broken or p not in kinds for p in node.parents
                   if p not in BUILTIN_CONSTANTS):
                continue
            resolved = self._resolve_node(node, values, kinds)
            if resolved is not None:
                kinds[node.name] = resolved.kind
                spec.nodes[node.name] = resolved

    def _resolve_node(self, node: Node, values: dict[str, Val], kinds: dict[str, str]) -> Node | None:
        """The node as the model holds it, new (kind settled, a constant's value or the observed
        data filled in), or None when it cannot be resolved (a diagnostic says why)."""
        sizes = self._plate_sizes(node, values)
        if sizes is None:
            return None
        evaluator = Evaluator(values, dict(zip(node.indices, node.plates)), sizes)
        random = any(kinds.get(p) in ("stochastic", "deterministic") for p in node.parents)
        try:
            if node.kind == "stochastic":
                observed = (self._observed(node, evaluator, sizes) if node.name in self.read.observed_exprs
                            else node.observed)
                if not random:
                    self._check_constant_args(node, evaluator)
                return replace(node, observed=observed)
            if random:
                return replace(node, kind="deterministic")
            val = evaluator.eval(node.definition)
        except EvalError as exc:
            self.read.error(node.line, f"{node.name}: {exc}")
            return None
        arr = _layout(val, node.plates, sizes)
        resolved = replace(node, kind="const" if arr.ndim == 0 else "data", value=float(arr) if arr.ndim == 0 else arr)
        values[node.name] = value_of(resolved) if node.plates or arr.ndim == 0 else Val(arr[None], val.axes)
        return resolved

    def _plate_sizes(self, node: Node, values: dict[str, Val]) -> dict[str, int] | None:
        sizes = {}
        for plate in node.plates:
            val = values.get(plate)
            if val is None:
                return None          # undefined or broken: reported where it is used
            size = float(val.array.reshape(-1)[0]) if val.array.size == 1 else None
            if size is None or not _whole(size) or size < 1:
                self.read.error(node.line, f"plate size {plate} must be a whole number >= 1")
                return None
            if size > MAX_PLATE:
                self.read.error(node.line, f"plate size {plate} = {size:g} is too large "
                                      f"(at most {MAX_PLATE})")
                return None
            sizes[plate] = int(size)
        return sizes

    def _observed(self, node: Node, evaluator: Evaluator, sizes: dict[str, int]) -> np.ndarray:
        data = evaluator.eval(self.read.observed_exprs[node.name]).array[0]
        want = tuple(sizes[p] for p in node.plates)
        if data.shape != want:
            raise EvalError(f"the data has shape {data.shape} but {node.name} runs over "
                            f"{' × '.join(node.plates) or 'no plate'} = {want}")
        return data

    def _check_constant_args(self, node: Node, evaluator: Evaluator) -> None:
        dist = distributions.REGISTRY[node.law]
        for param in dist.params:
            val = evaluator.eval(node.args[param.name])
            why = distributions.support_violation(param, _vector_last(val, param.vector))
            if why:
                raise EvalError(f"{dist.name} {why}")

    def _alternatives(self, seconds: list[Node], primaries: list[Node], moved: set[str],
                      spec: ModelSpec) -> list[list[Node]]:
        """Each second definition with the nodes only it uses, in dependency order."""
        result = []
        by_name = {n.name: n for n in primaries}
        for second in seconds:
            first = spec.nodes.get(second.name)
            if first is None:
                continue
            own = _ancestors(second, by_name) & moved
            group = [by_name[name] for name in by_name if name in own] + [second]
            ordered, cyclic = topological_order(group)
            for node in cyclic:
                self.read.error(node.line, f"{node.name} depends on itself")
            kinds = {n.name: n.kind for n in spec.nodes.values()}
            kept = []
            for node in ordered:
                if node.kind != "stochastic":
                    random = any(kinds.get(p) in ("stochastic", "deterministic")
                                 for p in node.parents)
                    node = replace(node, kind="deterministic" if random else "const")
                kinds[node.name] = node.kind
                kept.append(node)
            resolved = next((n for n in kept if n.name == second.name), second)
            if first.kind == "const" and resolved.kind == "const":
                self._compare_constants(first, resolved, spec)
                continue
            result.append(kept)
        return result

    def _compare_constants(self, first: Node, second: Node, spec: ModelSpec) -> None:
        values = {n.name: value_of(n) for n in spec.nodes.values() if n.value is not None}
        try:
            second_value = Evaluator(values).eval(second.definition).array
        except EvalError as exc:
            self.read.error(second.line, f"{second.name}: {exc}")
            return
        if not np.allclose(second_value, np.asarray(first.value)):
            self.read.diagnostics.append(Diagnostic(
                self.read.path, second.line, "warning",
                f"{second.name} is {format_expr(second.definition)} here but {first.scalar:g} at line "
                f"{first.line}; the first value is used"))

    def _options(self, spec: ModelSpec) -> None:
        values = {n.name: value_of(n) for n in spec.nodes.values() if n.value is not None}
        for name, (expr, line) in self.read.options.items():
            try:
                val = Evaluator(values).eval(expr)
            except EvalError as exc:
                self.read.error(line, f"{name}: {exc} (options take numbers or constants)")
                continue
            value = float(val.array.reshape(-1)[0]) if val.array.size == 1 else float("nan")
            if name == "n":
                if not (_whole(value) and 1 <= value <= MAX_DRAWS):
                    self.read.error(line, f"n must be a whole number from 1 to {MAX_DRAWS:,}")
                    continue
                spec.n = int(value)
            else:
                if not (_whole(value) and 0 <= value < 2**63):
                    self.read.error(line, "seed must be a whole number >= 0")
                    continue
                spec.seed = int(value)
        if self.read.show:
            names, line = self.read.show
            missing = [s for s in names if s not in spec.nodes]
            if missing:
                self.read.error(line, f"show: unknown name(s) {', '.join(missing)}")
            spec.show = names
        else:
            spec.show = None

    def _validate_checks(self, spec: ModelSpec) -> None:
        for check in self.read.checks:
            missing = [s for s in names_in(check.lhs) + names_in(check.rhs)
                       if s not in spec.nodes and s not in BUILTIN_CONSTANTS]
            if missing:
                if not set(missing) & self.read.broken:
                    self.read.error(check.line, f"check: unknown name(s) {', '.join(missing)}")
                continue
            spec.checks.append(check)

    def _bound_elements(self, spec: ModelSpec) -> None:
        """Bound what drawing the model's unknowns allocates: n draws of every random node.

        Observed nodes are data, not draws: a model with data is fitted, and a fit holds its
        data once plus chains × draws of the unknowns (`notecards.infer` bounds those against
        its own chains and draws). Counting n × the data would reject a 100-group ×
        50-observation hierarchy whose fit needs a few MB."""
        total = 0
        for node in spec.nodes.values():
            if node.kind in ("stochastic", "deterministic") and node.observed is None:
                size = 1
                for plate in node.plates:
                    size *= int(spec.nodes[plate].scalar)
                total += size
                if spec.n * total > MAX_ELEMENTS:
                    self.read.error(node.line, f"too many values to simulate: n = {spec.n:,} draws "
                                          f"× {total:,} elements per draw exceeds "
                                          f"{MAX_ELEMENTS:,}; lower n or the plate sizes")
                    return


def _layout(val: Val, plates: tuple[str, ...], sizes: dict[str, int]) -> np.ndarray:
    """A constant's array with plate axes first (in the node's order), as written otherwise."""
    axes = tuple(plates) + tuple(a for a in val.axes if a not in plates)
    arr = expand(val, axes)[0]
    full = tuple(sizes[p] for p in plates) + arr.shape[len(plates):]
    return np.array(np.broadcast_to(arr, full))


def _vector_last(val: Val, vector: bool) -> np.ndarray:
    """Values for a support check; a vector argument keeps its vector axis last."""
    if not vector:
        return val.array
    anonymous = [k for k, a in enumerate(val.axes) if a.startswith("#")]
    if not anonymous:
        raise EvalError("expected a vector such as [0.2, 0.3, 0.5]")
    return np.moveaxis(val.array, anonymous[-1] + 1, -1)


def _ancestors(node: Node, by_name: dict[str, Node]) -> set[str]:
    seen: set[str] = set()
    stack = list(node.parents)
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(by_name[name].parents)
    return seen


def _alternative_only(primaries: list[Node], seconds: list[Node], pinned: set[str]) -> set[str]:
    """Primary nodes that only second definitions use (e.g. ε in X = θ + ε): they belong with
    the alternative, not in the main model's figures."""
    by_name = {n.name: n for n in primaries}
    candidates: set[str] = set()
    for second in seconds:
        candidates |= _ancestors(second, by_name)
    candidates -= pinned
    candidates -= {s.name for s in seconds}
    changed = True
    while changed:
        changed = False
        for name in sorted(candidates):
            users = [n for n in primaries if name in n.parents or name in n.plates]
            if any(u.name not in candidates for u in users):
                candidates.discard(name)
                changed = True
    return candidates


def _whole(value: float) -> bool:
    """A finite whole number (inf and NaN are neither; `round` would raise on them)."""
    return math.isfinite(value) and value == round(value)
