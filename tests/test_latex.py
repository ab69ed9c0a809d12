"""A card's own LaTeX read as a model: what a user who writes display math expects to be simulated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from notecards.sim.latex import display_math, latex_statements, model_from_latex
from notecards.types import CardBlock

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def translated(markdown: str, first_line: int = 1) -> list[str]:
    """The sim text of every translated statement, in card order."""
    return [s.sim for s in latex_statements({"Back": markdown}, {"Back": first_line})
            if s.sim is not None and s.reason is None]


def one(latex: str) -> str | None:
    """The translation of a single display-math statement (None when skipped)."""
    statements = latex_statements({"Back": f"$$\n{latex}\n$$"}, {"Back": 1})
    assert len(statements) == 1, statements
    return statements[0].sim if statements[0].reason is None else None


def reason(latex: str) -> str:
    statements = latex_statements({"Back": f"$$\n{latex}\n$$"}, {"Back": 1})
    assert len(statements) == 1 and statements[0].reason, statements
    return statements[0].reason


def card(fields: dict[str, str], field_lines: dict[str, int], path: str = "note.md") -> CardBlock:
    first = min(field_lines.values())
    return CardBlock(path=path, line=first - 1, end_line=first + 100, kind="block",
                     note_type="Basic", fields=fields, field_lines=field_lines, tags=[],
                     deck="Default", ordinal=0)


def seed(prefix: str) -> list[str]:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip("seed notes are not available")
    return matches[0].read_text(encoding="utf-8").split("\n")


# ---------------------------------------------------------------- finding display math

def test_display_math_forms_are_found_and_prose_math_is_not():
    text = ("prose $x \\sim N(0,1)$ and \\(y = 2\\)\n"
            "$$a \\sim N(0, 1)$$ inline display\n"
            "\\[ b = 2 \\]\n"
            "$$\nc = 3\n$$\n")
    assert [c.strip() for _, c in display_math(text)] == ["a \\sim N(0, 1)", "b = 2", "c = 3"]


def test_math_inside_code_is_not_a_model():
    text = ("```\n$$\nx \\sim N(0, 1)\n$$\n```\n"
            "`$$y \\sim N(0, 1)$$` is how you write it\n"
            "$$\nz \\sim N(0, 1)\n$$\n")
    assert translated(text) == ["z ~ Normal(0, 1)"]


def test_escaped_dollar_does_not_open_display_math():
    # Obsidian renders `\$$x$$` as a dollar sign and inline math, not a display block.
    text = "cost \\$$\\mu \\sim N(0, 1)$$\n$$\\theta \\sim N(\\mu, 1)$$\n"
    assert translated(text) == ["theta ~ Normal(mu, 1)"]


def test_line_numbers_are_note_lines_across_rows_and_fields():
    fields = {"Front": "what is it?", "Back": "intro\n\n$$\n\\begin{aligned}\n"
              "\\theta &\\sim \\mathcal{N}(0, \\lambda) \\\\\nX &\\sim \\mathcal{N}(\\theta, 1)\n"
              "\\end{aligned}\n$$\n"}
    statements = latex_statements(fields, {"Front": 10, "Back": 12})
    assert [(s.line, s.sim) for s in statements] == [
        (16, "theta ~ Normal(0, lambda)"), (17, "X ~ Normal(theta, 1)")]
    assert statements[0].latex == "\\theta &\\sim \\mathcal{N}(0, \\lambda)"


def test_every_environment_and_alignment_is_read():
    for env in ("equation", "equation*", "align", "align*", "aligned", "split", "gather"):
        text = f"$$\\begin{{{env}}} x &= 2 \\\\ y &\\sim N(x, 1) \\end{{{env}}}$$"
        assert translated(text) == ["x = 2", "y ~ Normal(x, 1)"], env


def test_bracket_display_math_with_left_right_and_spacing():
    assert translated("\\[\\theta \\sim \\mathcal{N}\\left(0,\\, \\tau^{2}\\right)\\]") == [
        "theta ~ Normal(0, tau^2)"]


def test_row_break_with_spacing_argument():
    text = "$$\\begin{align} a &= 1 \\\\[4pt] b &= a + 1 \\end{align}$$"
    assert translated(text) == ["a = 1", "b = a + 1"]


# ---------------------------------------------------------------- splitting statements

def test_comma_separated_statements_on_one_row():
    text = "$$\nX = \\theta + \\epsilon, \\epsilon \\sim \\mathcal{N}(0, \\sigma^2)\n$$"
    assert translated(text) == ["X = theta + epsilon", "epsilon ~ Normal(0, sigma^2)"]


def test_quad_and_trailing_punctuation_separate_statements():
    text = "$$\ny_{ij} = \\beta_i + \\epsilon_{ij}, \\quad \\epsilon_{ij} \\sim N(0, 1),\n$$"
    # beta is never defined: a default constant, the same for every i
    assert translated(text) == ["y[i, j] = beta + epsilon[i, j]", "epsilon[i, j] ~ Normal(0, 1)"]


def test_conditioning_on_the_left_keeps_its_commas():
    text = "$$\\theta_j \\sim N(0, 1)$$ $$y_i \\mid \\theta_j,\\sigma^2 \\sim N(\\theta_j,\\sigma^2)$$"
    assert translated(text) == ["theta[j] ~ Normal(0, 1)", "y[i, j] ~ Normal(theta[j], sigma^2)"]


def test_index_range_after_a_statement_is_not_a_definition():
    statements = latex_statements(
        {"B": "$$\\theta_j \\sim N(\\mu, \\tau^2), \\quad j = 1, \\ldots, J$$"}, {"B": 3})
    assert [(s.sim, s.reason) for s in statements] == [
        ("theta[j] ~ Normal(mu, tau^2)", None), (None, "range of the index j")]


def test_index_range_with_a_number_sets_the_plate_size():
    text = "$$\\theta_j \\sim N(0, 1) \\text{ for } j = 1, \\dots, 8$$"
    assert translated(text) == ["theta[j] ~ Normal(0, 1)", "J = 8"]


def test_iid_and_definition_markers():
    assert one("x_i \\stackrel{iid}{\\sim} \\text{Exp}(\\lambda)") == "x[i] ~ Exponential(lambda)"
    assert one("\\mu := 3") == "mu = 3"
    assert one("Y \\overset{d}{=} X + 1") == "Y = X + 1"


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("latex, sim", [
    ("\\lambda = 1", "lambda = 1"),
    ("\\varepsilon = \\alpha + \\beta", "epsilon = alpha + beta"),
    ("\\vartheta = \\varphi", "theta = phi"),
    ("θ = λ", "theta = lambda"),
    ("\\theta_j = 1", "theta[j] = 1"),
    ("y_{ij} = 1", "y[i, j] = 1"),
    ("y_{i,j} = 1", "y[i, j] = 1"),
    ("x_t = 1", "x[t] = 1"),
    ("\\mu_0 = 1", "mu0 = 1"),
    ("\\mu_{overall} = 1", "mu_overall = 1"),
    ("\\sigma_{\\alpha} = 1", "sigma_alpha = 1"),
    ("\\mu_{\\text{obs}} = 1", "mu_obs = 1"),
    ("\\beta_{0j} = 1", "beta0[j] = 1"),
    ("\\bar{y} = 1", "ybar = 1"),
    ("\\hat\\theta = 1", "thetahat = 1"),
    ("\\mathbf{x} = 1", "x = 1"),
    ("\\boldsymbol{\\mu} = 1", "mu = 1"),
    ("\\theta^* = 1", "thetastar = 1"),
])
def test_names(latex, sim):
    assert one(latex) == sim


# ---------------------------------------------------------------- expressions

@pytest.mark.parametrize("latex, sim", [
    ("a = \\frac{b}{c}", "a = b/c"),
    ("a = \\frac{b + 1}{c - 1}", "a = (b + 1)/(c - 1)"),
    ("a = \\dfrac12", "a = 1/2"),
    ("a = \\sqrt{b}", "a = sqrt(b)"),
    ("a = \\sqrt[3]{b}", "a = b^(1/3)"),
    ("a = b \\cdot c", "a = b*c"),
    ("a = b \\times c", "a = b*c"),
    ("a = 2\\theta", "a = 2*theta"),
    ("a = 2 b c", "a = 2*b*c"),
    ("a = \\sigma^2", "a = sigma^2"),
    ("a = \\sigma^{2}", "a = sigma^2"),
    ("a = \\sigma^{-1}", "a = sigma^(-1)"),
    ("a = (b + c)^2", "a = (b + c)^2"),
    ("a = -b^2", "a = -(b^2)"),
    ("a = b - (c - d)", "a = b - (c - d)"),
    ("a = e^{-b}", "a = exp(-b)"),
    ("a = \\exp(b) + \\log c + \\ln(d)", "a = exp(b) + log(c) + log(d)"),
    ("a = 2\\pi", "a = 2*pi"),
    ("a = \\lambda / (\\lambda + \\sigma^2)", "a = lambda/(lambda + sigma^2)"),
])
def test_expressions(latex, sim):
    assert one(latex) == sim


def test_variance_variable_defined_by_a_squared_left_side():
    text = ("$$y_{ij} \\sim \\mathcal{N}(\\theta_i, \\sigma^2)$$\n"
            "$$\\theta_i \\sim \\mathcal{N}(0, 1)$$\n"
            "$$\\sigma^2 \\sim \\text{Inverse-Gamma}(a, b)$$\n"
            "$$s = \\sqrt{\\sigma^{2}}$$\n")
    assert translated(text) == ["y[i, j] ~ Normal(theta[i], sigma2)", "theta[i] ~ Normal(0, 1)",
                                "sigma2 ~ InverseGamma(a, b)", "s = sqrt(sigma2)"]


def test_indexed_variance_variable_in_either_script_order():
    text = ("$$\\sigma_j^2 \\sim IG(1, 1)$$\n"
            "$$y_{ij} \\sim N(\\mu, \\sigma^{2}_{j})$$\n")
    assert translated(text) == ["sigma2[j] ~ InverseGamma(1, 1)", "y[i, j] ~ Normal(mu, sigma2[j])"]


def test_a_square_of_another_name_stays_a_power():
    text = "$$\\tau^2 \\sim IG(1, 1)$$\n$$\\mu \\sim N(\\mu_0, \\tau_0^2)$$\n"
    assert translated(text) == ["tau2 ~ InverseGamma(1, 1)", "mu ~ Normal(mu0, tau0^2)"]


# ---------------------------------------------------------------- laws

@pytest.mark.parametrize("latex, sim", [
    ("x \\sim \\mathcal{N}(0, 1)", "x ~ Normal(0, 1)"),
    ("x \\sim N(0, 1)", "x ~ Normal(0, 1)"),
    ("x \\sim \\operatorname{N}(0, 1)", "x ~ Normal(0, 1)"),
    ("x \\sim \\mathrm{N}(0, 1)", "x ~ Normal(0, 1)"),
    ("x \\sim \\text{Normal}(0, 1)", "x ~ Normal(0, 1)"),
    ("x \\sim \\text{Inverse-Gamma}(2, 3)", "x ~ InverseGamma(2, 3)"),
    ("x \\sim Inverse-Gamma(2, 3)", "x ~ InverseGamma(2, 3)"),
    ("x \\sim \\mathrm{Inv\\text{-}Gamma}(2, 3)", "x ~ InverseGamma(2, 3)"),
    ("x \\sim IG(2, 3)", "x ~ InverseGamma(2, 3)"),
    ("x \\sim \\operatorname{InvGamma}(2, 3)", "x ~ InverseGamma(2, 3)"),
    ("x \\sim \\Gamma^{-1}(2, 3)", "x ~ InverseGamma(2, 3)"),
    ("x \\sim \\text{Gamma}(2, 3)", "x ~ Gamma(2, 3)"),
    ("x \\sim \\Gamma(2, 3)", "x ~ Gamma(2, 3)"),
    ("x \\sim \\text{Beta}(2, 3)", "x ~ Beta(2, 3)"),
    ("x \\sim \\text{Exp}(2)", "x ~ Exponential(2)"),
    ("x \\sim \\text{Exponential}(2)", "x ~ Exponential(2)"),
    ("x \\sim \\text{Pois}(2)", "x ~ Poisson(2)"),
    ("x \\sim \\text{Poisson}(\\lambda)", "x ~ Poisson(lambda)"),
    ("x \\sim \\text{Bern}(0.5)", "x ~ Bernoulli(0.5)"),
    ("x \\sim \\text{Bernoulli}(p)", "x ~ Bernoulli(p)"),
    ("x \\sim \\text{Bin}(10, p)", "x ~ Binomial(10, p)"),
    ("x \\sim \\text{Binomial}(n, p)", "x ~ Binomial(n, p)"),
    ("x \\sim U(0, 1)", "x ~ Uniform(0, 1)"),
    ("x \\sim \\mathcal{U}[a, b]", "x ~ Uniform(a, b)"),
    ("x \\sim \\text{Uniform}(0, 1)", "x ~ Uniform(0, 1)"),
    ("x \\sim \\text{Cauchy}(0, 1)", "x ~ Cauchy(0, 1)"),
    ("x \\sim \\text{Half-Cauchy}(0, 25)", "x ~ HalfCauchy(25)"),
    ("x \\sim \\text{HalfCauchy}(5)", "x ~ HalfCauchy(5)"),
    ("x \\sim \\text{Half-Normal}(0, 4)", "x ~ HalfNormal(4)"),
    ("x \\sim \\text{LogNormal}(0, 1)", "x ~ LogNormal(0, 1)"),
    ("x \\sim \\log\\mathcal{N}(0, 1)", "x ~ LogNormal(0, 1)"),
    ("x \\sim \\text{Dir}(\\alpha)", "x ~ Dirichlet(alpha)"),
    ("x \\sim \\text{Cat}(p)", "x ~ Categorical(p)"),
    ("x \\sim \\text{Multinomial}(10, p)", "x ~ Multinomial(10, p)"),
    ("x \\sim t_\\nu", "x ~ StudentT(nu, 0, 1)"),
    ("x \\sim t_{4}(\\mu, \\sigma^2)", "x ~ StudentT(4, mu, sigma)"),
    ("x \\sim t(3)", "x ~ StudentT(3, 0, 1)"),
    ("x \\sim \\text{StudentT}(3, 0, 2)", "x ~ StudentT(3, 0, 2)"),
    ("x \\sim \\chi^2_\\nu", "x ~ Gamma(nu/2, 1/2)"),
    ("x \\sim \\chi^2(4)", "x ~ Gamma(4/2, 1/2)"),
    ("x \\sim \\text{Inv-}\\chi^2(\\nu, s^2)", "x ~ ScaledInvChiSquare(nu, s^2)"),
    ("x \\sim \\text{Inv-}\\chi^2(\\nu)", "x ~ InverseGamma(nu/2, 1/2)"),
])
def test_laws(latex, sim):
    assert one(latex) == sim


def _table_names() -> list[tuple[str, str, int]]:
    """(name as written, canonical law, number of arguments) for every name and alias of
    the table of docs/simulations.md; `_` is left out, since in LaTeX it starts a subscript."""
    from notecards.sim.distributions import REGISTRY
    return [(written, dist.name, len(dist.params)) for dist in REGISTRY.values()
            for written in (dist.name, *dist.aliases) if "_" not in written]


@pytest.mark.parametrize("written, law, arity", _table_names())
def test_every_name_of_the_design_table_is_a_law_in_latex(written, law, arity):
    args = ", ".join(str(k + 2) for k in range(arity))
    assert one(f"x \\sim \\operatorname{{{written}}}({args})") == f"x ~ {law}({args})"


@pytest.mark.parametrize("latex, why", [
    ("\\theta \\sim L(.\\mid\\lambda)", "unknown law 'L'"),
    ("X \\sim L_X(.\\mid\\theta)", "unknown law 'L_X'"),
    ("(X, \\theta) \\sim \\mathcal{M}(\\lambda)", "tuple"),
    ("\\phi \\sim P(\\phi)", "unknown law 'P'"),
    ("\\theta \\sim \\mathcal{M}(\\lambda)", "unknown law '\\mathcal{M}'"),
    ("y \\sim \\mathcal{N}(y \\mid \\mu, \\sigma^2)", "conditioning bar"),
    ("y \\sim \\mathcal{N}(\\mu | \\sigma^2)", "conditioning bar"),
    ("y \\sim \\mathcal{N}(0, 1) + 2", "more than one law"),
    ("y \\sim \\text{Gamma}(1)", "takes 2 argument"),
    ("p(y \\mid \\theta) = \\theta", "function"),
    ("f(x) = x^2", "function"),
    ("E[\\theta \\mid X] = \\frac{\\lambda}{\\lambda + \\sigma^2} X", "function"),
    ("a = b = c", "more than one relation"),
    ("x_t = x_{t-1} + 1", "subscript"),
    ("\\mu = \\mu + 1", "itself"),
    ("y = \\sum_i x_i", "not simulated"),
    ("y = X^T \\beta", "transpose"),
])
def test_statements_that_are_skipped_say_why(latex, why):
    assert why in reason(latex)


def test_prose_math_without_a_relation_is_not_a_statement():
    assert latex_statements({"B": "$$\\int_0^1 f(x)\\,dx \\propto 1$$ and $$P(A)$$"}, {"B": 1}) == []


# ---------------------------------------------------------------- the card as a model

def test_a_card_of_prose_math_has_no_model_and_no_diagnostics():
    block = card({"Back": "$$P(\\theta \\mid y) \\propto P(y \\mid \\theta) P(\\theta)$$\n"
                          "$$\\theta \\sim P(\\theta)$$\n$$X = \\theta + 1$$\n"}, {"Back": 5})
    assert model_from_latex(block) == (None, [])


def test_model_has_defaults_note_lines_and_dependency_order():
    block = card({"Front": "the model", "Back": (
        "likelihood first:\n$$\ny_{j} \\sim \\mathcal{N}(\\theta_j, \\sigma^2)\n$$\n"
        "then the prior\n$$\\theta_j \\sim \\mathcal{N}(\\mu, \\tau^2)$$\n")},
        {"Front": 3, "Back": 5})
    spec, diagnostics = model_from_latex(block)
    assert diagnostics == []
    assert spec is not None and spec.origin == "latex"
    assert list(spec.nodes)[-2:] == ["theta", "y"]
    assert (spec.nodes["y"].line, spec.nodes["theta"].line) == (7, 10)
    assert spec.nodes["y"].dist == "Normal" and spec.nodes["y"].plates == ("J",)
    assert spec.defaults == {"J": spec.nodes["J"].value, "sigma": 1.0, "mu": 1.0, "tau": 1.0}
    assert spec.line == 7


def test_values_set_in_the_card_are_not_defaults():
    block = card({"Back": "$$\\lambda = 4, \\quad J = 8$$\n$$\\theta_j \\sim N(0, \\lambda)$$"},
                 {"Back": 1})
    spec, _ = model_from_latex(block)
    assert spec.defaults == {}
    assert spec.nodes["lambda"].value == 4.0 and spec.nodes["J"].value == 8.0


def test_free_symbol_written_with_an_index_is_one_constant():
    block = card({"Back": "$$y_{ij} = \\beta x_{ij} + \\epsilon_{ij}, \\quad "
                          "\\epsilon_{ij} \\sim N(0, 1)$$"}, {"Back": 1})
    spec, diagnostics = model_from_latex(block)
    assert diagnostics == []
    assert "y[i, j] = beta*x + epsilon[i, j]" in spec.source_text
    assert spec.nodes["x"].kind == "const" and spec.defaults["x"] == 1.0


def test_a_statement_repeated_in_front_and_back_is_one_node():
    fields = {"Front": "$$x \\sim N(0, 1)$$", "Back": "$$x \\sim \\mathcal{N}(0,1)$$"}
    statements = latex_statements(fields, {"Front": 2, "Back": 4})
    assert statements[1].reason == "same as line 2"
    spec, _ = model_from_latex(card(fields, {"Front": 2, "Back": 4}))
    assert spec.alternatives == []


# ---------------------------------------------------------------- the seed notes

def seed_000_card(tmp_path: Path) -> CardBlock:
    """The seed's card as the real parser reads it from a vault file."""
    from notecards.config import load_settings
    from notecards.parse import parse_file
    from notecards.vault import read_source

    (tmp_path / "hierarchical model.md").write_text("\n".join(seed("000")), encoding="utf-8")
    diagnostics: list = []
    source = read_source(tmp_path, "hierarchical model.md", diagnostics)
    parsed = parse_file(source, load_settings(tmp_path, diagnostics))
    assert diagnostics == [] and parsed.diagnostics == []
    (block,) = parsed.blocks
    return block


