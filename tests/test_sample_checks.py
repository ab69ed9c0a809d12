"""Ancestral sampling, checks within Monte Carlo error, and equivalence of two definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from notecards.sim.checks import Z_THRESHOLD
from notecards.sim.describe import summarise
from conftest import DESIGN_EXAMPLE
from notecards.sim.lang import parse_sim
from notecards.sim.sample import simulate

MUST_FAIL = """\
lambda = 4
sigma = 1
theta ~ Normal(0, lambda)
eps ~ Normal(theta, sigma^2)
X = theta + eps
check: var(X) ≈ lambda + sigma^2
"""

# Seed 000's card, as the LaTeX reader states it: the tilde model, then the structural
# equation with its (mistaken) noise term ε ~ N(θ, σ²).
SEED_000 = """\
theta ~ Normal(0, lambda)
X ~ Normal(theta, sigma^2)
X = theta + epsilon
epsilon ~ Normal(theta, sigma^2)
"""


def run(text: str, seed: int = 1, first_line: int = 1, origin: str = "sim"):
    spec, diags = parse_sim(text, "card.md", first_line, origin)
    assert spec is not None, diags
    return simulate(spec, seed)


def test_design_example_check_passes_and_draws_have_the_closed_form_marginal():
    result, diags = run(DESIGN_EXAMPLE, first_line=50)
    assert diags == []
    (check,) = result.checks
    assert check.passed and check.line == 55 and check.expected == 5
    assert abs(check.z) < Z_THRESHOLD
    x = result.draws["X"]
    assert x.shape == (20000,)
    assert stats.kstest(x, stats.norm(0, math.sqrt(5)).cdf).pvalue > 1e-4


def test_must_fail_example_fails_with_a_warning_at_the_check_line():
    result, diags = run(MUST_FAIL, first_line=10)
    (check,) = result.checks
    assert not check.passed and check.z > Z_THRESHOLD
    assert check.simulated == pytest.approx(17, rel=0.1)      # var(2θ + e) = 4λ + σ²
    (warning,) = diags
    assert (warning.line, warning.severity) == (15, "warning")
    assert "check failed: var(X) ≈ lambda + sigma^2" in warning.message


def test_same_seed_same_draws_and_other_seeds_differ():
    a, _ = run(DESIGN_EXAMPLE, seed=3)
    b, _ = run(DESIGN_EXAMPLE, seed=3)
    c, _ = run(DESIGN_EXAMPLE, seed=4)
    assert np.array_equal(a.draws["X"], b.draws["X"])
    assert not np.array_equal(a.draws["X"], c.draws["X"])
    via_sequence, _ = run(DESIGN_EXAMPLE, seed=np.random.SeedSequence(3))
    assert np.array_equal(a.draws["X"], via_sequence.draws["X"])


def test_seed_option_overrides_the_callers_seed():
    a, _ = run(DESIGN_EXAMPLE + "seed = 9\n", seed=1)
    b, _ = run(DESIGN_EXAMPLE + "seed = 9\n", seed=2)
    assert np.array_equal(a.draws["X"], b.draws["X"])


def test_adding_a_node_leaves_the_other_draws_unchanged():
    a, _ = run(DESIGN_EXAMPLE, seed=5)
    b, _ = run(DESIGN_EXAMPLE + "Y ~ Exponential(1)\n", seed=5)
    assert np.array_equal(a.draws["theta"], b.draws["theta"])


def test_seed_000_equivalence_claim_is_caught():
    result, diags = run(SEED_000, first_line=20, origin="latex")
    (comparison,) = result.comparisons
    assert comparison.name == "X" and comparison.line == 22 and not comparison.agree
    # λ = σ² = 1 by default: the tilde model has var λ + σ² = 2, the equation 4λ + σ² = 5
    assert comparison.first["var"] == pytest.approx(2, rel=0.1)
    assert comparison.second["var"] == pytest.approx(5, rel=0.1)
    warnings = [d for d in diags if d.severity == "warning"]
    assert [d.line for d in warnings] == [22]
    assert "not equivalent" in warnings[0].message and "var 2" in warnings[0].message
    assert set(result.draws) == {"theta", "X"}          # ε belongs to the alternative only


def test_corrected_equivalence_agrees():
    corrected = SEED_000.replace("epsilon ~ Normal(theta", "epsilon ~ Normal(0")
    result, diags = run(corrected, origin="latex")
    (comparison,) = result.comparisons
    assert comparison.agree and comparison.p_value > 1e-4
    assert diags == []


@pytest.mark.parametrize("check", [
    "mean(X) ≈ 0",
    "var(X) ≈ lambda + sigma^2",
    "sd(X) ≈ sqrt(lambda + sigma^2)",
    "cov(theta, X) ≈ lambda",
    "corr(theta, X) ≈ sqrt(lambda / (lambda + sigma^2))",
    "quantile(X, 0.95) ≈ 1.6448536 * sqrt(5)",
    "median(theta) ≈ 0",
    "P(X > 0) ≈ 0.5",
    "P(X > 0 and theta > 0) ≈ 0.25 + asin(0.8944272) / (2 * pi)",
    "E(X^2) ≈ 5",
    "var(X - theta) ≈ sigma^2",
    "var(X) ≈ var(theta) + sigma^2",
    "P(X > 10) < 0.01",
    "mean(X) > -1",
])
def test_true_checks_pass(check):
    text = DESIGN_EXAMPLE.replace("check: var(X) ≈ lambda + sigma^2", f"check: {check}")
    text = text.replace("asin(0.8944272)", "1.1071487")
    result, diags = run(text, seed=11)
    assert diags == [] and result.checks[0].passed, result.checks


@pytest.mark.parametrize("check", [
    "mean(X) ≈ 0.2",
    "var(X) ≈ 4.5",
    "sd(X) ≈ 2",
    "cov(theta, X) ≈ 3.5",
    "corr(theta, X) ≈ 0.85",
    "quantile(X, 0.95) ≈ 3.4",
    "P(X > 0) ≈ 0.52",
    "P(X > 1) < 0.2",
])
def test_wrong_checks_fail(check):
    text = DESIGN_EXAMPLE.replace("check: var(X) ≈ lambda + sigma^2", f"check: {check}")
    result, diags = run(text, seed=11)
    assert not result.checks[0].passed
    assert [d.line for d in diags] == [6]


@pytest.mark.parametrize("statistic,expected", [
    ("mean(x)", "0"), ("var(x)", "1"), ("P(x > 1)", "0.15865525"),
    ("quantile(x, 0.9)", "1.2815516"), ("corr(x, y)", "0.7071068"),
])
def test_check_standard_errors_are_calibrated(statistic, expected):
    """Over many seeds a true check's z is standard normal: the tolerance is honest."""
    text = f"x ~ Normal(0, 1)\ny = x + e\ne ~ Normal(0, 1)\nn = 1000\ncheck: {statistic} ≈ {expected}"
    spec, _ = parse_sim(text, "c.md", 1)
    zs = np.array([simulate(spec, seed)[0].checks[0].z for seed in range(300)])
    assert abs(zs.mean()) < 4 / math.sqrt(300)
    assert 0.8 < zs.std() < 1.2


