"""The model graph as inference sees it: what is known, what is latent, and how each latent node
is used by its children.

State convention, shared by every sampler: a scalar latent node holds an array (chains, 1), a
plated one (chains, J), a vector-valued one (Dirichlet) (chains, K); constants and data are plain
numpy arrays. Expressions are evaluated by the sim language's own evaluator (`notecards.sim.expr`)
with the chains on its draws axis, and come back as (chains or 1, child size) arrays, which lets
every step update all chains at once. Indices in the notes are 1-based (`school[i]` in 1..J).

How a child uses a parent decides the sampler (conjugacy): `Reference.form` records whether the
argument is the parent itself (`mu`, `theta[school[i]]`), its square (`tau^2`), its reciprocal
(`1/phi`) or something else, and `groups` maps each child element to the parent element it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from notecards.sim.model import Expr, ModelSpec, Node, Op

from notecards.sim.expr import Evaluator, Val, names_in as _names_in

Form = Literal["direct", "square", "inverse", "other"]
VECTOR_LAWS = {"Dirichlet"}


@dataclass
class Reference:
    """One argument of a child that reads a latent node."""

    child: str
    arg: str
    form: Form
    groups: np.ndarray | None          # 0-based parent element per child element; None: scalar


@dataclass
class Latent:
    node: Node
    size: int
    refs: list[Reference] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def plated(self) -> bool:
        return bool(self.node.plates)


class UnsupportedModel(ValueError):
    """A model this sampler cannot fit; carries the line to pin the diagnostic to."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class ModelGraph:
    """Constants, latent nodes in model order, observed nodes, and the parent→child references."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.constants: dict[str, Val] = {k: _val_of_constant(v) for k, v in spec.defaults.items()}
        self.latent: dict[str, Latent] = {}
        self.observed: dict[str, Node] = {}
        self.deterministic: list[Node] = []
        for node in spec.nodes.values():
            self._add(node)
        if not self.latent:
            raise UnsupportedModel(spec.line, "nothing to infer: every variable has a value")
        if not self.observed:
            raise UnsupportedModel(spec.line, "no data: give a variable values (y = [...]) and a ~ law")
        self.stochastic: dict[str, Node] = {**{n: l.node for n, l in self.latent.items()},
                                             **self.observed}
        self.sizes = {name: self._child_size(node) for name, node in self.stochastic.items()}
        self.unknowns = set(self.latent) | {n.name for n in self.deterministic}
        self.latent_read_by = self._latent_read_by_deterministic()
        for latent in self.latent.values():
            latent.refs = self._references_to(latent.name)

    def _add(self, node: Node) -> None:
        if node.observed is not None:
            # given the data, observed values are known like constants (`ybar = mean(y)`)
            self.observed[node.name] = node
            self.constants[node.name] = _val_of_constant(node.observed)
        elif node.kind == "stochastic":
            self.latent[node.name] = Latent(node, self._latent_size(node))
        elif node.kind == "deterministic":
            self.deterministic.append(node)
        elif node.value is not None:
            self.constants[node.name] = _val_of_constant(node.value)
        elif node.expr is not None:
            self.constants[node.name] = Evaluator(self.constants).eval(node.expr)
        else:
            raise UnsupportedModel(node.line, f"{node.name} has no value")

    def constant(self, name: str) -> np.ndarray:
        """A constant's value without the evaluator's draws axis."""
        return self.constants[name].array[0]

    def _latent_size(self, node: Node) -> int:
        if node.plates:
            return self.plate_size(",".join(node.plates), node.line)
        if node.dist in VECTOR_LAWS:
            alpha = Evaluator(self.constants).eval(node.args["alpha"]).array
            return int(alpha.shape[-1])
        return 1

    def plate_size(self, plate: str, line: int) -> int:
        if plate not in self.constants:
            raise UnsupportedModel(line, f"plate size {plate} has no value")
        return int(self.constant(plate))

    def _child_size(self, node: Node) -> int:
        if node.observed is not None:
            return int(np.asarray(node.observed).shape[0]) if np.ndim(node.observed) else 1
        return self.latent[node.name].size

    def _latent_read_by_deterministic(self) -> dict[str, set[str]]:
        """The latent nodes each deterministic node reads, directly or through other deterministic
        nodes (which the model defines before they are used)."""
        read: dict[str, set[str]] = {}
        for node in self.deterministic:
            names = names_in(node.expr)
            read[node.name] = (names & set(self.latent)).union(
                *(read[name] for name in names if name in read))
        return read

    def reads(self, expr: Expr, parent: str) -> bool:
        """Whether `expr` depends on the latent `parent`, directly or through deterministic nodes."""
        names = names_in(expr)
        return parent in names or any(parent in self.latent_read_by.get(name, ()) for name in names)

    def args_known(self, node: Node) -> bool:
        """Whether the node's arguments read only constants and data (no unknown)."""
        return not any(names_in(expr) & self.unknowns for expr in node.args.values())

    def env(self, state: dict[str, np.ndarray]) -> dict[str, Val]:
        """Constants, current latent values, then deterministic nodes computed from them."""
        env = dict(self.constants)
        for name, value in state.items():
            env[name] = self.val_of_state(name, value)
        for node in self.deterministic:
            env[node.name] = self._evaluator(env, node).eval(node.expr)
        return env

    def val_of_state(self, name: str, value: np.ndarray) -> Val:
        latent = self.latent[name]
        if latent.plated:
            return Val(value, (",".join(latent.node.plates),))
        if latent.node.dist in VECTOR_LAWS:
            return Val(value, ("#1",))
        return Val(value[:, 0])

    def _evaluator(self, env: dict[str, Val], node: Node | None) -> Evaluator:
        if node is None or not node.indices:
            return Evaluator(env)
        index, plate = ",".join(node.indices), ",".join(node.plates)
        size = self.sizes.get(node.name) or self.plate_size(plate, node.line)
        return Evaluator(env, {index: plate}, {plate: size})

    def evaluate(self, expr: Expr, env: dict[str, Val], node: Node | None = None) -> np.ndarray:
        """An expression as a (chains or 1, elements) array, in the statement's plate."""
        val = self._evaluator(env, node).eval(expr)
        return val.array.reshape(val.array.shape[0], -1)

    def args_of(self, node: Node, env: dict[str, Val], skip: str | None = None) -> dict[str, np.ndarray]:
        return {key: self.evaluate(expr, env, node) for key, expr in node.args.items() if key != skip}

    def value_of(self, name: str, state: dict[str, np.ndarray]) -> np.ndarray:
        if name in self.observed:
            return np.asarray(self.observed[name].observed, dtype=float).reshape(1, -1)
        return state[name]

    def _references_to(self, parent: str) -> list[Reference]:
        refs = []
        for child in self.stochastic.values():
            for key, expr in child.args.items():
                if self.reads(expr, parent):
                    refs.append(self._classify(parent, child, key, expr))
        return refs

    def _classify(self, parent: str, child: Node, key: str, expr: Expr) -> Reference:
        form, core = _unwrap(expr)
        reads_itself = core == Expr(Op.NAME, value=parent) or (
            core.op == "index" and core.args[0] == Expr(Op.NAME, value=parent) and len(core.args) == 2)
        return Reference(child.name, key, form if reads_itself else "other",
                         self._groups(parent, child, expr))

    def _groups(self, parent: str, child: Node, expr: Expr) -> np.ndarray | None:
        """Which parent element each child element reads, when every use is `parent[e]` with the
        same data-only `e`; None when the child reads the parent whole (or a scalar parent)."""
        uses = _uses_of(parent, expr)
        if not uses or any(u is None for u in uses) or any(u != uses[0] for u in uses):
            return None
        index_expr = uses[0]
        if names_in(index_expr) & self.unknowns:
            return None
        groups = self.evaluate(index_expr, self.constants, child)[0].astype(int) - 1
        groups = np.broadcast_to(groups, (self.sizes[child.name],)).copy()
        size = self.latent[parent].size
        if groups.min() < 0 or groups.max() >= size:
            raise UnsupportedModel(child.line, f"index of {parent} out of 1..{size}")
        return groups

    def group_sum(self, values: np.ndarray, latent: Latent, groups: np.ndarray | None,
                  chains: int) -> np.ndarray:
        """Sums per-child-element terms (chains, n) into the parent's elements (chains, size)."""
        values = np.broadcast_to(values, (chains, np.shape(values)[-1] if np.ndim(values) else 1))
        if groups is None:
            return values.sum(axis=-1, keepdims=True)
        offsets = (np.arange(chains)[:, None] * latent.size + groups[None, :]).ravel()
        values = np.broadcast_to(values, (chains, groups.size)).ravel()
        return np.bincount(offsets, weights=values, minlength=chains * latent.size).reshape(
            chains, latent.size)


def _unwrap(expr: Expr) -> tuple[Form, Expr]:
    """How an argument wraps what it reads: `x^2` is ("square", x), `1/x` ("inverse", x)."""
    if expr.op == "^" and expr.args[1] == Expr(Op.NUM, value=2.0):
        return "square", expr.args[0]
    if expr.op == "/" and expr.args[0] == Expr(Op.NUM, value=1.0):
        return "inverse", expr.args[1]
    return "direct", expr


def _uses_of(parent: str, expr: Expr) -> list[Expr | None]:
    """The index expression of every use of `parent` in `expr` (None for a bare use)."""
    if expr.op == "name":
        return [None] if expr.value == parent else []
    if expr.op == "index" and expr.args[0] == Expr(Op.NAME, value=parent) and len(expr.args) == 2:
        return [expr.args[1]] + _uses_of(parent, expr.args[1])
    uses: list[Expr | None] = []
    for sub in expr.args:
        uses += _uses_of(parent, sub)
    return uses


def names_in(expr: Expr) -> set[str]:
    return set(_names_in(expr))


def _val_of_constant(value) -> Val:
    array = np.asarray(value, dtype=float)
    return Val(array.reshape(1)) if array.ndim == 0 else Val.constant(array)
