"""Every sampler against scipy.stats, in the notes' parameterisations.

Tolerances come from Monte Carlo error: means within 5 standard errors, KS p-values above
1e-4, discrete frequencies within 5 binomial standard errors. Seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from notecards.sim import distributions
from notecards.sim.lang import parse_sim
from notecards.sim.sample import simulate

N = 20_000

CONTINUOUS = [
    ("Normal", {"mean": 1.5, "var": 4.0}),
    ("HalfNormal", {"var": 4.0}),
    ("LogNormal", {"mean": 0.5, "var": 0.25}),
    ("StudentT", {"df": 5.0, "loc": 1.0, "scale": 2.0}),
    ("Cauchy", {"loc": -1.0, "scale": 0.5}),
    ("HalfCauchy", {"scale": 2.0}),
    ("Exponential", {"rate": 3.0}),
    ("Gamma", {"shape": 2.5, "rate": 4.0}),
    ("InverseGamma", {"shape": 5.0, "scale": 2.0}),
    ("ScaledInvChiSquare", {"nu": 7.0, "s2": 1.5}),
    ("Beta", {"a": 2.0, "b": 5.0}),
    ("Uniform", {"low": -2.0, "high": 3.0}),
]
DISCRETE = [
    ("Bernoulli", {"p": 0.3}),
    ("Binomial", {"n": 12.0, "p": 0.35}),
    ("Poisson", {"rate": 3.5}),
    ("Categorical", {"p": np.array([0.2, 0.5, 0.3])}),
]


def _draw(name: str, args: dict, seed: int = 7, size: tuple[int, ...] = (N,)) -> np.ndarray:
    dist = distributions.REGISTRY[name]
    arrays = {k: np.asarray(v, dtype=float) for k, v in args.items()}
    return dist.sample(np.random.default_rng(seed), arrays, size)


@pytest.mark.parametrize("name,args", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_sampler_matches_scipy(name, args):
    draws = _draw(name, args)
    frozen = distributions.REGISTRY[name].scipy_frozen(args)
    assert stats.kstest(draws, frozen.cdf).pvalue > 1e-4
    mean, var = frozen.mean(), frozen.var()
    if np.isfinite(var):
        assert abs(draws.mean() - mean) < 5 * math.sqrt(var / N)


@pytest.mark.parametrize("name,args", DISCRETE, ids=[d[0] for d in DISCRETE])
def test_discrete_sampler_matches_scipy_pmf(name, args):
    draws = _draw(name, args)
    frozen = distributions.REGISTRY[name].scipy_frozen(args)
    for k in np.unique(np.concatenate([draws, [0.0, 1.0]])):
        p = frozen.pmf(k)
        observed = np.mean(draws == k)
        assert abs(observed - p) < 5 * math.sqrt(max(p * (1 - p), 1 / N) / N), k
    assert np.all(draws == np.round(draws))


def test_parameterisations_are_the_notes_own():
    """Normal's second argument is a variance, Gamma's a rate, InverseGamma's a scale."""
    assert distributions.REGISTRY["Normal"].scipy_frozen({"mean": 0, "var": 4}).std() == 2
    assert distributions.REGISTRY["Gamma"].scipy_frozen({"shape": 2, "rate": 4}).mean() == pytest.approx(0.5)
    assert distributions.REGISTRY["InverseGamma"].scipy_frozen({"shape": 3, "scale": 2}).mean() == pytest.approx(1)
    assert distributions.REGISTRY["LogNormal"].scipy_frozen({"mean": 0, "var": 1}).median() == 1
    assert distributions.REGISTRY["ScaledInvChiSquare"].scipy_frozen({"nu": 5, "s2": 2}).mean() == \
        pytest.approx(5 * 2 / 3)
    assert distributions.REGISTRY["Exponential"].scipy_frozen({"rate": 4}).mean() == pytest.approx(0.25)


def test_dirichlet_marginals_are_beta():
    alpha = np.array([1.0, 2.0, 3.0])
    draws = _draw("Dirichlet", {"alpha": alpha})
    assert draws.shape == (N, 3)
    assert np.allclose(draws.sum(axis=1), 1)
    for k in range(3):
        marginal = stats.beta(alpha[k], alpha.sum() - alpha[k])
        assert stats.kstest(draws[:, k], marginal.cdf).pvalue > 1e-4
    expected = distributions.REGISTRY["Dirichlet"].scipy_frozen({"alpha": alpha}).mean()
    assert np.allclose(draws.mean(axis=0), expected, atol=5 * math.sqrt(0.25 / N))


def test_multinomial_counts_match_scipy():
    p = np.array([0.2, 0.3, 0.5])
    draws = _draw("Multinomial", {"n": 10.0, "p": p})
    assert draws.shape == (N, 3)
    assert np.all(draws.sum(axis=1) == 10)
    frozen = distributions.REGISTRY["Multinomial"].scipy_frozen({"n": 10, "p": p})
    sd = np.sqrt(10 * p * (1 - p))
    assert np.all(np.abs(draws.mean(axis=0) - frozen.mean()) < 5 * sd / math.sqrt(N))


