"""Log densities in the notes' parameterisation, in plain numpy, and each law's support.

The samplers evaluate these thousands of times per fit on small arrays; building a scipy frozen
distribution per call costs more than the arithmetic, so the few formulas live here, broadcasting
over (chains, elements). Arguments arrive under the canonical names of the sim registry (Normal:
mean, var; Gamma: shape, rate; InverseGamma: shape, scale; …): the sim language rewrites a keyword
form such as `Normal(0, prec=phi)` into them (`var = 1/phi`) when it parses the block.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
from scipy import special

LOG_2PI = float(np.log(2.0 * np.pi))
Args = Mapping[str, np.ndarray]


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


LOG_DENSITIES: dict[str, Callable[[np.ndarray, Args], np.ndarray]] = {
    "Normal": _normal, "HalfNormal": _half_normal, "LogNormal": _lognormal,
    "StudentT": _student_t, "Cauchy": _cauchy, "HalfCauchy": _half_cauchy,
    "Exponential": _exponential, "Gamma": _gamma, "InverseGamma": _inverse_gamma,
    "ScaledInvChiSquare": _scaled_inv_chi2, "Beta": _beta, "Uniform": _uniform,
    "Poisson": _poisson, "Binomial": _binomial, "Bernoulli": _bernoulli,
    "Geometric": _geometric, "NegativeBinomial": _negative_binomial,
}

POSITIVE = {"HalfNormal", "LogNormal", "HalfCauchy", "Exponential", "Gamma", "InverseGamma",
            "ScaledInvChiSquare"}
CONTINUOUS = set(LOG_DENSITIES) - {"Poisson", "Binomial", "Bernoulli", "Geometric", "NegativeBinomial"}


def log_density(dist: str, x: np.ndarray, args: Args) -> np.ndarray:
    return LOG_DENSITIES[dist](x, args)
