"""Closed-form answers drawn over the simulated draws, so a card shows theory and simulation together.

Two kinds of answer are known exactly:

- a root node whose arguments are constants: its marginal is the distribution itself
  (the registry's `scipy_frozen`);
- a linear-Gaussian chain: every Normal node whose mean is affine in earlier Gaussian nodes and
  whose variance is constant (and every deterministic node affine in them) is jointly Gaussian
  with its ancestors. Tracking that joint mean and covariance gives each node's marginal
  (X ~ N(a·m + b, a²v + s²) for X ~ N(a·θ + b, s²), θ ~ N(m, v)) and the conditional mean of a
  parent given a child (λ/(λ+σ²)·x for θ ~ N(0, λ), X ~ N(θ, σ²)).

Nodes inside a plate stay out of the joint Gaussian: their arguments usually vary with the
index, and a wrong overlay is worse than none. A plated node whose arguments are constants has
the same law at every index, so it gets that law as its marginal. Anything not recognisably affine gets no overlay rather than a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from notecards.sim.distributions import lookup
from notecards.sim.model import Expr, ModelSpec, Node

_FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "abs": abs}


@dataclass(frozen=True)
class Affine:
    """const + Σ coef[name]·name over Gaussian nodes; a plain constant has no coefficients."""

    const: float
    coef: tuple[tuple[str, float], ...] = ()

    @property
    def is_constant(self) -> bool:
        return not self.coef

    def coefs(self) -> dict[str, float]:
        return dict(self.coef)


def _affine(const: float, coef: dict[str, float]) -> Affine:
    return Affine(const, tuple(sorted((k, v) for k, v in coef.items() if v != 0.0)))


def _add(a: Affine, b: Affine, sign: float = 1.0) -> Affine:
    coef = a.coefs()
    for name, value in b.coef:
        coef[name] = coef.get(name, 0.0) + sign * value
    return _affine(a.const + sign * b.const, coef)


def _scale(a: Affine, factor: float) -> Affine:
    return _affine(a.const * factor, {k: v * factor for k, v in a.coef})


@dataclass
class Marginal:
    """A node's exact marginal: a scipy frozen distribution and how to say it on the figure."""

    name: str
    frozen: Any
    label: str
    discrete: bool = False


@dataclass
class ConditionalMean:
    """E[parent | child = x] = intercept + slope·x, exact for a jointly Gaussian pair."""

    parent: str
    child: str
    slope: float
    intercept: float


@dataclass
class ClosedForm:
    """What is known exactly about one model, given its constants' values."""

    constants: dict[str, float] = field(default_factory=dict)
    marginals: dict[str, Marginal] = field(default_factory=dict)
    gaussian: list[str] = field(default_factory=list)   # nodes of the joint Gaussian, in order
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def conditional_mean(self, parent: str, child: str) -> ConditionalMean | None:
        """E[parent | child] when both are in the joint Gaussian and the child varies."""
        if parent not in self.gaussian or child not in self.gaussian:
            return None
        i, j = self.gaussian.index(parent), self.gaussian.index(child)
        if self.cov[j, j] <= 0:
            return None
        slope = float(self.cov[i, j] / self.cov[j, j])
        return ConditionalMean(parent, child, slope, float(self.mean[i] - slope * self.mean[j]))


def _num(x: float) -> str:
    return f"{x:.4g}"


class _Evaluator:
    """Affine analysis of expressions: constants fold to numbers, Gaussian nodes stay symbolic."""

    def __init__(self, constants: dict[str, float], gaussian: set[str]) -> None:
        self.constants = constants
        self.gaussian = gaussian

    def eval(self, e: Expr) -> Affine | None:
        op = e.op
        if op == "num":
            return Affine(float(e.value))
        if op == "name":
            name = str(e.value)
            if name in self.constants:
                return Affine(self.constants[name])
            if name in self.gaussian:
                return Affine(0.0, ((name, 1.0),))
            return None
        if op == "neg":
            inner = self.eval(e.args[0])
            return None if inner is None else _scale(inner, -1.0)
        if op == "call":
            return self._call(e)
        if op in ("+", "-", "*", "/", "^"):
            return self._binary(op, e.args[0], e.args[1])
        return None

    def _call(self, e: Expr) -> Affine | None:
        fn = _FUNCTIONS.get(str(e.value))
        if fn is None or len(e.args) != 1:
            return None
        arg = self.eval(e.args[0])
        if arg is None or not arg.is_constant:
            return None
        try:
            return Affine(float(fn(arg.const)))
        except (ValueError, OverflowError):
            return None

    def _binary(self, op: str, left: Expr, right: Expr) -> Affine | None:
        a, b = self.eval(left), self.eval(right)
        if a is None or b is None:
            return None
        if op == "+":
            return _add(a, b)
        if op == "-":
            return _add(a, b, -1.0)
        if op == "*":
            if a.is_constant:
                return _scale(b, a.const)
            return _scale(a, b.const) if b.is_constant else None
        if op == "/":
            return _scale(a, 1.0 / b.const) if b.is_constant and b.const != 0 else None
        if a.is_constant and b.is_constant:
            try:
                return Affine(float(a.const ** b.const))
            except (OverflowError, ZeroDivisionError):
                return None
        return None