def test_samplers_broadcast_arguments_over_draws_and_plates():
    means = np.array([[-10.0, 0.0, 10.0]])           # one mean per plate element
    draws = _draw("Normal", {"mean": means, "var": np.array([[1.0]])}, size=(N, 3))
    assert draws.shape == (N, 3)
    assert np.all(np.abs(draws.mean(axis=0) - means[0]) < 5 / math.sqrt(N))
    per_draw_p = np.tile([[0.0, 0.0, 1.0]], (N, 1))   # Categorical with per-draw probabilities
    cats = _draw("Categorical", {"p": per_draw_p})
    assert np.all(cats == 3)


@pytest.mark.parametrize("alias,canonical", [
    ("N", "Normal"), ("gaussian", "Normal"), ("NORMAL", "Normal"), ("IG", "InverseGamma"),
    ("Inv-Gamma", "InverseGamma"), ("Inverse-Gamma", "InverseGamma"), ("invgamma", "InverseGamma"),
    ("Half-Cauchy", "HalfCauchy"), ("Exp", "Exponential"), ("Scaled-Inv-Chi2", "ScaledInvChiSquare"),
])
def test_aliases_are_case_and_hyphen_insensitive(alias, canonical):
    assert distributions.lookup(alias).name == canonical


def test_every_design_table_row_is_registered():
    assert set(distributions.REGISTRY) == {
        "Normal", "HalfNormal", "LogNormal", "StudentT", "Cauchy", "HalfCauchy", "Exponential",
        "Gamma", "InverseGamma", "ScaledInvChiSquare", "Beta", "Uniform", "Bernoulli",
        "Binomial", "Poisson", "Categorical", "Dirichlet", "Multinomial", "Geometric", "NegativeBinomial"}


def _variance_of(statement: str, n: int = 20_000) -> tuple[float, float]:
    spec, diags = parse_sim(f"x ~ {statement}\nn = {n}", "k.md", 1)
    assert spec is not None, diags
    result, _ = simulate(spec, 3)
    x = result.draws["x"]
    return float(x.mean()), float(x.var())


@pytest.mark.parametrize("statement,mean,var", [
    ("Normal(0, sd=2)", 0.0, 4.0),
    ("Normal(1, prec=4)", 1.0, 0.25),
    ("Normal(mean=1, var=9)", 1.0, 9.0),
    ("Gamma(2, scale=3)", 6.0, 18.0),
    ("Gamma(2, 3)", 2 / 3, 2 / 9),
    ("HalfNormal(sd=2)", 2 * math.sqrt(2 / math.pi), 4 * (1 - 2 / math.pi)),
])
def test_keyword_alternatives_rewrite_to_the_canonical_argument(statement, mean, var):
    got_mean, got_var = _variance_of(statement)
    assert abs(got_mean - mean) < 5 * math.sqrt(var / 20_000)
    assert abs(got_var - var) < 0.1 * var


def test_keyword_rewrite_is_visible_in_node_args():
    spec, _ = parse_sim("x ~ Normal(0, sd=2)", "k.md", 1)
    assert set(spec.nodes["x"].args) == {"mean", "var"}


@pytest.mark.parametrize("statement,message", [
    ("x ~ Normal(0, -4)", "variance must be > 0"),
    ("x ~ Gamma(-1, 2)", "shape must be > 0"),
    ("x ~ Beta(0, 1)", "a must be > 0"),
    ("x ~ Bernoulli(1.5)", "probability must be between 0 and 1"),
    ("x ~ Binomial(2.5, 0.5)", "number of trials must be a whole number"),
    ("x ~ Categorical([0.5, 0.6])", "sum to 1"),
    ("x ~ Normal(0, 1, 2)", "at most 2 argument"),
    ("x ~ Normal(0, scale=2)", "no argument 'scale'"),
    ("x ~ Gamma(2)", "missing rate"),
    ("x ~ Normal(0, 1, var=2)", "given twice"),
])
def test_bad_arguments_are_errors_at_the_statement_line(statement, message):
    spec, diags = parse_sim(f"a = 1\n{statement}", "k.md", 40)
    assert spec is None
    errors = [d for d in diags if d.severity == "error"]
    assert [d.line for d in errors] == [41]
    assert message in errors[0].message


def test_support_violation_from_random_parameters_is_a_diagnostic_not_an_exception():
    spec, diags = parse_sim("s ~ Normal(0, 1)\nx ~ Normal(0, s)", "k.md", 5)
    assert spec is not None and not diags
    result, diags = simulate(spec, 1)
    errors = [d for d in diags if d.severity == "error"]
    assert [d.line for d in errors] == [6]
    assert "variance must be > 0" in errors[0].message
    assert "x" not in result.draws and "s" in result.draws
