"""Log densities in the notes' parameterisation, in plain numpy, and each law's support.

The samplers evaluate these thousands of times per fit on small arrays; building a scipy frozen
distribution per call costs more than the arithmetic, so the few formulas live here, broadcasting
over (chains, elements). Arguments arrive under the canonical names of the sim registry
(Normal: mean + var | sd | prec, Gamma: shape + rate | scale, InverseGamma: shape + scale, …);
`arg` accepts the documented aliases so a keyword form of a law works the same.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
from scipy import special

LOG_2PI = float(np.log(2.0 * np.pi))
Args = Mapping[str, np.ndarray]


def arg(args: Args, *names: str) -> np.ndarray:
    """The first argument present among `names` (canonical name first, then aliases)."""
    for name in names:
        if name in args:
            return args[name]
    raise KeyError(f"missing argument {names[0]}")


def normal_variance(args: Args) -> np.ndarray:
    """A Normal's variance whichever of var=, sd= or prec= the user wrote."""
    if "var" in args:
        return args["var"]
    if "sd" in args:
        return np.square(args["sd"])
    return 1.0 / args["prec"]


def gamma_rate(args: Args) -> np.ndarray:
    return args["rate"] if "rate" in args else 1.0 / arg(args, "scale")


def scaled_inv_chi2_as_inverse_gamma(args: Args) -> tuple[np.ndarray, np.ndarray]:
    """Scaled-Inv-χ²(ν, s²) is Inverse-Gamma(ν/2, ν s²/2): one conjugate update serves both."""
    nu = arg(args, "nu", "df")
    s2 = arg(args, "s2", "scale", "tau2")
    return nu / 2.0, nu * s2 / 2.0


def _normal(x, a):
    v = normal_variance(a)
    return -0.5 * (LOG_2PI + np.log(v) + np.square(x - a["mean"]) / v)


def _half_normal(x, a):
    v = normal_variance(a)
    return np.where(x >= 0, 0.5 * np.log(2.0 / np.pi) - 0.5 * np.log(v) - x * x / (2 * v), -np.inf)


def _lognormal(x, a):
    v = normal_variance(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(x)
        return np.where(x > 0, -lx - 0.5 * (LOG_2PI + np.log(v) + np.square(lx - a["mean"]) / v),
                        -np.inf)


def _student_t(x, a):
    df, loc, scale = arg(a, "df", "nu"), arg(a, "loc", "mean"), arg(a, "scale")
    z = (x - loc) / scale
    return (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
            - np.log(scale) - (df + 1) / 2 * np.log1p(z * z / df))


def _cauchy(x, a):
    loc, scale = arg(a, "loc", "mean"), arg(a, "scale")
    z = (x - loc) / scale
    return -np.log(np.pi * scale) - np.log1p(z * z)


def _half_cauchy(x, a):
    scale = arg(a, "scale")
    z = x / scale
    return np.where(x >= 0, np.log(2.0 / (np.pi * scale)) - np.log1p(z * z), -np.inf)


def _exponential(x, a):
    rate = arg(a, "rate", "lambda")
    return np.where(x >= 0, np.log(rate) - rate * x, -np.inf)


def _gamma(x, a):
    shape, rate = arg(a, "shape", "alpha", "k"), gamma_rate(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, shape * np.log(rate) - special.gammaln(shape)
                        + (shape - 1) * np.log(x) - rate * x, -np.inf)


def _inverse_gamma_ab(x, shape, scale):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, shape * np.log(scale) - special.gammaln(shape)
                        - (shape + 1) * np.log(x) - scale / x, -np.inf)


def _inverse_gamma(x, a):
    return _inverse_gamma_ab(x, arg(a, "shape", "alpha", "a"), arg(a, "scale", "beta", "b"))


def _scaled_inv_chi2(x, a):
    return _inverse_gamma_ab(x, *scaled_inv_chi2_as_inverse_gamma(a))


def _beta(x, a):
    p, q = arg(a, "a", "alpha"), arg(a, "b", "beta")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x > 0) & (x < 1), (p - 1) * np.log(x) + (q - 1) * np.log1p(-x)
                        - special.betaln(p, q), -np.inf)


def _uniform(x, a):
    low, high = arg(a, "low", "a", "lower"), arg(a, "high", "b", "upper")
    return np.where((x >= low) & (x <= high), -np.log(high - low), -np.inf)


def _poisson(x, a):
    rate = arg(a, "rate", "lambda", "mean")
    return special.xlogy(x, rate) - rate - special.gammaln(x + 1)


def _binomial(x, a):
    n, p = arg(a, "n", "trials"), arg(a, "p", "prob")
    return (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
            + special.xlogy(x, p) + special.xlog1py(n - x, -p))


def _bernoulli(x, a):
    p = arg(a, "p", "prob")
    return special.xlogy(x, p) + special.xlog1py(1 - x, -p)


LOG_DENSITIES: dict[str, Callable[[np.ndarray, Args], np.ndarray]] = {
    "Normal": _normal, "HalfNormal": _half_normal, "LogNormal": _lognormal,
    "StudentT": _student_t, "Cauchy": _cauchy, "HalfCauchy": _half_cauchy,
    "Exponential": _exponential, "Gamma": _gamma, "InverseGamma": _inverse_gamma,
    "ScaledInvChiSquare": _scaled_inv_chi2, "Beta": _beta, "Uniform": _uniform,
    "Poisson": _poisson, "Binomial": _binomial, "Bernoulli": _bernoulli,
}

POSITIVE = {"HalfNormal", "LogNormal", "HalfCauchy", "Exponential", "Gamma", "InverseGamma",
            "ScaledInvChiSquare"}
CONTINUOUS = set(LOG_DENSITIES) - {"Poisson", "Binomial", "Bernoulli"}


def log_density(dist: str, x: np.ndarray, args: Args) -> np.ndarray:
    return LOG_DENSITIES[dist](x, args)