def test_seed_000_hierarchical_model_card(tmp_path):
    block = seed_000_card(tmp_path)
    statements = latex_statements(block.fields, block.field_lines)
    got = [(s.line, s.sim, s.reason) for s in statements]
    assert got[:3] == [
        (53, None, "the left side is a tuple, not one variable"),
        (60, None, "unknown law 'L' (not guessed)"),
        (61, None, "unknown law 'L_X' (not guessed)")]
    assert got[3:] == [
        (69, "theta ~ Normal(0, lambda)", None),
        (70, "X ~ Normal(theta, sigma^2)", None),
        (78, "X = theta + epsilon", None),
        (78, "epsilon ~ Normal(theta, sigma^2)", None)]
    spec, diagnostics = model_from_latex(block)
    assert diagnostics == []
    assert spec.defaults == {"lambda": 1.0, "sigma": 1.0}
    assert [n.name for n in spec.stochastic()] == ["theta", "X"]
    (alternative,) = spec.alternatives
    assert [(n.name, n.line) for n in alternative] == [("epsilon", 78), ("X", 78)]
    assert alternative[-1].kind == "deterministic"


def note_card(prefix: str) -> CardBlock:
    """The whole seed note as the back of one card, as if the user had put it in a card."""
    lines = seed(prefix)
    return card({"Back": "\n".join(lines)}, {"Back": 1}, path=f"{prefix}.md")


