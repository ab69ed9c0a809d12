"""`check:` lines: a statistic of the draws against an expression, within Monte Carlo error.

Each side of a check is an expression whose outermost calls may be statistics of the draws:
`mean`/`E`, `var`, `sd`, `cov(a, b)`, `corr(a, b)`, `quantile(x, q)`, `median(x)`,
`P(event)`/`Pr`. Inside a statistic, expressions are per draw (`var(X - theta)`,
`P(X > 0 and theta < 1)`); outside, names must be constants.

The tolerance comes from the Monte Carlo standard error, computed through influence
functions: every statistic yields its value and, per draw, its influence ψ (for the mean
x − μ, for the variance (x − μ)² − σ², for P(A) 1[A] − p, for a quantile
(q − 1[x ≤ ξ]) / f(ξ) with f a kernel estimate, for sd, cov and corr their delta-method
forms). Arithmetic between statistics and constants carries ψ along (delta method), so
`var(X) ≈ var(theta) + sigma^2` is tested with both sides' noise. The standard error of
lhs − rhs is sd(ψ)/√n, which gives exactly sd/√n for a mean, √((m4 − σ⁴)/n) for a variance
and √(p(1 − p)/n) for a probability. For a plated variable the influence is averaged over the
plate within a draw, so correlation between a draw's elements is accounted for.

Pass rule (threshold `Z_THRESHOLD` = 4, a false alarm about once in 16,000 checks):
`≈` passes when |z| < 4; `<`, `<=` pass unless z ≥ 4 (the draws clearly exceed the bound);
`>`, `>=` pass unless z ≤ −4. With no Monte Carlo error (constants only) the sides must be
equal up to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from notecards.sim.expr import EvalError, Evaluator, Val, align, format_expr
from notecards.sim.model import Check, CheckResult, Expr, ModelSpec
from notecards.types import Diagnostic

Z_THRESHOLD = 4.0
STATISTICS = {
    "mean": "mean", "e": "mean", "expectation": "mean", "var": "var", "variance": "var",
    "sd": "sd", "std": "sd", "cov": "cov", "corr": "corr", "cor": "corr",
    "quantile": "quantile", "median": "median", "p": "P", "pr": "P", "prob": "P",
}


@dataclass
class Estimate:
    """A statistic's value and its per-draw influence (None: known exactly)."""

    value: float
    influence: np.ndarray | None = None

    def psi(self, n: int) -> np.ndarray:
        return self.influence if self.influence is not None else np.zeros(n)


def evaluate_checks(spec: ModelSpec,
                    values: dict[str, Val]) -> tuple[list[CheckResult], list[Diagnostic]]:
    results: list[CheckResult] = []
    diagnostics: list[Diagnostic] = []
    for check in spec.checks:
        try:
            result = evaluate_check(check, values, spec.n)
        except EvalError as exc:
            diagnostics.append(Diagnostic(spec.path, check.line, "error",
                                          f"check `{check.text}` cannot be evaluated: {exc}"))
            continue
        results.append(result)
        if not result.passed:
            diagnostics.append(Diagnostic(spec.path, check.line, "warning", failure_message(result)))
    return results, diagnostics


def failure_message(r: CheckResult) -> str:
    return (f"check failed: {r.text}: simulated {r.simulated:.4g}, expected {r.expected:.4g}, "
            f"{abs(r.z):.1f} Monte Carlo standard errors apart — a true statement stays within "
            f"{Z_THRESHOLD:g}")


def evaluate_check(check: Check, values: dict[str, Val], n: int) -> CheckResult:
    """The check's two sides and z; arithmetic that has no value (1/0, log(-1), 10^400) is an
    EvalError saying so, never a Python exception."""
    evaluator = Evaluator(values)
    try:
        with np.errstate(all="ignore"):
            left = _estimate(check.lhs, evaluator, n)
            right = _estimate(check.rhs, evaluator, n)
            se = float(np.std(left.psi(n) - right.psi(n)) / math.sqrt(n))
    except ZeroDivisionError:
        raise EvalError("it divides by zero") from None
    except OverflowError:
        raise EvalError("a value is too large for a floating-point number") from None
    except ValueError as exc:  # math domain errors: sqrt, log of a negative number
        raise EvalError(f"a value is outside a function's domain ({exc})") from None
    for side, estimate in (("left", left), ("right", right)):
        if not math.isfinite(estimate.value):
            raise EvalError(f"its {side} side is {estimate.value} (not a finite number)")
    diff_value = left.value - right.value
    if se > 0 and math.isfinite(se):
        z = diff_value / se
    elif math.isclose(left.value, right.value, rel_tol=1e-9, abs_tol=1e-12):
        z = 0.0
    else:
        z = math.copysign(math.inf, diff_value) if not math.isnan(diff_value) else math.nan
    passed = _passes(check.relation, z)
    return CheckResult(line=check.line, text=check.text, simulated=left.value,
                       expected=right.value, z=z, passed=passed)


def _passes(relation: str, z: float) -> bool:
    if math.isnan(z):
        return False
    if relation in ("<", "<="):
        return z < Z_THRESHOLD
    if relation in (">", ">="):
        return z > -Z_THRESHOLD
    return abs(z) < Z_THRESHOLD


