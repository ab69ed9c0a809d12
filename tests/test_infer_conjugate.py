"""Conjugate models whose posterior is known in closed form, fitted from sim text."""

import numpy as np
import pytest
from scipy import stats

from notecards.infer import fit
from notecards.sim.lang import parse_sim


def fitted(text: str, seed: int = 11):
    spec, diagnostics = parse_sim(text, "note.md", 1)
    assert [d for d in diagnostics if d.severity == "error"] == []
    return fit(spec, seed=seed, draws=2000, warmup=500)


def mismatches(result, name: str, exact, z: float = 4.0) -> list[str]:
    """The summaries of `name` further than z Monte Carlo standard errors from the exact
    posterior `exact` (a frozen scipy law). The errors are those of `ess` independent draws:
    the mean's sd/√n, the sd's sd·√((κ − 1)/4n) with κ the law's kurtosis, and the 5% quantile's
    √(q(1 − q)/n)/f(x_q) with the tail ESS."""
    p = result.params[name]
    sd, kurtosis = exact.std(), float(exact.stats(moments="k")) + 3.0
    q5 = exact.ppf(0.05)
    errors = {"mean": (p.mean, exact.mean(), sd / np.sqrt(p.ess)),
              "sd": (p.sd, sd, sd * np.sqrt((kurtosis - 1) / (4 * p.ess))),
              "q5": (p.q5, q5, np.sqrt(0.05 * 0.95 / p.ess_tail) / exact.pdf(q5))}
    return [f"{name} {what}: {got:.4g} vs {want:.4g} (mcse {mcse:.2g})"
            for what, (got, want, mcse) in errors.items() if abs(got - want) > z * mcse]


def assert_matches(result, name: str, exact) -> None:
    assert mismatches(result, name, exact) == []


def test_normal_mean_with_known_variance():
    y = np.array([2.1, 3.4, 1.9, 2.8, 3.9, 2.2])
    result = fitted(f"y = {y.tolist()}\nI = 6\nmu ~ Normal(0, 4)\ny[i] ~ Normal(mu, 1.5)\n")
    precision = 1 / 4 + len(y) / 1.5
    exact = stats.norm(y.sum() / 1.5 / precision, precision**-0.5)
    assert_matches(result, "mu", exact)
    assert result.samplers["mu"] == "gibbs: normal-normal conjugate"


def test_normal_variance_with_inverse_gamma_prior():
    y = np.array([0.3, -1.2, 2.5, 0.8, -0.4, 1.9, -2.2, 0.1])
    result = fitted(f"y = {y.tolist()}\nI = 8\nsigma2 ~ InverseGamma(3, 2)\ny[i] ~ Normal(0, sigma2)\n")
    exact = stats.invgamma(3 + len(y) / 2, scale=2 + np.sum(y**2) / 2)
    assert_matches(result, "sigma2", exact)
    assert result.samplers["sigma2"] == "gibbs: normal-inverse-gamma conjugate"


def test_normal_variance_with_scaled_inverse_chi_square_prior():
    # Scaled-Inv-chi2(nu, s2) is Inverse-Gamma(nu/2, nu s2/2): the posterior adds n and sum(y^2).
    y = np.array([0.3, -1.2, 2.5, 0.8, -0.4, 1.9, -2.2, 0.1])
    result = fitted(f"y = {y.tolist()}\nI = 8\nsigma2 ~ ScaledInvChiSquare(4, 1.5)\n"
                    "y[i] ~ Normal(0, sigma2)\n")
    exact = stats.invgamma((4 + len(y)) / 2, scale=(4 * 1.5 + np.sum(y**2)) / 2)
    assert_matches(result, "sigma2", exact)
    assert result.samplers["sigma2"] == "gibbs: normal-inverse-gamma conjugate"


def test_normal_precision_with_gamma_prior_via_prec_keyword():
    y = np.array([1.3, 0.2, -0.7, 0.9, 2.2, -1.4])
    result = fitted(f"y = {y.tolist()}\nI = 6\nphi ~ Gamma(2, 1)\ny[i] ~ Normal(0, prec=phi)\n")
    exact = stats.gamma(2 + len(y) / 2, scale=1 / (1 + np.sum(y**2) / 2))
    assert_matches(result, "phi", exact)


