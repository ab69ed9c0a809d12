"""The law names real vaults write, and defaults that respect each parameter's role: no free
symbol makes a law degenerate (a point mass) or heavy-tailed beyond use."""

from __future__ import annotations

import numpy as np
import pytest

from notecards.sim.latex import model_from_latex
from notecards.sim.sample import simulate
from notecards.types import CardBlock


def spec_of(back: str):
    block = CardBlock(path="n.md", line=1, end_line=50, kind="block", note_type="Basic",
                      fields={"Front": "Q", "Back": back}, field_lines={"Front": 2, "Back": 3}, tags=[],
                      deck="Default", ordinal=0)
    spec, diagnostics = model_from_latex(block)
    assert spec is not None, diagnostics
    return spec


@pytest.mark.parametrize("written, law", [
    ("Unif(a, b)", "Uniform"), ("Binom(n, p)", "Binomial"), ("Bin(n,p)", "Binomial"),
    ("Pois(\\lambda)", "Poisson"), ("Exp(\\lambda)", "Exponential"), ("Geom(p)", "Geometric"),
    ("Be(p)", "Bernoulli"), ("Bern(p)", "Bernoulli"), ("Be(a, b)", "Beta"), ("Beta(a, b)", "Beta"),
    ("Gamma(a, b)", "Gamma"), ("NB(r, p)", "NegativeBinomial"), ("Inverse-Gamma(a, b)", "InverseGamma"),
])
def test_the_names_real_vaults_use_are_read(written, law):
    assert spec_of(f"$$X \\sim {written}$$").nodes["X"].dist == law


@pytest.mark.parametrize("written", ["Unif(a, b)", "Binom(n, p)", "Geom(p)", "Be(p)", "NB(r, p)",
                                     "Pois(\\lambda)", "Beta(a, b)"])
def test_no_default_makes_a_law_a_point_mass(written):
    spec = spec_of(f"$$X \\sim {written}$$")
    result, diagnostics = simulate(spec, np.random.SeedSequence(1))
    assert result is not None, diagnostics
    assert np.unique(result.draws["X"]).size > 1


def test_defaults_follow_the_role_low_below_high_a_count_a_probability_a_finite_variance():
    assert spec_of("$$X \\sim Unif(a, b)$$").defaults == {"a": 0.0, "b": 1.0}
    assert spec_of("$$X \\sim Binom(n, p)$$").defaults == {"n": 10.0, "p": 0.3}
    shape = spec_of("$$\\sigma^2 \\sim \\text{Inverse-Gamma}(a, b)$$").defaults["a"]
    assert shape > 2                               # an inverse-gamma variance prior with a variance


def block(front: str, back: str) -> CardBlock:
    return CardBlock(path="n.md", line=1, end_line=50, kind="block", note_type="Basic",
                     fields={"Front": front, "Back": back}, field_lines={"Front": 2, "Back": 3}, tags=[],
                     deck="Default", ordinal=0)


def test_a_law_stated_in_the_questions_inline_math_is_the_cards_model():
    spec, _ = model_from_latex(block("What is $E[X]$ for $X \\sim Binom(n,p)$ with $n = 20$?",
                                     "$np$, here 6."))
    assert spec is not None and spec.nodes["X"].dist == "Binomial"
    assert spec.nodes["n"].value == 20 and spec.defaults == {"p": 0.3}


def test_inline_math_in_an_answer_is_not_the_model_but_the_question_joins_the_display_math():
    assert model_from_latex(block("What is $\\lambda$?", "The prior variance, as in $\\theta \\sim N(0, \\lambda)$."))[0] is None
    spec, _ = model_from_latex(block("For $\\theta \\sim N(0, 1)$?", "$$X \\sim N(\\theta, 1)$$ and $Y \\sim Pois(3)$"))
    assert set(spec.nodes) == {"theta", "X"}
