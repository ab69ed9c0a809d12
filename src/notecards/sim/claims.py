"""A posterior is a claim, not a model: check a card's `θ | x ~ Law(…)` against its own model.

The card's prior and likelihood fix the posterior; the card's formula for it may be wrong. The
claim is checked at generic values of the symbols the card leaves free — two sets, each symbol
scaled by a different factor, so a formula right only when τ = σ (or only at the defaults) is
caught — with the data x at a generic value (the 70 % quantile of its prior predictive):

- closed form where the pair is conjugate in the simplest way: θ ~ Normal(m, v) with constant
  arguments and x ~ Normal(θ, s²) with constant s² (posterior precision 1/v + 1/s²);
- else by simulation: the model's draws of θ weighted by the likelihood of x (self-normalised
  importance sampling), with tolerances from the effective sample size.

The claimed law's mean and variance are compared with the posterior's. A mismatch is a warning at
the formula's line, and the card shows both distributions. The claim is never drawn as if it
were the model (the LaTeX reader keeps it out of the model's nodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from notecards.sim import distributions
from notecards.sim.expr import EvalError, Evaluator, Val
from notecards.sim.lang import value_of
from notecards.sim.model import ModelSpec, Node, PosteriorClaim
from notecards.types import Diagnostic

GENERIC_FACTORS = ((1.37, 0.62, 1.91, 0.83, 1.55, 0.71, 1.23), (0.58, 1.74, 0.91, 1.46, 0.67, 2.05, 1.12))
DATA_QUANTILE = 0.7
DRAWS = 200_000
EXACT_TOLERANCE = 1e-6
Z_LIMIT = 5.0


@dataclass
class ClaimResult:
    """One claim checked: the claimed and the model's posterior (mean, var), where, and how."""

    line: int
    name: str
    given: str
    claimed: tuple[float, float]
    posterior: tuple[float, float]
    at: dict[str, float]
    method: str                  # "closed form" or "simulation"
    agree: bool | None           # None: could not be checked (the reason is in `note`)
    note: str = ""


def check_claims(spec: ModelSpec, seed: int) -> tuple[list[ClaimResult], list[Diagnostic]]:
    results, diagnostics = [], []
    for claim in spec.claims:
        result = check_claim(spec, claim, seed)
        results.append(result)
        if result.agree is False:
            diagnostics.append(Diagnostic(spec.path, claim.node.line, "warning", mismatch_text(result)))
        elif result.agree is None:
            diagnostics.append(Diagnostic(spec.path, claim.node.line, "info",
                                          f"posterior claim for {result.name} not checked: {result.note}"))
    return results, diagnostics


def mismatch_text(r: ClaimResult) -> str:
    at = ", ".join(f"{k} = {v:.4g}" for k, v in r.at.items())
    return (f"the card's posterior for {r.name} | {r.given} does not follow from its model: at {at} it has "
            f"mean {r.claimed[0]:.4g}, var {r.claimed[1]:.4g}; the model's posterior ({r.method}) has "
            f"mean {r.posterior[0]:.4g}, var {r.posterior[1]:.4g}")


def check_claim(spec: ModelSpec, claim: PosteriorClaim, seed: int) -> ClaimResult:
    """The claim at both generic settings; the first disagreement is the one reported."""
    target = claim.node.name
    data = [g for g in claim.given if g in spec.nodes and spec.nodes[g].kind == "stochastic" and g != target]
    blank = ClaimResult(claim.node.line, target, ", ".join(claim.given), (math.nan,) * 2, (math.nan,) * 2,
                        {}, "", None)
    problem = _uncheckable(spec, claim, data)
    if problem:
        return replace(blank, note=problem)
    result = blank
    for factors in GENERIC_FACTORS:
        try:
            result = _check_at(spec, claim, data[0], _generic_values(spec, factors), seed)
        except (EvalError, ValueError, ZeroDivisionError, FloatingPointError) as exc:
            return replace(blank, note=f"could not evaluate it ({exc})")
        if not result.agree:
            break
    return result


def _uncheckable(spec: ModelSpec, claim: PosteriorClaim, data: list[str]) -> str:
    node = spec.nodes.get(claim.node.name)
    if node is None or node.kind != "stochastic" or node.plates:
        return f"{claim.node.name} is not a scalar draw of the model"
    lawless = [g for g in claim.given if g not in spec.nodes]
    if lawless or not data:
        return f"the card gives no law for {', '.join(lawless or claim.given)}, so its model implies no posterior"
    if len(data) != 1 or spec.nodes[data[0]].plates:
        return "only a posterior given one scalar draw of the model is checked"
    if distributions.REGISTRY[claim.node.dist].event_vector:
        return "its law draws vectors"
    return ""