def test_beta_binomial():
    result = fitted("k = [3, 7, 5]\ntrials = [10, 12, 9]\nI = 3\np ~ Beta(2, 2)\nk[i] ~ Binomial(trials[i], p)\n")
    exact = stats.beta(2 + 15, 2 + 31 - 15)
    assert_matches(result, "p", exact)
    assert result.samplers["p"] == "gibbs: beta-binomial conjugate"


def test_gamma_poisson():
    counts = [4, 7, 2, 5, 6, 3, 8]
    result = fitted(f"y = {counts}\nI = 7\nlam ~ Gamma(3, 0.5)\ny[i] ~ Poisson(lam)\n")
    exact = stats.gamma(3 + sum(counts), scale=1 / (0.5 + len(counts)))
    assert_matches(result, "lam", exact)
    assert result.samplers["lam"] == "gibbs: gamma conjugate"


def test_exponential_prior_on_poisson_rate_is_slice_sampled_and_still_exact():
    # Exponential(1) is Gamma(1, 1) but not declared as one: the slice path must get it right.
    counts = [4, 7, 2, 5, 6, 3, 8]
    result = fitted(f"y = {counts}\nI = 7\nlam ~ Exponential(1)\ny[i] ~ Poisson(lam)\n")
    exact = stats.gamma(1 + sum(counts), scale=1 / (1 + len(counts)))
    assert result.samplers["lam"] == "slice"
    assert_matches(result, "lam", exact)


def test_grouped_normal_means_by_a_data_index():
    # theta[g[i]]: each group's mean gets only its own observations.
    text = ("y = [1.0, 1.4, 0.6, 5.2, 4.8]\ng = [1, 1, 1, 2, 2]\nN = 5\nK = 2\n"
            "theta[1..K] ~ Normal(0, 100)\ny[i] ~ Normal(theta[g[i]], 1)\n")
    result = fitted(text.replace("N = 5", "I = 5"))
    for k, members in ((1, [1.0, 1.4, 0.6]), (2, [5.2, 4.8])):
        precision = 1 / 100 + len(members)
        exact = stats.norm(sum(members) / precision, precision**-0.5)
        assert_matches(result, f"theta[{k}]", exact)


def test_dirichlet_categorical():
    result = fitted("z = [1, 3, 3, 2, 3, 1, 3]\nI = 7\np ~ Dirichlet([1, 1, 1])\nz[i] ~ Categorical(p)\n")
    exact = stats.beta(1 + 4, 2 + 3)      # marginal of p[3] under Dirichlet(3, 2, 5)
    assert_matches(result, "p[3]", exact)


def test_data_from_a_csv_block_binds_by_column_name_and_groups_by_label(tmp_path):
    from notecards.infer.tables import parse_with_tables

    note = ("# Classes\n\n```csv\nclass,score\nred,1.0\nblue,5.2\nred,1.4\nblue,4.8\nred,0.6\n```\n\n"
            "```sim\ntheta[1..K] ~ Normal(0, 100)\nscore[i] ~ Normal(theta[class[i]], 1)\n```\n")
    path = tmp_path / "classes.md"
    path.write_text(note)
    text = path.read_text()
    sim = text.split("```sim\n")[1].split("```")[0]
    spec, diagnostics, columns = parse_with_tables(sim, text, "classes.md", first_line=13)
    assert diagnostics == []
    assert columns["class"].labels == ["red", "blue"]
    assert spec.nodes["score"].line == 14 and spec.nodes["class"].line == 4
    result = fit(spec, seed=4, draws=2000, warmup=300)
    for k, members in ((1, [1.0, 1.4, 0.6]), (2, [5.2, 4.8])):
        precision = 1 / 100 + len(members)
        assert_matches(result, f"theta[{k}]", stats.norm(sum(members) / precision, precision**-0.5))