def scalar_constants(spec: ModelSpec) -> dict[str, float]:
    """Values of the scalar constants (set by the user or defaulted), in statement order."""
    values: dict[str, float] = {k: float(v) for k, v in spec.defaults.items()}
    evaluator = _Evaluator(values, set())
    for node in spec.nodes.values():
        if node.kind not in ("const", "data") or node.observed is not None:
            continue
        if node.value is not None and np.ndim(node.value) == 0:
            values[node.name] = float(node.value)
        elif node.value is None and node.expr is not None:
            folded = evaluator.eval(node.expr)
            if folded is not None and folded.is_constant:
                values[node.name] = folded.const
    return values


def _normal_variance(node: Node, ev: _Evaluator) -> float | None:
    """The variance of a Normal node (the parser has already rewritten `sd=` and `prec=` into it)."""
    value = ev.eval(node.args["var"]) if "var" in node.args else None
    if value is None or not value.is_constant or value.const < 0:
        return None
    return value.const


def closed_form(spec: ModelSpec) -> ClosedForm:
    """Exact marginals and the joint Gaussian of a model, as far as they are known."""
    out = ClosedForm(constants=scalar_constants(spec))
    ev = _Evaluator(out.constants, set())
    rows: dict[str, Affine] = {}          # node -> affine in the independent noises
    noise_var: dict[str, float] = {}
    for node in spec.nodes.values():
        if node.observed is not None:
            continue
        if node.plates:
            if node.kind == "stochastic" and node.dist:
                _add_root_marginal(out, node, ev)
            continue
        if node.kind == "stochastic" and node.dist == "Normal":
            mean = ev.eval(node.args["mean"]) if "mean" in node.args else None
            var = _normal_variance(node, ev)
            if mean is None or var is None:
                continue
            noise = f"ε[{node.name}]"
            noise_var[noise] = var
            rows[node.name] = _add(_expand(mean, rows), Affine(0.0, ((noise, 1.0),)))
            ev.gaussian.add(node.name)
        elif node.kind == "deterministic" and node.expr is not None:
            value = ev.eval(node.expr)
            if value is None or value.is_constant:
                continue
            rows[node.name] = _expand(value, rows)
            ev.gaussian.add(node.name)
        elif node.kind == "stochastic" and node.dist:
            _add_root_marginal(out, node, ev)
    _fill_joint(out, rows, noise_var)
    return out


def _expand(a: Affine, rows: dict[str, Affine]) -> Affine:
    """Rewrite an affine form over Gaussian nodes as one over their independent noises."""
    total = Affine(a.const)
    for name, coef in a.coef:
        total = _add(total, _scale(rows[name], coef))
    return total


def _fill_joint(out: ClosedForm, rows: dict[str, Affine], noise_var: dict[str, float]) -> None:
    names = list(rows)
    noises = sorted(noise_var)
    A = np.array([[rows[n].coefs().get(e, 0.0) for e in noises] for n in names]).reshape(len(names), len(noises))
    D = np.diag([noise_var[e] for e in noises]) if noises else np.zeros((0, 0))
    out.gaussian = names
    out.mean = np.array([rows[n].const for n in names], dtype=float)
    out.cov = A @ D @ A.T if names else np.zeros((0, 0))
    for i, name in enumerate(names):
        var = float(out.cov[i, i])
        if var > 0:
            out.marginals[name] = Marginal(name, stats.norm(out.mean[i], math.sqrt(var)),
                                           f"N({_num(out.mean[i])}, {_num(var)})")


def _add_root_marginal(out: ClosedForm, node: Node, ev: _Evaluator) -> None:
    """A node with constant arguments (a root, or each element of a plate) has its own law as marginal."""
    args: dict[str, float] = {}
    for key, expr in node.args.items():
        value = ev.eval(expr)
        if value is None or not value.is_constant:
            return
        args[key] = value.const
    dist = lookup(node.dist or "")
    if dist is None or dist.event_vector:
        return
    for param in dist.params:
        if param.name not in args and param.default is not None:
            args[param.name] = param.default
    if set(args) != {p.name for p in dist.params} or dist.check({k: np.asarray(v) for k, v in args.items()}):
        return
    try:
        frozen = dist.scipy_frozen(args)
    except (ValueError, TypeError, ZeroDivisionError):
        return
    discrete = dist.discrete
    if node.dist == "Normal":
        label = f"N({_num(frozen.mean())}, {_num(frozen.var())})"
    else:
        label = f"{node.dist}(" + ", ".join(_num(args[p.name]) for p in dist.params) + ")"
    out.marginals[node.name] = Marginal(node.name, frozen, label, discrete)
