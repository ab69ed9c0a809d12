"""The continuous laws, each with its sampler, log density (plain numpy: the samplers of a fit
evaluate them thousands of times on small arrays, where a frozen scipy distribution per call
would cost more than the arithmetic) and scipy equivalent, in the notes' parameterisations."""

from __future__ import annotations

from typing import Any

import numpy as np

from notecards.sim.distributions.base import (Args, Distribution, Param, reciprocal, special, square, stats,
                                              vector_args)

LOG_2PI = float(np.log(2.0 * np.pi))


def _standard_gamma(rng: np.random.Generator, shape: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """Gamma(shape, 1) draws; a shape shared by all draws takes numpy's fast scalar path."""
    shape = np.asarray(shape, dtype=float)
    if shape.size == 1:
        return rng.standard_gamma(float(shape.reshape(-1)[0]), size)
    return rng.standard_gamma(np.broadcast_to(shape, size))


def _standard_t(rng: np.random.Generator, df: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    if df.size == 1:
        return rng.standard_t(float(df.reshape(-1)[0]), size)
    return rng.standard_t(np.broadcast_to(df, size))


def _dirichlet(rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
    alpha = vector_args(args, size, "alpha")
    g = rng.standard_gamma(alpha)
    return g / g.sum(axis=-1, keepdims=True)


def _sqrt(x: Any) -> Any:
    return np.sqrt(np.asarray(x, dtype=float))


def scaled_inv_chi2_as_inverse_gamma(args: Args) -> tuple[np.ndarray, np.ndarray]:
    """Scaled-Inv-χ²(ν, s²) is Inverse-Gamma(ν/2, ν s²/2): one conjugate update serves both."""
    return args["nu"] / 2.0, args["nu"] * args["s2"] / 2.0


def _normal(x, a):
    v = a["var"]
    return -0.5 * (LOG_2PI + np.log(v) + np.square(x - a["mean"]) / v)


def _half_normal(x, a):
    v = a["var"]
    return np.where(x >= 0, 0.5 * np.log(2.0 / np.pi) - 0.5 * np.log(v) - x * x / (2 * v), -np.inf)


def _lognormal(x, a):
    v = a["var"]
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(x)
        return np.where(x > 0, -lx - 0.5 * (LOG_2PI + np.log(v) + np.square(lx - a["mean"]) / v),
                        -np.inf)


def _student_t(x, a):
    df, loc, scale = a["df"], a["loc"], a["scale"]
    z = (x - loc) / scale
    return (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
            - np.log(scale) - (df + 1) / 2 * np.log1p(z * z / df))


def _cauchy(x, a):
    loc, scale = a["loc"], a["scale"]
    z = (x - loc) / scale
    return -np.log(np.pi * scale) - np.log1p(z * z)


def _half_cauchy(x, a):
    scale = a["scale"]
    z = x / scale
    return np.where(x >= 0, np.log(2.0 / (np.pi * scale)) - np.log1p(z * z), -np.inf)


def _exponential(x, a):
    rate = a["rate"]
    return np.where(x >= 0, np.log(rate) - rate * x, -np.inf)


def _gamma(x, a):
    shape, rate = a["shape"], a["rate"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, shape * np.log(rate) - special.gammaln(shape)
                        + (shape - 1) * np.log(x) - rate * x, -np.inf)


def _inverse_gamma_ab(x, shape, scale):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, shape * np.log(scale) - special.gammaln(shape)
                        - (shape + 1) * np.log(x) - scale / x, -np.inf)


def _inverse_gamma(x, a):
    return _inverse_gamma_ab(x, a["shape"], a["scale"])


def _scaled_inv_chi2(x, a):
    return _inverse_gamma_ab(x, *scaled_inv_chi2_as_inverse_gamma(a))


def _beta(x, a):
    p, q = a["a"], a["b"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x > 0) & (x < 1), (p - 1) * np.log(x) + (q - 1) * np.log1p(-x)
                        - special.betaln(p, q), -np.inf)


def _uniform(x, a):
    low, high = a["low"], a["high"]
    return np.where((x >= low) & (x <= high), -np.log(high - low), -np.inf)


CONTINUOUS = [
    Distribution(
        "Normal", (Param("mean", "mean", "real"), Param("var", "variance", "positive")),
        lambda rng, a, s: a["mean"] + np.sqrt(a["var"]) * rng.standard_normal(s),
        lambda a: stats.norm(loc=a["mean"], scale=_sqrt(a["var"])),
        aliases=("N", "Gaussian", "Norm"),
        keywords={"sd": ("var", square), "prec": ("var", reciprocal),
                  "sigma": ("var", square), "variance": ("var", lambda e: e)},
        log_density=_normal),
    Distribution(
        "HalfNormal", (Param("var", "variance", "positive"),),
        lambda rng, a, s: np.sqrt(a["var"]) * np.abs(rng.standard_normal(s)),
        lambda a: stats.halfnorm(scale=_sqrt(a["var"])),
        aliases=("Half-Normal", "HalfGaussian", "HN"),
        keywords={"sd": ("var", square), "sigma": ("var", square)}, support="positive",
        log_density=_half_normal),
    Distribution(
        "LogNormal", (Param("mean", "mean of the log", "real"),
                      Param("var", "variance of the log", "positive")),
        lambda rng, a, s: np.exp(a["mean"] + np.sqrt(a["var"]) * rng.standard_normal(s)),
        lambda a: stats.lognorm(s=_sqrt(a["var"]), scale=np.exp(a["mean"])),
        aliases=("Log-Normal", "LogN", "LN"),
        keywords={"sd": ("var", square), "sigma": ("var", square)}, support="positive",
        log_density=_lognormal),
    Distribution(
        "StudentT", (Param("df", "degrees of freedom", "positive"),
                     Param("loc", "location", "real", 0.0),
                     Param("scale", "scale", "positive", 1.0)),
        lambda rng, a, s: a["loc"] + a["scale"] * _standard_t(rng, a["df"], s),
        lambda a: stats.t(df=a["df"], loc=a["loc"], scale=a["scale"]),
        aliases=("T", "Student", "Student-T", "StudentsT", "Student_t"),
        keywords={"nu": ("df", lambda e: e)},
        log_density=_student_t),
    Distribution(
        "Cauchy", (Param("loc", "location", "real", 0.0), Param("scale", "scale", "positive", 1.0)),
        lambda rng, a, s: a["loc"] + a["scale"] * rng.standard_cauchy(s),
        lambda a: stats.cauchy(loc=a["loc"], scale=a["scale"]),
        log_density=_cauchy),
    Distribution(
        "HalfCauchy", (Param("scale", "scale", "positive", 1.0),),
        lambda rng, a, s: np.abs(a["scale"] * rng.standard_cauchy(s)),
        lambda a: stats.halfcauchy(scale=a["scale"]),
        aliases=("Half-Cauchy", "HC"), support="positive",
        log_density=_half_cauchy),
    Distribution(
        "Exponential", (Param("rate", "rate", "positive"),),
        lambda rng, a, s: rng.standard_exponential(s) / a["rate"],
        lambda a: stats.expon(scale=1.0 / np.asarray(a["rate"], dtype=float)),
        aliases=("Exp", "Expon"), keywords={"scale": ("rate", reciprocal)},
        support="positive",
        log_density=_exponential),
    Distribution(
        "Gamma", (Param("shape", "shape", "positive"), Param("rate", "rate", "positive")),
        lambda rng, a, s: _standard_gamma(rng, a["shape"], s) / a["rate"],
        lambda a: stats.gamma(a=a["shape"], scale=1.0 / np.asarray(a["rate"], dtype=float)),
        aliases=("Ga",), keywords={"scale": ("rate", reciprocal)}, support="positive",
        log_density=_gamma),
    Distribution(
        "InverseGamma", (Param("shape", "shape", "positive"), Param("scale", "scale", "positive")),
        lambda rng, a, s: a["scale"] / _standard_gamma(rng, a["shape"], s),
        lambda a: stats.invgamma(a=a["shape"], scale=a["scale"]),
        aliases=("InvGamma", "IG", "Inv-Gamma", "Inverse-Gamma", "InvGa"),
        support="positive",
        log_density=_inverse_gamma),
    Distribution(
        "ScaledInvChiSquare", (Param("nu", "degrees of freedom", "positive"),
                               Param("s2", "scale s²", "positive")),
        lambda rng, a, s: a["nu"] * a["s2"] / (2 * _standard_gamma(rng, a["nu"] / 2, s)),
        lambda a: stats.invgamma(a=np.asarray(a["nu"]) / 2,
                                 scale=np.asarray(a["nu"]) * np.asarray(a["s2"]) / 2),
        aliases=("Scaled-Inv-Chi-Square", "ScaledInvChi2", "ScaledInvChiSq", "Scaled-Inv-Chi2",
                 "ScaledInverseChiSquare", "Inv-Chi2-Scaled"),
        keywords={"df": ("nu", lambda e: e)}, support="positive",
        log_density=_scaled_inv_chi2),
    Distribution(
        "Beta", (Param("a", "a", "positive"), Param("b", "b", "positive")),
        lambda rng, a, s: rng.beta(a["a"], a["b"], s),
        lambda a: stats.beta(a["a"], a["b"]),
        keywords={"alpha": ("a", lambda e: e), "beta": ("b", lambda e: e)}, support="unit",
        log_density=_beta),
    Distribution(
        "Uniform", (Param("low", "lower bound", "real", 0.0), Param("high", "upper bound", "real", 1.0)),
        lambda rng, a, s: a["low"] + (a["high"] - a["low"]) * rng.random(s),
        lambda a: stats.uniform(loc=a["low"], scale=np.asarray(a["high"]) - np.asarray(a["low"])),
        aliases=("U", "Unif"),
        log_density=_uniform),
    Distribution(
        "Dirichlet", (Param("alpha", "concentrations", "positive_vector"),),
        _dirichlet, lambda a: stats.dirichlet(np.asarray(a["alpha"], dtype=float)),
        aliases=("Dir",), support="simplex"),
]
