"""Convergence diagnostics: rank-normalised split R-hat and effective sample size.

Written with numpy/scipy after Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-
normalization, folding, and localization: an improved R-hat", following ArviZ's formulas so the
numbers on a card match what a reader would get from ArviZ or Stan:

- R-hat is the larger of the bulk R-hat (split chains, rank-normalised) and the tail R-hat
  (the same on the folded draws |x - median|);
- bulk ESS is the ESS of the rank-normalised split chains, with Geyer's initial monotone sequence
  on the multi-chain autocorrelation; tail ESS is the smaller ESS of the 5% and 95% quantile
  indicators.

All functions take draws shaped (chains, iterations).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats


def split_chains(draws: np.ndarray) -> np.ndarray:
    """Halve every chain so a drift within a chain shows up as disagreement between chains."""
    draws = np.asarray(draws, dtype=float)
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half:]], axis=0)


def rank_normalise(draws: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks: makes R-hat and ESS work for heavy tails too."""
    ranks = stats.rankdata(draws, method="average").reshape(draws.shape)
    return special.ndtri((ranks - 0.375) / (draws.size + 0.25))


def _rhat_of_split(split: np.ndarray) -> float:
    n = split.shape[1]
    within = np.mean(np.var(split, axis=1, ddof=1))
    between_over_n = np.var(np.mean(split, axis=1), ddof=1)
    if within == 0.0:
        return float("nan") if between_over_n == 0.0 else float("inf")
    return float(np.sqrt(((n - 1) / n * within + between_over_n) / within))


def rhat(draws: np.ndarray) -> float:
    """Rank-normalised split R-hat: max of the bulk and the folded (tail) versions."""
    split = split_chains(draws)
    if _is_constant(split):
        return float("nan")
    bulk = _rhat_of_split(rank_normalise(split))
    folded = np.abs(split - np.median(split))
    tail = _rhat_of_split(rank_normalise(folded))
    return max(bulk, tail)


def _is_constant(draws: np.ndarray) -> bool:
    return bool(np.all(draws == draws.flat[0]))


def _autocovariance(chains: np.ndarray) -> np.ndarray:
    """Biased autocovariance of every chain by FFT, as in ArviZ (divides by n)."""
    n = chains.shape[1]
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=1)[:, :n]
    return acov / n


def ess_of_chains(chains: np.ndarray) -> float:
    """ESS of already split/normalised chains (Geyer's initial monotone sequence estimator)."""
    chains = np.asarray(chains, dtype=float)
    n_chain, n_draw = chains.shape
    if n_draw < 4 or _is_constant(chains):
        return float("nan")
    acov = _autocovariance(chains)
    mean_acov = acov.mean(axis=0)
    mean_var = mean_acov[0] * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(chains.mean(axis=1), ddof=1)
    rho = np.zeros(n_draw)
    rho[0] = 1.0
    rho_even, rho_odd = 1.0, 1.0 - (mean_var - mean_acov[1]) / var_plus
    rho[1] = rho_odd
    t = 1
    while t < n_draw - 3 and rho_even + rho_odd > 0.0:
        rho_even = 1.0 - (mean_var - mean_acov[t + 1]) / var_plus
        rho_odd = 1.0 - (mean_var - mean_acov[t + 2]) / var_plus
        if rho_even + rho_odd >= 0.0:
            rho[t + 1], rho[t + 2] = rho_even, rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0.0:
        rho[max_t + 1] = rho_even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    total = n_chain * n_draw
    tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1: max_t + 2])
    tau = max(tau, 1.0 / np.log10(total))
    return float(total / tau)


def ess_bulk(draws: np.ndarray) -> float:
    """Bulk ESS: how many independent draws the posterior mean and median are worth."""
    return ess_of_chains(rank_normalise(split_chains(draws)))


def ess_tail(draws: np.ndarray) -> float:
    """Tail ESS: the smaller ESS of the 5% and 95% quantile estimates (the 90% interval)."""
    split = split_chains(draws)
    values = []
    for q in (0.05, 0.95):
        indicator = (split <= np.quantile(split, q)).astype(float)
        values.append(ess_of_chains(indicator))
    return float(np.nanmin(values)) if not np.all(np.isnan(values)) else float("nan")
