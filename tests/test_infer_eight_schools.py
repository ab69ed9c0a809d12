"""Eight schools (BDA §5.5) with flat priors: the fit must match a 1-D numerical integration."""

import numpy as np
import pytest
from scipy import integrate

from notecards.infer import fit
from notecards.infer.collapsed import NormalHierarchy
from notecards.sim.lang import parse_sim

Y = np.array([28, 8, -3, 7, -1, 1, 18, 12.0])
S = np.array([15, 10, 16, 11, 9, 11, 10, 18.0])

EIGHT_SCHOOLS = """\
y = [28, 8, -3, 7, -1, 1, 18, 12]
s = [15, 10, 16, 11, 9, 11, 10, 18]
J = 8
mu ~ Uniform(-1000, 1000)
tau ~ Uniform(0, 1000)
theta[1..J] ~ Normal(mu, tau^2)
y[j] ~ Normal(theta[j], s[j]^2)
"""


def mu_hat_and_precision(tau):
    w = 1.0 / (S**2 + tau**2)
    return np.sum(w * Y) / np.sum(w), np.sum(w)


def marginal_tau(tau):
    """p(tau | y) up to a constant with p(mu, tau) flat (BDA eq. 5.21)."""
    mu_hat, v_inv = mu_hat_and_precision(tau)
    var = S**2 + tau**2
    return v_inv**-0.5 * np.prod(var**-0.5) * np.exp(-0.5 * np.sum((Y - mu_hat) ** 2 / var))


def theta_mean_given_tau(tau):
    mu_hat, _ = mu_hat_and_precision(tau)
    if tau == 0:
        return np.full(8, mu_hat)
    return (Y / S**2 + mu_hat / tau**2) / (1 / S**2 + 1 / tau**2)


def reference_means() -> dict[str, float]:
    def expectation(f):
        top = integrate.quad(lambda t: f(t) * marginal_tau(t), 0, 1000, points=[5, 20, 60], limit=400)[0]
        return top / integrate.quad(marginal_tau, 0, 1000, points=[5, 20, 60], limit=400)[0]

    means = {"tau": expectation(lambda t: t), "mu": expectation(lambda t: mu_hat_and_precision(t)[0])}
    for j in range(8):
        means[f"theta[{j + 1}]"] = expectation(lambda t, j=j: theta_mean_given_tau(t)[j])
    return means


def mismatches(result, reference, z=4.0) -> list[str]:
    """Parameters whose posterior mean is further from the reference than z Monte Carlo SEs."""
    bad = []
    for name, expected in reference.items():
        p = result.params[name]
        mcse = p.sd / np.sqrt(p.ess)
        if abs(p.mean - expected) > z * mcse:
            bad.append(f"{name}: {p.mean:.3f} vs {expected:.3f} (mcse {mcse:.3f})")
    return bad


@pytest.fixture(scope="module")
def spec():
    parsed, diagnostics = parse_sim(EIGHT_SCHOOLS, "schools.md", 1)
    assert diagnostics == []
    return parsed


@pytest.fixture(scope="module")
def reference():
    return reference_means()


def test_reference_reproduces_bda(reference):
    # BDA3 Table 5.3 / Figure 5.6: E[tau | y] is about 6-7, theta_1 about 10, theta_3 about 6-7.
    assert 5 < reference["tau"] < 8
    assert reference["theta[1]"] > reference["theta[3]"] > reference["theta[5]"]


def test_posterior_means_match_the_numerical_integration(spec, reference):
    result = fit(spec, seed=20240501)
    assert mismatches(result, reference) == []
    assert all(p.rhat < 1.01 and p.ess >= 1000 for p in result.params.values())
    assert result.diagnostics == []
    assert result.samplers["tau"].startswith("slice")
    assert result.samplers["theta"].startswith("gibbs")


def test_a_sampler_with_the_wrong_variance_fails_the_comparison(spec, reference, monkeypatch):
    # Use tau as the variance of theta instead of tau^2: the comparison must notice.
    monkeypatch.setattr(NormalHierarchy, "theta_variance", lambda self, tau: tau)
    result = fit(spec, seed=20240501)
    assert mismatches(result, reference) != []


def test_same_seed_same_draws(spec):
    a = fit(spec, seed=7, draws=200, warmup=100)
    b = fit(spec, seed=7, draws=200, warmup=100)
    assert all(np.array_equal(a.draws[k], b.draws[k]) for k in a.draws)
    assert a.draws["theta"].shape == (4, 200, 8) and a.draws["tau"].shape == (4, 200)


def test_figures_are_deterministic_svgs_and_the_caption_reports_every_parameter(spec):
    from notecards.infer.figures import fit_caption_html, fit_figures

    result = fit(spec, seed=5, draws=300, warmup=200)
    first, second = fit_figures(spec, result), fit_figures(spec, result)
    assert [name for name, _ in first] == ["posterior", "shrinkage", "trace", "ppc"]
    assert all(svg.startswith(b"<svg ") for _, svg in first)
    assert first == second
    caption = fit_caption_html(spec, result)
    assert caption.split("nc-fit-convergence")[0].count("<tr>") == 1 + 10 and "slice" in caption


def test_empirical_bayes_for_eight_schools_is_complete_pooling(spec):
    # The marginal likelihood of eight schools peaks at tau = 0 (BDA §5.5): every theta_j is the
    # precision-weighted mean of the y_j.
    result = fit(spec, seed=1, empirical_bayes=True)
    pooled = np.sum(Y / S**2) / np.sum(1 / S**2)
    assert result.params["tau"].mean == 0.0
    assert result.params["mu"].mean == pytest.approx(pooled, rel=1e-6)
    assert result.params["theta[3]"].mean == pytest.approx(pooled, rel=1e-6)


def test_empirical_bayes_ignores_a_quantity_derived_from_the_hyperparameters(spec):
    # `mu_plus = mu + 1` is a deterministic node: the point estimates do not need it.
    with_derived, _ = parse_sim(EIGHT_SCHOOLS + "mu_plus = mu + 1\n", "schools.md", 1)
    assert fit(with_derived, seed=1, empirical_bayes=True).to_dict() == \
        fit(spec, seed=1, empirical_bayes=True).to_dict()


def test_empirical_bayes_matches_a_direct_maximisation_of_the_marginal_likelihood():
    from scipy import optimize

    y = np.array([28, 8, -30, 7, -10, 1, 38, 12.0])
    text = EIGHT_SCHOOLS.replace("y = [28, 8, -3, 7, -1, 1, 18, 12]", f"y = {y.tolist()}")
    parsed, _ = parse_sim(text, "schools.md", 1)
    result = fit(parsed, seed=2, empirical_bayes=True)

    def negative_log_marginal(params):
        mu, tau = params
        var = S**2 + tau**2
        return 0.5 * np.sum(np.log(var) + (y - mu) ** 2 / var)

    best = optimize.minimize(negative_log_marginal, x0=[0.0, 5.0], method="Nelder-Mead",
                             options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    mu_hat, tau_hat = best.x
    assert result.params["tau"].mean == pytest.approx(abs(tau_hat), rel=1e-3)
    assert result.params["mu"].mean == pytest.approx(mu_hat, rel=1e-3)
    shrunk = (y / S**2 + mu_hat / tau_hat**2) / (1 / S**2 + 1 / tau_hat**2)
    sd = (1 / S**2 + 1 / tau_hat**2) ** -0.5
    for j in range(8):
        p = result.params[f"theta[{j + 1}]"]
        assert abs(p.mean - shrunk[j]) < 4 * sd[j] / np.sqrt(p.ess)
