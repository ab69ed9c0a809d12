"""Two definitions of one variable, simulated independently, compared.

A card that writes `X ~ N(θ, σ²)` and later `X = θ + ε` claims the two are the same
distribution; `compare_draws` tests that claim on the draws. Agreement needs all three of:
a two-sample Kolmogorov–Smirnov test (Kolmogorov's asymptotic p-value: scipy's exact and
finite-n forms cost milliseconds at n = 10,000 and say nothing more there) with p ≥ `KS_ALPHA` (1e-4), and the means and the
variances within `Z_THRESHOLD` (4) standard errors of each other (the variance test catches
differences in spread that KS sees late). With both samples from the same law, a false alarm
happens about once in 5,000 comparisons. Plated variables are compared on all their elements
pooled.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from notecards.sim.describe import moments
from notecards.sim.model import Comparison

KS_ALPHA = 1e-4
Z_THRESHOLD = 4.0


def summary(x: np.ndarray) -> dict[str, float]:
    """A definition's moments with its variance up front: the variance is what a structural
    equation most often gets wrong (a forgotten σ²), so it is what the card shows."""
    pooled = moments(x)
    return {"mean": pooled["mean"], "var": pooled["sd"] ** 2, **pooled}


def summary_text(summary: dict[str, float]) -> str:
    """`mean 0.01, var 5`: one definition's summary in the caption, the warning and the report."""
    return ", ".join(f"{key} {summary[key]:.4g}" for key in ("mean", "var"))


def compare_draws(name: str, line: int, first: np.ndarray, second: np.ndarray) -> Comparison:
    a = np.asarray(first, dtype=float).reshape(-1)
    b = np.asarray(second, dtype=float).reshape(-1)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    p_value = ks_two_sample_p(a, b)
    z_mean = _z(a.mean() - b.mean(), a.var() / a.size + b.var() / b.size)
    z_var = _z(a.var() - b.var(), _var_se2(a) + _var_se2(b))
    agree = p_value >= KS_ALPHA and abs(z_mean) < Z_THRESHOLD and abs(z_var) < Z_THRESHOLD
    first_summary, second_summary = summary(a), summary(b)
    first_summary["z_mean"] = second_summary["z_mean"] = z_mean
    first_summary["z_var"] = second_summary["z_var"] = z_var
    return Comparison(name=name, line=line, first=first_summary, second=second_summary,
                      p_value=p_value, agree=bool(agree))


def ks_two_sample_p(a: np.ndarray, b: np.ndarray) -> float:
    """Asymptotic p-value of the two-sample KS statistic sup |F_a − F_b|."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    distance = np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                             - np.searchsorted(b, grid, side="right") / b.size))
    effective = a.size * b.size / (a.size + b.size)
    return float(stats.kstwobign.sf(math.sqrt(effective) * distance))


def _var_se2(x: np.ndarray) -> float:
    """Squared standard error of the sample variance: (m4 − σ⁴)/n."""
    centred = x - x.mean()
    return float(((centred**2) ** 2).mean() - centred.var() ** 2) / x.size


def _z(difference: float, se2: float) -> float:
    if se2 > 0 and math.isfinite(se2):
        return float(difference / math.sqrt(se2))
    return 0.0 if difference == 0 else math.copysign(math.inf, difference)