def _estimate(expr: Expr, ev: Evaluator, n: int) -> Estimate:
    op = expr.op
    if op == "call" and str(expr.value).lower() in STATISTICS:
        return _statistic(STATISTICS[str(expr.value).lower()], expr, ev, n)
    if op == "call" and expr.value in _SMOOTH and len(expr.args) == 1:
        inner = _estimate(expr.args[0], ev, n)
        fn, derivative = _SMOOTH[str(expr.value)]
        value = float(fn(inner.value))
        if inner.influence is None:
            return Estimate(value)
        return Estimate(value, derivative(inner.value) * inner.influence)
    if op == "neg":
        inner = _estimate(expr.args[0], ev, n)
        return Estimate(-inner.value, None if inner.influence is None else -inner.influence)
    if op in ("+", "-", "*", "/", "^"):
        return _combine(op, _estimate(expr.args[0], ev, n), _estimate(expr.args[1], ev, n), n)
    return _constant(expr, ev)


def _constant(expr: Expr, ev: Evaluator) -> Estimate:
    val = ev.eval(expr)
    if val.array.size != 1:
        kind = "varies between draws" if val.array.shape[0] > 1 else "is a vector"
        raise EvalError(f"{format_expr(expr)} {kind}; compare a statistic of it, "
                        "e.g. mean(...), var(...), P(...)")
    return Estimate(float(val.array.reshape(-1)[0]))


def _combine(op: str, a: Estimate, b: Estimate, n: int) -> Estimate:
    """Value and delta-method influence of a op b."""
    x, y = a.value, b.value
    if op == "+":
        value, da, db = x + y, 1.0, 1.0
    elif op == "-":
        value, da, db = x - y, 1.0, -1.0
    elif op == "*":
        value, da, db = x * y, y, x
    elif op == "/":
        value, da, db = x / y, 1.0 / y, -x / y**2
    else:
        value = x**y
        da = y * x ** (y - 1) if x != 0 or y >= 1 else 0.0
        db = value * math.log(x) if x > 0 else 0.0
    if a.influence is None and b.influence is None:
        return Estimate(float(value))
    return Estimate(float(value), da * a.psi(n) + db * b.psi(n))


_SMOOTH: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
    "sqrt": (math.sqrt, lambda v: 0.5 / math.sqrt(v) if v > 0 else 0.0),
    "exp": (math.exp, math.exp),
    "log": (lambda v: math.log(v) if v > 0 else math.nan, lambda v: 1.0 / v if v else 0.0),
    "abs": (abs, lambda v: math.copysign(1.0, v)),
}


def _per_draw(val: Val, n: int) -> np.ndarray:
    """Values as (n draws, elements per draw)."""
    arr = np.broadcast_to(val.array, (n, *val.array.shape[1:]))
    return arr.reshape(n, -1)


def _arity(expr: Expr, want: int) -> None:
    if len(expr.args) != want:
        raise EvalError(f"{expr.value}() takes {want} argument(s), got {len(expr.args)}")


def _statistic(kind: str, expr: Expr, ev: Evaluator, n: int) -> Estimate:
    if kind in ("cov", "corr"):
        _arity(expr, 2)
        arrays, _ = align([ev.eval(expr.args[0]), ev.eval(expr.args[1])])
        shape = np.broadcast_shapes(*(a.shape[1:] for a in arrays))
        a, b = (np.broadcast_to(arr, (n, *shape)).reshape(n, -1) for arr in arrays)
        return _cov(a, b) if kind == "cov" else _corr(a, b)
    if kind == "quantile":
        _arity(expr, 2)
        q = _constant(expr.args[1], ev).value
        if not 0 < q < 1:
            raise EvalError(f"quantile level must be between 0 and 1, got {q:g}")
        return _quantile(_per_draw(ev.eval(expr.args[0]), n), q)
    _arity(expr, 1)
    x = _per_draw(ev.eval(expr.args[0]), n)
    if kind == "median":
        return _quantile(x, 0.5)
    if kind == "P":
        return _mean((x != 0).astype(float))
    if kind == "mean":
        return _mean(x)
    var = _var(x)
    if kind == "var":
        return var
    sd = math.sqrt(var.value)
    return Estimate(sd, var.psi(n) / (2 * sd) if sd > 0 else np.zeros(n))


def _mean(x: np.ndarray) -> Estimate:
    value = float(x.mean())
    return Estimate(value, x.mean(axis=1) - value)


def _var(x: np.ndarray) -> Estimate:
    squares = (x - x.mean()) ** 2
    return _mean(squares)


def _cov(a: np.ndarray, b: np.ndarray) -> Estimate:
    return _mean((a - a.mean()) * (b - b.mean()))


def _corr(a: np.ndarray, b: np.ndarray) -> Estimate:
    sa, sb = a.std(), b.std()
    if sa == 0 or sb == 0:
        raise EvalError("corr() of a variable that does not vary")
    at, bt = (a - a.mean()) / sa, (b - b.mean()) / sb
    r = float((at * bt).mean())
    influence = (at * bt - r / 2 * (at**2 + bt**2)).mean(axis=1)
    return Estimate(r, influence - influence.mean())


def _quantile(x: np.ndarray, q: float) -> Estimate:
    flat = x.reshape(-1)
    xi = float(np.quantile(flat, q))
    spread = min(float(flat.std()), float(np.subtract(*np.quantile(flat, [0.75, 0.25]))) / 1.34)
    if spread <= 0:
        spread = float(flat.std())
    if spread <= 0:
        return Estimate(xi, np.zeros(x.shape[0]))
    h = 1.06 * spread * flat.size ** -0.2
    density = float(np.mean(np.abs(flat - xi) <= h)) / (2 * h)
    below = (x <= xi).mean(axis=1)
    influence = (q - below) / density
    return Estimate(xi, influence - influence.mean())