SEED_MODELS = {
    "001": ["mu ~ Normal(mu0, sigma0^2)", "sigma2 ~ InverseGamma(a, b)",
            "epsilon[i, j] ~ Normal(0, sigma2)", "tau2 ~ InverseGamma(c, d)",
            "u[i] ~ Normal(0, tau2)", "beta[i] = gamma + u[i]",
            "y[i, j] = beta[i]*x + epsilon[i, j]", "theta[i] ~ Normal(mu, tau2)",
            "y[i, j] ~ Normal(theta[i], sigma2)"],
    "003": ["mu ~ Normal(mu0, sigma02)", "theta[j] ~ Normal(mu, 1)",     # mu's prior, mu0 = 60 and
            "y[i, j] ~ Normal(theta[j], sigma^2)"],                      # sigma²₀ = 5 in inline math
    "004": ["sigma2[j] ~ InverseGamma(alpha, beta)", "mu_overall ~ Normal(mu0, tau0^2)",
            "tau2 ~ InverseGamma(alpha0, beta0)", "mu[j] ~ Normal(mu_overall, tau2)",
            "y[i, j] ~ Normal(mu[j], sigma2[j])"],
}


@pytest.mark.parametrize("prefix", sorted(SEED_MODELS))
def test_seed_hierarchical_models_are_runnable(prefix):
    spec, diagnostics = model_from_latex(note_card(prefix))
    assert [d for d in diagnostics if d.severity == "error"] == []
    assert spec is not None
    statements = [line for line in spec.source_text.split("\n") if "~" in line or "[" in line]
    assert statements == SEED_MODELS[prefix]
    assert all(value in (1.0, 2.0, 3.0, float(spec.nodes["J"].value)) for value in spec.defaults.values())
    for node in spec.nodes.values():            # a variance's default prior has a finite variance
        shape = node.args.get("shape") if node.dist == "InverseGamma" else None
        if shape is not None and shape.op == "name" and shape.value in spec.defaults:
            assert spec.defaults[shape.value] > 2


