"""Words and numbers for a model and its draws, shared by the caption, the `sim` command's text
and its JSON, so the card and the terminal never disagree about what was simulated.

`describe_node` states a node in its resolved parameterisation, with argument names spelled
out so nobody has to guess whether the second argument of a Normal is a variance:
`theta ~ Normal(mean 0, var lambda)`. Given the spec, constants are substituted and constant
sub-expressions folded (`tau^2` with tau = 2 reads 4); without it (the caption and the report,
which list the values next to the model) the expressions show as written.

`summarise` gives per-variable moments and quantiles as plain floats (JSON-ready). Draws that
are not finite (an overflow the sampler already warned about) are left out, so one inf does not
turn every statistic into nan; the sd uses ddof = 1, as the figure's panels do.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from notecards.sim import distributions
from notecards.sim.expr import EvalError, Evaluator, format_expr, names_in
from notecards.sim.lang import value_of
from notecards.sim.model import Expr, ModelSpec, Node, Op, SimResult

MAX_ELEMENT_SUMMARIES = 50
MAX_SHOWN_VALUES = 12
QUANTILES = (0.05, 0.5, 0.95)


def describe_node(node: Node, spec: ModelSpec | None = None) -> str:
    """One statement as notecards understood it: every argument named, plates as ranges."""
    lhs = node.name + (f"[{', '.join(node.indices)}]" if node.indices else "")
    fold = _folder(spec)
    if node.kind == "stochastic":
        dist = distributions.REGISTRY[node.law]
        args = ", ".join(f"{p.name} {format_expr(fold(node.args[p.name]))}" for p in dist.params)
        text = f"{lhs} ~ {dist.name}({args})"
        if node.observed is not None:
            text += f" (observed: {np.size(node.observed)} values)"
    elif node.value is not None:
        text = f"{lhs} = {format_value(node.value)}"
    else:
        text = f"{lhs} = {format_expr(fold(node.definition))}"
    ranges = [f"{i} = 1..{p}" for i, p in zip(node.indices, node.plates)]
    return text + (f" for {', '.join(ranges)}" if ranges else "")


def summarise(result: SimResult) -> dict[str, dict]:
    """Per variable: mean, sd, 5/50/95 % quantiles (pooled over plates), its shape, and for a
    plated variable with few elements the same per element."""
    out: dict[str, dict] = {}
    for name, draws in result.draws.items():
        entry = moments(draws)
        entry["shape"] = list(draws.shape[1:])
        elements = int(np.prod(draws.shape[1:], dtype=np.int64))
        if draws.ndim > 1 and elements <= MAX_ELEMENT_SUMMARIES:
            flat = draws.reshape(draws.shape[0], -1)
            entry["elements"] = [moments(flat[:, k]) for k in range(elements)]
        out[name] = entry
    return out


def moments(draws: np.ndarray) -> dict[str, float]:
    """Mean, sd and the 5/50/95 % quantiles of the finite values of `draws`, pooled."""
    values = np.asarray(draws, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"mean": float("nan"), "sd": float("nan")}
    out = {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0}
    for q, v in zip(QUANTILES, np.quantile(values, QUANTILES)):
        out[f"q{int(q * 100):02d}"] = float(v)
    return out


def format_value(value: float | np.ndarray) -> str:
    """A constant or a data vector, shortened after MAX_SHOWN_VALUES entries."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.6g}"
    flat = [f"{v:.6g}" for v in arr.reshape(-1)[:MAX_SHOWN_VALUES]]
    more = ", …" if arr.size > MAX_SHOWN_VALUES else ""
    return "[" + ", ".join(flat) + more + "]"


def _folder(spec: ModelSpec | None) -> Callable[[Expr], Expr]:
    """A function replacing constant sub-expressions by their values (identity without spec)."""
    if spec is None:
        return lambda expr: expr
    constants = {n.name: value_of(n) for n in spec.nodes.values()
                 if n.kind == "const" and n.value is not None}
    evaluator = Evaluator(constants)

    def fold(expr: Expr) -> Expr:
        if expr.op not in ("num", "vec", "index") and all(s in constants for s in names_in(expr)):
            try:
                val = evaluator.eval(expr)
            except EvalError:
                return expr
            if val.array.size == 1:
                return Expr(Op.NUM, value=float(val.array.reshape(-1)[0]))
        if expr.args:
            return Expr(expr.op, tuple(fold(a) for a in expr.args), expr.value)
        return expr
    return fold
