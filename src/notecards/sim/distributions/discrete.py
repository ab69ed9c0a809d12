"""The discrete laws (draws stored as floats, so they mix freely with other values), each with
its sampler, log density and scipy equivalent, in the notes' parameterisations."""

from __future__ import annotations

from typing import Any

import numpy as np

from notecards.sim.distributions.base import Args, Distribution, Param, special, stats, vector_args


def _categorical(rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
    p = vector_args(args, size, "p")
    cumulative = np.cumsum(p, axis=-1)
    u = rng.random(size)[..., None] * cumulative[..., -1:]
    return (u >= cumulative).sum(axis=-1) + 1


def _multinomial(rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
    p = vector_args(args, size, "p")
    trials = np.broadcast_to(np.asarray(args["n"]), size).astype(np.int64)
    return rng.multinomial(trials, p / p.sum(axis=-1, keepdims=True))


def _categorical_frozen(args: dict[str, Any]) -> Any:
    p = np.asarray(args["p"], dtype=float)
    return stats.rv_discrete(values=(np.arange(1, p.size + 1), p / p.sum()))


def _poisson(x, a):
    rate = a["rate"]
    return special.xlogy(x, rate) - rate - special.gammaln(x + 1)


def _binomial(x, a):
    n, p = a["n"], a["p"]
    return (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
            + special.xlogy(x, p) + special.xlog1py(n - x, -p))


def _bernoulli(x, a):
    p = a["p"]
    return special.xlogy(x, p) + special.xlog1py(1 - x, -p)


def _geometric(x, a):
    p = a["p"]
    return special.xlog1py(x - 1, -p) + np.log(p)


def _negative_binomial(x, a):
    r, p = a["r"], a["p"]
    return (special.gammaln(x + r) - special.gammaln(r) - special.gammaln(x + 1)
            + special.xlogy(r, p) + special.xlog1py(x, -p))


DISCRETE = [
    Distribution(
        "Bernoulli", (Param("p", "probability", "unit"),),
        lambda rng, a, s: rng.random(s) < a["p"],
        lambda a: stats.bernoulli(a["p"]),
        aliases=("Bern",), discrete=True, support="count",
        log_density=_bernoulli),
    Distribution(
        "Binomial", (Param("n", "number of trials", "count"), Param("p", "probability", "unit")),
        lambda rng, a, s: rng.binomial(np.asarray(a["n"]).astype(np.int64), a["p"], s),
        lambda a: stats.binom(int(a["n"]), a["p"]),
        aliases=("Binom", "Bin"), discrete=True, support="count",
        log_density=_binomial),
    Distribution(
        "Poisson", (Param("rate", "rate", "positive"),),
        lambda rng, a, s: rng.poisson(a["rate"], s),
        lambda a: stats.poisson(a["rate"]),
        aliases=("Pois", "Poi"), keywords={"lambda": ("rate", lambda e: e)},
        discrete=True, support="count",
        log_density=_poisson),
    Distribution(
        "Categorical", (Param("p", "probabilities", "simplex"),),
        _categorical, _categorical_frozen,
        aliases=("Cat", "Discrete"), discrete=True, support="category"),
    Distribution(
        "Multinomial", (Param("n", "number of trials", "count"), Param("p", "probabilities", "simplex")),
        _multinomial, lambda a: stats.multinomial(int(a["n"]), np.asarray(a["p"], dtype=float)),
        aliases=("Mult", "Multi"), discrete=True, support="counts"),
    Distribution(
        "Geometric", (Param("p", "probability of success", "unit"),),
        lambda rng, a, s: rng.geometric(a["p"], s),
        lambda a: stats.geom(a["p"]),
        aliases=("Geom", "Geo"), discrete=True, support="count",
        log_density=_geometric),
    Distribution(
        "NegativeBinomial", (Param("r", "number of successes", "positive"), Param("p", "probability", "unit")),
        lambda rng, a, s: rng.negative_binomial(a["r"], a["p"], s),
        lambda a: stats.nbinom(a["r"], a["p"]),
        aliases=("NB", "NegBin", "NegBinom", "Negative-Binomial"), discrete=True, support="count",
        log_density=_negative_binomial),
]
