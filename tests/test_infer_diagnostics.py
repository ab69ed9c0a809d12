"""R-hat and ESS on draws whose answers are known: iid chains, AR(1) chains, and broken chains."""

import numpy as np
import pytest

from notecards.infer.diagnostics import ess_bulk, ess_tail, rhat


def ar1_chains(phi: float, chains: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((chains, n)) * np.sqrt(1 - phi**2)
    x = np.empty((chains, n))
    x[:, 0] = rng.standard_normal(chains)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def test_independent_draws_have_ess_near_their_number_and_rhat_near_one():
    draws = np.random.default_rng(1).standard_normal((4, 2000))
    assert ess_bulk(draws) == pytest.approx(8000, rel=0.1)
    assert ess_tail(draws) == pytest.approx(8000, rel=0.15)
    assert rhat(draws) < 1.005


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_autocorrelated_draws_have_the_ar1_effective_size(phi):
    # For AR(1) the integrated autocorrelation time is (1 + phi) / (1 - phi).
    draws = ar1_chains(phi, 4, 5000, seed=2)
    expected = draws.size * (1 - phi) / (1 + phi)
    assert ess_bulk(draws) == pytest.approx(expected, rel=0.15)


def test_a_chain_stuck_elsewhere_raises_rhat():
    draws = np.random.default_rng(3).standard_normal((4, 1000))
    draws[0] += 1.0
    assert rhat(draws) > 1.05


def test_a_drifting_chain_is_caught_by_splitting():
    # Every chain has the same overall mean, but each drifts: only split R-hat sees it.
    drift = np.linspace(-1.5, 1.5, 1000)
    draws = np.random.default_rng(4).standard_normal((4, 1000)) + drift
    assert rhat(draws) > 1.05


def test_chains_with_different_spread_are_caught_by_the_folded_rhat():
    draws = np.random.default_rng(5).standard_normal((4, 1000))
    draws[0] *= 3.0
    assert rhat(draws) > 1.01


def test_heavy_tails_do_not_break_the_rank_normalised_estimates():
    draws = np.random.default_rng(6).standard_cauchy((4, 2000))
    assert rhat(draws) < 1.01
    assert ess_bulk(draws) == pytest.approx(8000, rel=0.1)


def test_chains_that_disagree_are_worth_few_draws():
    # Four chains, each iid around its own centre: pooled, they say little about the mean.
    draws = np.random.default_rng(7).standard_normal((4, 1000)) + np.array([[-3.0], [-1.0], [1.0], [3.0]])
    assert ess_bulk(draws) < 100