@pytest.mark.parametrize("prefix", sorted(SEED_MODELS))
def test_seed_models_draw(prefix):
    from notecards.sim.sample import simulate

    spec, _ = model_from_latex(note_card(prefix))
    spec.n = 2000
    result, diagnostics = simulate(spec, seed=7)
    assert [d for d in diagnostics if d.severity == "error"] == []
    for node in spec.stochastic():
        draws = result.draws[node.name]
        assert draws.shape[0] == 2000 and np.isfinite(draws).all()


def test_prose_after_a_statement_is_not_part_of_it():
    assert one("x \\sim N(0, 1) \\text{ iid}") == "x ~ Normal(0, 1)"
    assert one("x \\sim N(0, 1) \\quad") == "x ~ Normal(0, 1)"


def test_free_probability_and_concentration_vectors_default_to_equal_entries():
    block = card({"Back": "$$\\pi \\sim \\text{Dir}(\\alpha)$$\n$$z \\sim \\text{Cat}(p)$$"},
                 {"Back": 1})
    spec, diagnostics = model_from_latex(block)
    assert diagnostics == []
    assert list(spec.nodes["alpha"].value) == [1.0] * len(spec.nodes["alpha"].value)
    assert np.isclose(sum(spec.nodes["p"].value), 1.0)
    assert spec.defaults["alpha"] == 1.0 and spec.nodes["pi"].dist == "Dirichlet"