def test_plated_model_shapes_observed_data_and_checks():
    text = """\
J = 8
y = [28, 8, -3, 7, -1, 1, 18, 12]
s = [15, 10, 16, 11, 9, 11, 10, 18]
mu ~ Normal(0, 25)
tau ~ HalfNormal(sd=5)
theta[1..J] ~ Normal(mu, tau^2)
y[j] ~ Normal(theta[j], s[j]^2)
check: var(y[3]) ≈ 25 + 25 * (1 - 2 / pi) + 25 * 2 / pi + 256
check: mean(theta) ≈ 0
"""
    result, diags = run(text)
    assert diags == []
    assert result.draws["theta"].shape == (10000, 8)
    assert result.draws["y"].shape == (10000, 8)
    assert all(c.passed for c in result.checks)
    assert np.array_equal(result.spec.nodes["y"].observed, [28, 8, -3, 7, -1, 1, 18, 12])
    # y[j] has its own standard error s[j]: the spread follows the data vector
    spread = result.draws["y"].std(axis=0)
    assert spread[7] > spread[4]


def test_nested_plates_broadcast_the_outer_index():
    text = ("I = 50\nJ = 3\nmu[1..J] ~ Normal(0, 100)\ny[i, j] ~ Normal(mu[j], 0.01)\n"
            "check: corr(y[1, 2], y[50, 2]) > 0.99\ncheck: corr(y[1, 1], y[1, 2]) ≈ 0")
    result, diags = run(text)
    assert diags == []
    assert result.draws["y"].shape == (10000, 50, 3)
    assert all(c.passed for c in result.checks)


