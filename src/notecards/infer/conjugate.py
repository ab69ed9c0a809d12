"""Gibbs steps: exact draws from conjugate full conditionals.

A latent node gets a Gibbs step when its prior family and every use of it by a child form a
known conjugate pair. Each pair is written as the sufficient statistics one child element adds to
the prior's parameters, summed per parent element, so one rule serves a scalar (`mu`), a plate
(`theta[1..J]`) and grouped data (`theta[school[i]]`) alike:

| prior | child uses it as | adds per child element |
| --- | --- | --- |
| Normal(m, v) or Uniform(lo, hi) (flat, truncated) | Normal mean | precision 1/σ², precision·y |
| InverseGamma(a, b), Scaled-Inv-χ²(ν, s²) | Normal variance | ½, (y − m)²/2 |
| Gamma(a, rate b) | Normal precision (`prec=phi`, which the sim language reads as var 1/phi) | ½, (y − m)²/2 |
| Gamma(a, rate b) | Poisson rate / Exponential rate / Gamma rate (shape k) | y, 1 / 1, y / k, y |
| Beta(a, b) | Bernoulli p / Binomial p | y, 1 − y / y, n − y |
| Dirichlet(α) | Categorical p (values 1..K) / Multinomial p | counts |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from notecards.sim.distributions import scaled_inv_chi2_as_inverse_gamma

from .graph import Latent, ModelGraph, Reference

Stats = Callable[[np.ndarray, dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]] | None


def _normal_mean(y, a):
    precision = 1.0 / a["var"]
    return precision, precision * y


def _normal_squares(y, a):
    return np.full_like(y, 0.5, dtype=float), 0.5 * np.square(y - a["mean"])


def _count_and_value(y, a):
    return y, np.ones_like(y, dtype=float)


def _one_and_value(y, a):
    return np.ones_like(y, dtype=float), y


def _shape_and_value(y, a):
    return np.broadcast_to(a["shape"], np.broadcast_shapes(np.shape(a["shape"]), y.shape)), y


def _success_failure(y, a):
    return y, 1.0 - y


def _binomial_success_failure(y, a):
    return y, a["n"] - y


FAMILY = {"Normal": "normal", "Uniform": "normal", "InverseGamma": "inverse-gamma",
          "ScaledInvChiSquare": "inverse-gamma", "Gamma": "gamma", "Beta": "beta"}

RULES: dict[tuple[str, str, str, str], Stats] = {
    ("normal", "Normal", "mean", "direct"): _normal_mean,
    ("inverse-gamma", "Normal", "var", "direct"): _normal_squares,
    ("gamma", "Normal", "var", "inverse"): _normal_squares,
    ("gamma", "Poisson", "rate", "direct"): _count_and_value,
    ("gamma", "Exponential", "rate", "direct"): _one_and_value,
    ("gamma", "Gamma", "rate", "direct"): _shape_and_value,
    ("beta", "Bernoulli", "p", "direct"): _success_failure,
    ("beta", "Binomial", "p", "direct"): _binomial_success_failure,
}

LABELS = {"normal": "normal-normal conjugate", "inverse-gamma": "normal-inverse-gamma conjugate",
          "gamma": "gamma conjugate", "beta": "beta-binomial conjugate",
          "dirichlet": "Dirichlet-categorical conjugate"}


@dataclass(eq=False)
class ConjugateStep:
    """Draws one latent node from its conjugate full conditional, for all chains at once."""

    graph: ModelGraph
    latent: Latent
    family: str
    rules: list[tuple[Reference, Stats]]

    @property
    def label(self) -> str:
        return "gibbs: " + LABELS[self.family]

    def update(self, state: dict[str, np.ndarray], rng: np.random.Generator, adapt: bool) -> None:
        chains = next(iter(state.values())).shape[0]
        env = self.graph.env(state)
        prior = self.graph.args_of(self.latent.node, env)
        if self.family == "dirichlet":
            state[self.latent.name] = self._dirichlet(prior, state, rng, chains)
            return
        first, second = self._statistics(env, state, chains)
        state[self.latent.name] = DRAWS[self.family](prior, first, second, rng,
                                                    (chains, self.latent.size), self.latent.node.dist)

    def _statistics(self, env, state, chains) -> tuple[np.ndarray, np.ndarray]:
        first = np.zeros((chains, self.latent.size))
        second = np.zeros((chains, self.latent.size))
        for ref, stats in self.rules:
            child = self.graph.stochastic[ref.child]
            args = self.graph.args_of(child, env)
            y = self.graph.value_of(ref.child, state)
            a, b = stats(y, args)
            first += self.graph.group_sum(np.broadcast_to(a, np.broadcast_shapes(a.shape, y.shape)),
                                          self.latent, ref.groups, chains)
            second += self.graph.group_sum(np.broadcast_to(b, np.broadcast_shapes(b.shape, y.shape)),
                                           self.latent, ref.groups, chains)
        return first, second

    def _dirichlet(self, prior, state, rng, chains) -> np.ndarray:
        alpha = np.broadcast_to(prior["alpha"], (chains, self.latent.size)).copy()
        for ref, _ in self.rules:
            y = self.graph.value_of(ref.child, state)
            child = self.graph.stochastic[ref.child]
            if child.dist == "Categorical":
                alpha += np.bincount(y.astype(int).ravel() - 1, minlength=self.latent.size)
            else:
                alpha += np.asarray(child.observed, dtype=float).reshape(-1, self.latent.size).sum(0)
        gammas = rng.standard_gamma(alpha)
        return gammas / gammas.sum(axis=-1, keepdims=True)


def _draw_normal(prior, precision_sum, weighted_sum, rng, shape, dist):
    if dist == "Uniform":
        precision = np.maximum(precision_sum, 1e-300)
        mean = weighted_sum / precision
        return truncated_normal(mean, 1.0 / np.sqrt(precision), prior["low"], prior["high"], rng, shape)
    prior_precision = 1.0 / prior["var"]
    precision = prior_precision + precision_sum
    mean = (prior["mean"] * prior_precision + weighted_sum) / precision
    return mean + rng.standard_normal(shape) / np.sqrt(precision)


def _draw_inverse_gamma(prior, shape_add, scale_add, rng, shape, dist):
    if dist == "ScaledInvChiSquare":
        a, b = scaled_inv_chi2_as_inverse_gamma(prior)
    else:
        a, b = prior["shape"], prior["scale"]
    return (b + scale_add) / rng.standard_gamma(np.broadcast_to(a + shape_add, shape))


def _draw_gamma(prior, shape_add, rate_add, rng, shape, dist):
    a, rate = prior["shape"], prior["rate"]
    return rng.standard_gamma(np.broadcast_to(a + shape_add, shape)) / (rate + rate_add)


def _draw_beta(prior, success, failure, rng, shape, dist):
    return rng.beta(np.broadcast_to(prior["a"] + success, shape),
                    np.broadcast_to(prior["b"] + failure, shape))


DRAWS = {"normal": _draw_normal, "inverse-gamma": _draw_inverse_gamma, "gamma": _draw_gamma,
         "beta": _draw_beta}


def truncated_normal(mean, sd, low, high, rng, shape) -> np.ndarray:
    """Inverse-CDF draw from N(mean, sd²) restricted to [low, high] (a Uniform prior's bounds)."""
    mean, sd = np.broadcast_to(mean, shape), np.broadcast_to(sd, shape)
    lo = special.ndtr((low - mean) / sd)
    hi = special.ndtr((high - mean) / sd)
    u = lo + (hi - lo) * rng.uniform(size=shape)
    draw = mean + sd * special.ndtri(np.clip(u, 1e-300, 1 - 1e-16))
    return np.clip(draw, low, high)


def conjugate_step(graph: ModelGraph, latent: Latent) -> ConjugateStep | None:
    """The Gibbs step for `latent` if its prior and every use of it are conjugate, else None."""
    node = latent.node
    if not latent.refs:
        return None
    if node.dist == "Dirichlet":
        return _dirichlet_step(graph, latent)
    family = FAMILY.get(node.dist or "")
    if family is None or _prior_depends_on_itself(latent):
        return None
    if node.dist == "Uniform" and (latent.plated or not graph.args_known(node)):
        return None
    rules = []
    stochastic = graph.stochastic
    for ref in latent.refs:
        child = stochastic[ref.child]
        rule = RULES.get((family, child.dist or "", ref.arg, ref.form))
        if rule is None or (latent.plated and ref.groups is None):
            return None
        rules.append((ref, rule))
    return ConjugateStep(graph, latent, family, rules)


def _prior_depends_on_itself(latent: Latent) -> bool:
    return any(ref.child == latent.name for ref in latent.refs)


def _dirichlet_step(graph: ModelGraph, latent: Latent) -> ConjugateStep | None:
    stochastic = graph.stochastic
    rules = []
    for ref in latent.refs:
        child = stochastic[ref.child]
        if child.observed is None or child.dist not in ("Categorical", "Multinomial"):
            return None
        if ref.arg != "p" or ref.form != "direct":
            return None
        rules.append((ref, None))
    return ConjugateStep(graph, latent, "dirichlet", rules)