def test_seed_000_structural_equation_is_checked_against_the_tilde_model(tmp_path):
    # The card's ε ~ N(θ, σ²) has mean θ, so X = θ + ε has variance 4λ + σ² = 5, not the
    # λ + σ² = 2 of X ~ N(θ, σ²): the claimed equivalence fails and the comparison says so.
    from notecards.sim.sample import simulate

    spec, _ = model_from_latex(seed_000_card(tmp_path))
    spec.n = 4000
    result, _ = simulate(spec, seed=11)
    (comparison,) = result.comparisons
    assert comparison.name == "X" and comparison.line == 78
    assert not comparison.agree
    fixed = seed_000_card(tmp_path)
    fixed.fields["Back"] = fixed.fields["Back"].replace(
        "\\epsilon &\\sim \\mathcal{N}(\\theta, \\sigma^2)", "\\epsilon &\\sim \\mathcal{N}(0, \\sigma^2)")
    spec, _ = model_from_latex(fixed)
    spec.n = 4000
    result, _ = simulate(spec, seed=11)
    assert result.comparisons[0].agree


def test_an_improper_prior_is_a_warning_at_its_line_not_an_error():
    block = card({"Back": "$$\\sigma^2 \\sim IG(0, 0)$$\n$$y \\sim N(0, \\sigma^2)$$"}, {"Back": 4})
    spec, diagnostics = model_from_latex(block)
    assert spec is None
    (warning,) = diagnostics
    assert (warning.line, warning.severity) == (4, "warning")
    assert "InverseGamma shape" in warning.message and "sim block" in warning.message