def test_deterministic_functions_and_vector_distributions():
    text = """\
w ~ Dirichlet([1, 2, 3])
z ~ Categorical(w)
centres = [-5, 0, 5]
x ~ Normal(centres[z], 1)
k ~ Multinomial(10, [0.2, 0.3, 0.5])
r = exp(log(w[1])) + abs(-1) + sqrt(4) + max(w) - min(w) + sum(w)
check: mean(w[3]) ≈ 0.5
check: P(z == 3) ≈ 0.5
check: mean(x) ≈ 5 * (0.5 - 1 / 6)
check: mean(k[1]) ≈ 2
check: P(r > 4) ≈ 1
"""
    result, diags = run(text)
    assert diags == [], diags
    assert result.draws["k"].shape == (10000, 3)
    assert all(c.passed for c in result.checks), result.checks


def test_non_finite_draws_are_a_warning():
    result, diags = run("x ~ Normal(0, 1)\ny = log(x)")
    assert [(d.line, d.severity) for d in diags] == [(2, "warning")]
    assert "not finite" in diags[0].message


def test_unindexed_vector_in_a_plate_is_an_error_with_a_hint():
    result, diags = run("J = 3\ns = [1, 2, 3]\ntheta[1..J] ~ Normal(0, s^2)")
    assert [(d.line, d.severity) for d in diags] == [(3, "error")]
    assert "index it with [j]" in diags[0].message


def test_element_cap_holds_even_when_a_spec_is_edited_after_parsing():
    spec, _ = parse_sim("J = 1000\ntheta[1..J] ~ Normal(0, 1)", "c.md", 1)
    spec.n = 1_000_000
    result, diags = simulate(spec, 1)
    assert [(d.line, d.severity) for d in diags] == [(2, "error")]
    assert "too many values" in diags[0].message and "theta" not in result.draws


def test_summarise_gives_moments_and_quantiles_per_variable():
    result, _ = run(DESIGN_EXAMPLE)
    summary = summarise(result)
    assert set(summary) == {"theta", "X"}
    x = summary["X"]
    assert set(x) == {"mean", "sd", "q05", "q50", "q95", "shape"}
    assert x["sd"] == pytest.approx(math.sqrt(5), rel=0.05)
    assert x["q05"] < x["q50"] < x["q95"]
    plated, _ = run("J = 3\ntheta[1..J] ~ Normal(0, 1)")
    assert len(summarise(plated)["theta"]["elements"]) == 3


def test_an_outer_product_too_large_to_hold_is_an_error_not_a_hang():
    text = ("n = 100\nI = 50000\nJ = 50000\na[1..I] ~ Normal(0, 1)\nb[1..J] ~ Normal(0, 1)\n"
            "c = sum(a + b)")
    result, diags = run(text)
    assert [(d.line, d.severity) for d in diags] == [(6, "error")]
    assert "too many values" in diags[0].message
    assert set(result.draws) == {"a", "b"}


@pytest.mark.parametrize("shift", [0.0, 0.03, 0.08])
def test_two_sample_ks_p_value_matches_scipy(shift):
    from notecards.sim.compare import ks_two_sample_p
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 5000), rng.normal(shift, 1, 4000)
    assert ks_two_sample_p(a, b) == pytest.approx(stats.ks_2samp(a, b).pvalue, abs=0.01)
