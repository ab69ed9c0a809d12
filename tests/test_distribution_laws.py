"""Each law's facts live in one `Distribution`: its log density (what fits evaluate) agrees with
its scipy equivalent, its draws lie in the support it declares, and the fits read the support
from it (a positive law is sampled on the log scale)."""

from __future__ import annotations

import numpy as np
import pytest

from notecards.sim.distributions import REGISTRY

# arguments in the notes' parameterisation, and points inside and outside the support
CASES = {
    "Normal": ({"mean": 1.0, "var": 4.0}, [-3.0, 0.5, 2.0]),
    "HalfNormal": ({"var": 2.0}, [-1.0, 0.3, 2.0]),
    "LogNormal": ({"mean": 0.2, "var": 0.5}, [-1.0, 0.4, 3.0]),
    "StudentT": ({"df": 5.0, "loc": 1.0, "scale": 2.0}, [-4.0, 1.0, 6.0]),
    "Cauchy": ({"loc": 0.5, "scale": 1.5}, [-3.0, 0.0, 8.0]),
    "HalfCauchy": ({"scale": 2.0}, [-1.0, 0.5, 9.0]),
    "Exponential": ({"rate": 1.5}, [-1.0, 0.2, 3.0]),
    "Gamma": ({"shape": 2.5, "rate": 0.5}, [-1.0, 0.7, 6.0]),
    "InverseGamma": ({"shape": 3.0, "scale": 2.0}, [-1.0, 0.4, 2.5]),
    "ScaledInvChiSquare": ({"nu": 6.0, "s2": 1.5}, [-1.0, 0.8, 3.0]),
    "Beta": ({"a": 2.0, "b": 3.0}, [-0.5, 0.3, 0.9]),
    "Uniform": ({"low": -1.0, "high": 2.0}, [-2.0, 0.0, 1.5]),
    "Poisson": ({"rate": 3.5}, [0.0, 2.0, 7.0]),
    "Binomial": ({"n": 10.0, "p": 0.3}, [0.0, 3.0, 10.0]),
    "Bernoulli": ({"p": 0.3}, [0.0, 1.0]),
    "Geometric": ({"p": 0.25}, [1.0, 2.0, 6.0]),
    "NegativeBinomial": ({"r": 3.0, "p": 0.4}, [0.0, 2.0, 9.0]),
}


def test_every_law_a_fit_can_use_has_a_case_here():
    assert {name for name, law in REGISTRY.items() if law.log_density is not None} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_density_agrees_with_the_scipy_equivalent(name):
    law = REGISTRY[name]
    args, points = CASES[name]
    x = np.array(points)
    frozen = law.scipy_frozen(args)
    expected = frozen.logpmf(x) if law.discrete else frozen.logpdf(x)
    arrays = {k: np.asarray(v) for k, v in args.items()}
    np.testing.assert_allclose(law.log_prob(x, arrays), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_draws_lie_in_the_declared_support(name):
    law = REGISTRY[name]
    args, _ = CASES[name]
    draws = law.sample(np.random.default_rng(7), {k: np.asarray(v) for k, v in args.items()}, (4000,))
    assert np.all(np.isfinite(law.log_prob(draws, {k: np.asarray(v) for k, v in args.items()})))
    if law.support == "positive":
        assert np.all(draws > 0)
    elif law.support == "unit":
        assert np.all((draws >= 0) & (draws <= 1))
    elif law.support == "count":
        assert np.all((draws >= 0) & (draws == np.round(draws)))
