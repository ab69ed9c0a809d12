"""A posterior is a claim, not a model: a card's `θ | x ~ …` is checked against the posterior of
its own prior and likelihood, at generic values of its free symbols, and never drawn as the model."""

from __future__ import annotations

import re

import pytest

from conftest import write
from notecards.pipeline import BuildOptions, build
from notecards.sim.claims import check_claims
from notecards.sim.latex import model_from_latex
from notecards.types import CardBlock

NORMAL_MODEL = "$$\\theta \\sim \\mathcal{N}(\\mu_0, \\tau^2)$$\n$$x \\sim \\mathcal{N}(\\theta, \\sigma^2)$$\n"
RIGHT = "\\frac{\\mu_0/\\tau^2 + x/\\sigma^2}{1/\\tau^2 + 1/\\sigma^2}, \\frac{1}{1/\\tau^2 + 1/\\sigma^2}"
WRONG_MEAN = "\\frac{\\mu_0 + x}{2}, \\frac{1}{1/\\tau^2 + 1/\\sigma^2}"
WRONG_VARIANCE = "\\frac{\\mu_0/\\tau^2 + x/\\sigma^2}{1/\\tau^2 + 1/\\sigma^2}, \\tau^2 + \\sigma^2"
RIGHT_ONLY_WHEN_TAU_IS_SIGMA = "\\frac{\\mu_0 + x}{2}, \\frac{\\sigma^2}{2}"
GAMMA_POISSON = "$$\\lambda \\sim \\text{Gamma}(a, b)$$\n$$k \\sim \\text{Poisson}(\\lambda)$$\n"


def block(back: str) -> CardBlock:
    return CardBlock(path="n.md", line=1, end_line=50, kind="block", note_type="Basic",
                     fields={"Front": "Posterior?", "Back": back}, field_lines={"Front": 2, "Back": 3}, tags=[],
                     deck="Default", ordinal=0)


def checked(back: str):
    spec, diagnostics = model_from_latex(block(back))
    assert spec is not None and not [d for d in diagnostics if d.severity == "error"]
    [result], found = check_claims(spec, 11)
    return spec, result, found


def normal_claim(args: str) -> str:
    return NORMAL_MODEL + f"$$\\theta \\mid x \\sim \\mathcal{{N}}\\left({args}\\right)$$\n"


def test_a_right_posterior_passes_in_closed_form_and_is_not_drawn_as_the_model():
    spec, result, found = checked(normal_claim(RIGHT))
    assert result.agree and result.method == "closed form" and found == []
    assert list(spec.nodes).count("theta") == 1 and spec.alternatives == []        # not a second definition
    assert spec.nodes["theta"].args["mean"].value == "mu0"                         # the prior, not the claim


@pytest.mark.parametrize("likelihood", ["x \\mid \\theta \\sim \\mathcal{N}(\\theta, \\sigma^2)",
                                        "X \\mid \\theta \\sim \\mathcal{N}(\\theta, \\sigma^2)"])
def test_a_likelihood_written_as_a_conditional_is_the_model_and_the_posterior_is_still_checked(likelihood):
    """x | θ ~ N(θ, σ²) is how cards state a likelihood; the posterior's formula reads x, which
    must not make the likelihood look like a second posterior."""
    name = likelihood[0]
    back = (f"$$\\theta \\sim \\mathcal{{N}}(\\mu_0, \\tau^2)$$\n$${likelihood}$$\n"
            f"$$\\theta \\mid {name} \\sim \\mathcal{{N}}\\left({RIGHT.replace('x/', name + '/')}\\right)$$\n")
    spec, result, found = checked(back)
    assert spec.nodes[name].dist == "Normal" and "theta" in spec.nodes[name].parents      # the likelihood
    assert [c.node.name for c in spec.claims] == ["theta"] and result.agree and found == []


@pytest.mark.parametrize("args", [WRONG_MEAN, WRONG_VARIANCE, RIGHT_ONLY_WHEN_TAU_IS_SIGMA])
def test_a_posterior_wrong_in_the_mean_or_the_variance_or_right_only_at_the_defaults_is_a_warning(args):
    _, result, [warning] = checked(normal_claim(args))
    assert result.agree is False
    assert (warning.line, warning.severity) == (5, "warning")                       # the formula's line
    assert "does not follow from its model" in warning.message and "var" in warning.message
    assert result.at["tau"] != result.at["sigma"]                                   # generic values


def test_a_posterior_without_a_simple_closed_form_is_checked_by_simulation():
    right = GAMMA_POISSON + "$$\\lambda \\mid k \\sim \\text{Gamma}(a + k, b + 1)$$\n"
    wrong = GAMMA_POISSON + "$$\\lambda \\mid k \\sim \\text{Gamma}(a + k, b)$$\n"
    _, good, none = checked(right)
    assert good.agree and good.method.startswith("simulation") and none == []
    _, bad, [warning] = checked(wrong)
    assert bad.agree is False and warning.line == 5


def test_the_card_shows_a_wrong_posterior_with_both_distributions(tmp_path):
    write(tmp_path, "p.md", "START\nBasic\nPosterior of θ?\nBack:\n" + normal_claim(WRONG_VARIANCE) + "END\n")
    result = build(tmp_path, options=BuildOptions(workers=1))
    [card] = result.cards
    html = card.fields["Simulation"]
    assert "does not follow from its model" in html
    assert re.search(r"card: mean [-0-9.]+, var [0-9.]+<br>model \(closed form\): mean", html)
    [warning] = [d for d in result.diagnostics if "posterior" in d.message]
    assert (warning.path, warning.line, warning.severity) == ("p.md", 7, "warning")