def test_a_quantity_computed_from_the_data_does_not_stop_the_fit():
    # `ybar = mean(y)` reads the data: given the data it is known, like a constant.
    y = np.array([2.1, 3.4, 1.9, 2.8, 3.9, 2.2])
    result = fitted(f"y = {y.tolist()}\nI = 6\nybar = mean(y)\nmu ~ Normal(0, 4)\ny[i] ~ Normal(mu, 1.5)\n")
    precision = 1 / 4 + len(y) / 1.5
    assert_matches(result, "mu", stats.norm(y.sum() / 1.5 / precision, precision**-0.5))


def test_a_parameter_read_through_a_chain_of_computed_quantities_still_sees_the_data():
    # mu reaches y only through m2 = m, m = mu: its likelihood must not be dropped.
    y = np.array([2.1, 3.4, 1.9, 2.8, 3.9, 2.2])
    result = fitted(f"y = {y.tolist()}\nI = 6\nmu ~ Normal(0, 4)\nm = mu * 1\nm2 = m * 1\n"
                    "y[i] ~ Normal(m2, 1.5)\n")
    precision = 1 / 4 + len(y) / 1.5
    assert_matches(result, "mu", stats.norm(y.sum() / 1.5 / precision, precision**-0.5))


def test_an_observation_reading_two_elements_of_a_sampled_plate_is_refused_at_its_line():
    # theta's elements are slice-sampled side by side: y[i] reading theta[g[i]] and theta[h[i]]
    # would couple them, so the fit says so instead of returning a wrong posterior.
    text = ("y = [1.0, 1.4, 0.6, 5.2]\ng = [1, 1, 2, 2]\nh = [2, 2, 1, 1]\nI = 4\nK = 2\n"
            "theta[1..K] ~ HalfNormal(100)\ny[i] ~ Normal(theta[g[i]], theta[h[i]]^2)\n")
    result = fitted(text)
    assert not result.ok
    [warning] = result.diagnostics
    assert warning.line == 7 and "two different elements of theta" in warning.message


Y = np.array([2.1, 3.4, 1.9, 2.8, 3.9, 2.2])
COUNTS = np.array([4, 7, 2, 5, 6, 3, 8])
NORMAL_MEAN = (f"y = {Y.tolist()}\nI = 6\nmu ~ Normal(0, 4)\ny[i] ~ Normal(mu, 1.5)\n", "mu",
               stats.norm(Y.sum() / 1.5 / (1 / 4 + 6 / 1.5), (1 / 4 + 6 / 1.5) ** -0.5))
VARIANCE = (f"y = {Y.tolist()}\nI = 6\nsigma2 ~ InverseGamma(3, 2)\ny[i] ~ Normal(0, sigma2)\n",
            "sigma2", stats.invgamma(3 + 6 / 2, scale=2 + np.sum(Y**2) / 2))
POISSON = (f"y = {COUNTS.tolist()}\nI = 7\nlam ~ Gamma(3, 0.5)\ny[i] ~ Poisson(lam)\n", "lam",
           stats.gamma(3 + COUNTS.sum(), scale=1 / (0.5 + 7)))


@pytest.mark.parametrize("rule, broken, model", [
    (("normal", "Normal", "mean", "direct"),                  # sd taken for the variance
     lambda y, a: (1 / np.sqrt(a["var"]), y / np.sqrt(a["var"])), NORMAL_MEAN),
    (("inverse-gamma", "Normal", "var", "direct"),            # the 1/2 on the shape forgotten
     lambda y, a: (np.ones_like(y), 0.5 * np.square(y - a["mean"])), VARIANCE),
    (("gamma", "Poisson", "rate", "direct"),                  # each observation's exposure twice
     lambda y, a: (y, np.full_like(y, 2.0)), POISSON),
])
def test_a_broken_conjugate_update_fails_the_comparison(rule, broken, model, monkeypatch):
    from notecards.infer import conjugate

    text, name, exact = model
    assert mismatches(fitted(text), name, exact) == []
    monkeypatch.setitem(conjugate.RULES, rule, broken)
    assert mismatches(fitted(text), name, exact) != []