def _generic_values(spec: ModelSpec, factors: tuple[float, ...]) -> dict[str, float]:
    """The card's free symbols scaled off their defaults (plate sizes and counts kept whole)."""
    plates = {",".join(n.plates) for n in spec.nodes.values() if n.plates}
    out = {}
    for k, (name, value) in enumerate(spec.defaults.items()):
        whole = float(value).is_integer() and value >= 2
        out[name] = value if name in plates or whole or value == 0 else value * factors[k % len(factors)]
    return out


def _check_at(spec: ModelSpec, claim: PosteriorClaim, data: str, values: dict[str, float],
              seed: int) -> ClaimResult:
    from notecards.sim.sample import simulate

    nodes = {name: (replace(node, value=values[name]) if name in values else node)
             for name, node in spec.nodes.items()}
    generic = replace(spec, nodes=nodes, n=DRAWS, checks=[], alternatives=[], claims=[], show=None)
    result, _ = simulate(generic, np.random.SeedSequence([seed, 7]))
    x = float(np.quantile(result.draws[data], DATA_QUANTILE, method="nearest"))
    constants = {n.name: value_of(n) for n in nodes.values() if n.kind in ("const", "data") and n.value is not None}
    claimed = _moments(claim.node, {**constants, data: Val(np.array([x]))})
    exact = _normal_normal(nodes, claim.node.name, data, constants, x)
    at = {**{k: float(np.asarray(v.array).reshape(-1)[0]) for k, v in constants.items() if k in claim.node.parents
             or k in values}, data: x}
    base = ClaimResult(claim.node.line, claim.node.name, data, claimed, (math.nan, math.nan), at, "", False)
    if exact is not None:
        agree = all(abs(c - e) <= EXACT_TOLERANCE * (1 + abs(e)) for c, e in zip(claimed, exact))
        return replace(base, posterior=exact, method="closed form", agree=agree)
    mean, var, ess = _importance(nodes[data], result.draws, constants, claim.node.name, x)
    z_mean = abs(claimed[0] - mean) / math.sqrt(var / ess)
    z_var = abs(claimed[1] - var) / (var * math.sqrt(2 / ess))
    return replace(base, posterior=(mean, var), method=f"simulation, {ess:.0f} effective draws",
                   agree=bool(z_mean < Z_LIMIT and z_var < Z_LIMIT))


def _moments(node: Node, env: dict[str, Val]) -> tuple[float, float]:
    """Mean and variance of a law whose arguments evaluate to numbers in `env`."""
    evaluator = Evaluator(env)
    args = {k: float(np.asarray(evaluator.eval(e).array).reshape(-1)[0]) for k, e in node.args.items()}
    frozen = distributions.REGISTRY[node.dist].scipy_frozen(args)
    return float(frozen.mean()), float(frozen.var())


def _normal_normal(nodes: dict[str, Node], target: str, data: str, constants: dict[str, Val],
                   x: float) -> tuple[float, float] | None:
    """θ ~ N(m, v), x ~ N(θ, s²) with m, v, s² constant: the posterior in closed form."""
    prior, likelihood = nodes[target], nodes[data]
    if prior.dist != "Normal" or likelihood.dist != "Normal":
        return None
    mean = likelihood.args["mean"]
    if mean.op != "name" or mean.value != target:
        return None
    try:
        m, v = _moments(prior, constants)
        s2 = float(np.asarray(Evaluator(constants).eval(likelihood.args["var"]).array).reshape(-1)[0])
    except EvalError:                    # an argument reads another draw: not this simple pair
        return None
    precision = 1 / v + 1 / s2
    return (m / v + x / s2) / precision, 1 / precision


def _importance(likelihood: Node, draws: dict[str, np.ndarray], constants: dict[str, Val], target: str,
                x: float) -> tuple[float, float, float]:
    """Posterior mean, variance and effective sample size of `target` by weighting its prior draws
    with the likelihood of the data value x."""
    env = {**constants, **{k: Val(np.asarray(v, dtype=float)) for k, v in draws.items() if np.ndim(v) == 1}}
    evaluator = Evaluator(env)
    args = {k: np.asarray(evaluator.eval(e).array, dtype=float) for k, e in likelihood.args.items()}
    dist = distributions.REGISTRY[likelihood.dist]
    frozen = dist.scipy_frozen(args)
    with np.errstate(all="ignore"):
        log_w = frozen.logpmf(x) if dist.discrete else frozen.logpdf(x)
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    w = np.exp(log_w - np.max(log_w))
    w /= w.sum()
    theta = np.asarray(draws[target], dtype=float)
    mean = float(np.sum(w * theta))
    return mean, float(np.sum(w * (theta - mean) ** 2)), float(1 / np.sum(w ** 2))
