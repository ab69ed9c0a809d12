"""The sim language parser: good statements build the graph, bad ones are errors at their line."""

from __future__ import annotations

import numpy as np
import pytest

from notecards.sim.describe import describe_node
from notecards.sim.expr import MAX_ELEMENTS, format_expr, parse_expr
from conftest import DESIGN_EXAMPLE
from notecards.sim.lang import parse_sim

EIGHT_SCHOOLS = """\
J = 8
y = [28, 8, -3, 7, -1, 1, 18, 12]
s = [15, 10, 16, 11, 9, 11, 10, 18]

mu ~ Normal(0, 25)
tau ~ HalfCauchy(5)
theta[1..J] ~ Normal(mu, tau^2)
y[j] ~ Normal(theta[j], s[j]^2)
show = theta, mu
"""


def errors(diags):
    return [(d.line, d.message) for d in diags if d.severity == "error"]


def test_design_example_builds_the_graph_with_note_lines():
    spec, diags = parse_sim(DESIGN_EXAMPLE, "cards/model.md", 30)
    assert diags == []
    assert list(spec.nodes) == ["lambda", "sigma", "theta", "X"]
    assert [n.kind for n in spec.nodes.values()] == ["const", "const", "stochastic", "stochastic"]
    assert [n.line for n in spec.nodes.values()] == [30, 31, 32, 33]
    assert spec.nodes["lambda"].value == 4
    assert spec.nodes["X"].parents == ["theta", "sigma"]
    assert spec.n == 20000
    assert [(c.line, c.relation) for c in spec.checks] == [(35, "≈")]
    assert describe_node(spec.nodes["theta"], spec) == "theta ~ Normal(mean 0, var 4)"
    assert describe_node(spec.nodes["theta"]) == "theta ~ Normal(mean 0, var lambda)"
    assert describe_node(spec.nodes["X"], spec) == "X ~ Normal(mean theta, var 1)"


def test_unicode_greek_and_superscripts_read_as_words():
    spec, diags = parse_sim("λ = 4\nσ = 1\nθ ~ N(0, λ)\nX ~ Gaussian(θ, σ²)\ncheck: var(X) ~= λ + σ²",
                            "a.md", 1)
    assert diags == []
    assert list(spec.nodes) == ["lambda", "sigma", "theta", "X"]
    assert format_expr(spec.nodes["X"].args["var"]) == "sigma^2"
    assert spec.checks[0].relation == "≈"


def test_plates_index_letters_and_observed_data():
    spec, diags = parse_sim(EIGHT_SCHOOLS, "a.md", 1)
    assert diags == []
    theta, y = spec.nodes["theta"], spec.nodes["y"]
    assert (theta.plates, theta.indices) == (("J",), ("j",))
    assert (y.plates, y.indices, y.kind, y.line) == (("J",), ("j",), "stochastic", 8)
    assert np.array_equal(y.observed, [28, 8, -3, 7, -1, 1, 18, 12])
    assert spec.observed() == [y]
    assert spec.nodes["s"].kind == "data"
    assert spec.show == ["theta", "mu"]
    assert describe_node(y, spec) == \
        "y[j] ~ Normal(mean theta[j], var s[j]^2) (observed: 8 values) for j = 1..J"


def test_nested_plates_use_two_indices():
    spec, diags = parse_sim("I = 4\nJ = 3\nmu[1..J] ~ Normal(0, 1)\n"
                            "sigma2[j] ~ InverseGamma(3, 2)\ny[i, j] ~ Normal(mu[j], sigma2[j])",
                            "a.md", 1)
    assert diags == []
    assert (spec.nodes["y"].plates, spec.nodes["y"].indices) == (("I", "J"), ("i", "j"))


def test_range_declares_an_index_letter_for_any_size_name():
    spec, diags = parse_sim("Groups = 3\nb[1..Groups] ~ Normal(0, 1)\nc[groups] ~ Normal(b[groups], 1)",
                            "a.md", 1)
    assert diags == []
    assert spec.nodes["c"].plates == ("Groups",)


def test_comments_and_blank_lines_keep_note_line_numbers():
    spec, diags = parse_sim("# a comment\n\na = 1  # trailing\n\nb ~ Normal(a, 1)", "a.md", 100)
    assert diags == []
    assert spec.nodes["a"].line == 102 and spec.nodes["b"].line == 104


def test_bad_statements_are_errors_at_their_lines_and_the_rest_still_parses():
    text = "\n".join([
        "a = 1",                   # 10
        "c ~ Foo(1)",              # 11
        "d ~ Normal(0 1)",         # 12
        "e = a +",                 # 13
        "f = (a",                  # 14
        "g ~ Normal(a, 1)",        # 15
        "h ~ Normal(zz, 1)",       # 16
        "k[1..K] ~ Normal(0, 1)",  # 17
        "check: mean(g) 0",        # 18
        "m = a $ 2",               # 19
        "p = [1, 2",               # 20
        "q ~ Normal(g, 1",         # 21
    ])
    spec, diags = parse_sim(text, "a.md", 10)
    assert spec is None
    got = errors(diags)
    assert [line for line, _ in got] == [11, 12, 13, 14, 16, 17, 18, 19, 20, 21]
    messages = dict(got)
    assert "unknown distribution 'Foo'" in messages[11]
    assert "expected ',' or ')'" in messages[12]
    assert "expected a number, a name" in messages[13]
    assert "expected ')'" in messages[14]
    assert "unknown name 'zz'" in messages[16]
    assert "plate size K is not defined" in messages[17]
    assert "expected one relation" in messages[18]
    assert "unexpected character '$'" in messages[19]


def test_a_failed_statement_does_not_cascade_into_unknown_name_errors():
    spec, diags = parse_sim("theta ~ Normall(0, 1)\nX ~ Normal(theta, 1)", "a.md", 1)
    assert [line for line, _ in errors(diags)] == [1]


def test_nothing_reaches_eval():
    for text in ["x = __import__('os').system('true')", "x = (1).__class__", "x = a.b",
                 "x = lambda: 1"]:
        spec, diags = parse_sim(text, "a.md", 1)
        assert spec is None and errors(diags), text


def test_redefinition_in_a_sim_block_is_an_error():
    spec, diags = parse_sim("theta ~ Normal(0, 1)\nX ~ Normal(theta, 1)\nX = theta + 1", "a.md", 5)
    assert spec is None
    assert errors(diags) == [(7, "X is already defined at line 6; give the new variable "
                                 "another name")]


def test_redefinition_from_latex_becomes_an_alternative_with_its_own_nodes():
    text = ("theta ~ Normal(0, lambda)\nX ~ Normal(theta, sigma^2)\n"
            "X = theta + epsilon\nepsilon ~ Normal(theta, sigma^2)")
    spec, diags = parse_sim(text, "a.md", 20, origin="latex")
    assert errors(diags) == []
    assert list(spec.nodes) == ["lambda", "sigma", "theta", "X"]
    assert spec.defaults == {"lambda": 1.0, "sigma": 1.0}
    assert [d.line for d in diags if d.severity == "info"] == [20, 21]
    (alternative,) = spec.alternatives
    assert [(n.name, n.kind, n.line) for n in alternative] == \
        [("epsilon", "stochastic", 23), ("X", "deterministic", 22)]


def test_latex_statements_may_refer_forward():
    spec, diags = parse_sim("X = theta + epsilon\nepsilon ~ Normal(0, 1)\ntheta ~ Normal(0, 1)",
                            "a.md", 1, origin="latex")
    assert errors(diags) == []
    assert list(spec.nodes) == ["epsilon", "theta", "X"]


def test_cycles_are_errors():
    spec, diags = parse_sim("a ~ Normal(b, 1)\nb ~ Normal(a, 1)", "a.md", 1)
    assert spec is None
    assert "depends on itself" in errors(diags)[0][1]


def test_options_and_the_reserved_draws_name():
    spec, _ = parse_sim("x ~ Normal(0, 1)\nn = 5 * 1000\nseed = 42\nshow = x", "a.md", 1)
    assert (spec.n, spec.seed, spec.show) == (5000, 42, ["x"])
    spec, diags = parse_sim("n = 100\nk ~ Binomial(n, 0.5)", "a.md", 1)
    assert spec is None and "number of draws" in errors(diags)[0][1]
    spec, diags = parse_sim("n = 10\nk ~ Binomial(n, 0.5)", "a.md", 1, origin="latex")
    assert errors(diags) == [] and spec.nodes["n"].value == 10
    spec, diags = parse_sim("x ~ Normal(0, 1)\nshow = y", "a.md", 1)
    assert errors(diags) == [(2, "show: unknown name(s) y")]


@pytest.mark.parametrize("text,line,message", [
    ("x = " + "(" * 100 + "1" + ")" * 100, 1, "nested too deeply"),
    ("x = " + "-" * 200 + "1", 1, "nested too deeply"),
    ("x = 2^5000", 1, "exponent 5000 is too large"),
    ("J = 1000000\ntheta[1..J] ~ Normal(0, 1)", 2, "plate size J = 1e+06 is too large"),
    ("J = 2.5\ntheta[1..J] ~ Normal(0, 1)", 2, "whole number"),
    ("n = 1e9\nx ~ Normal(0, 1)", 1, "n must be a whole number"),
    ("n = 1000000\nJ = 100\ntheta[1..J] ~ Normal(0, 1)", 3, "too many values to simulate"),
    ("x[1..I, 1..J, 1..K] ~ Normal(0, 1)", 1, "at most two indices"),
])
def test_resource_bounds_give_clear_diagnostics(text, line, message):
    spec, diags = parse_sim(text, "a.md", 1)
    assert spec is None
    assert any(d.line == line and message in d.message for d in diags), diags
    assert str(MAX_ELEMENTS)  # the cap is a documented constant


def test_data_length_must_match_the_plate():
    spec, diags = parse_sim("J = 3\ny = [1, 2]\nmu ~ Normal(0, 1)\ny[1..J] ~ Normal(mu, 1)",
                            "a.md", 1)
    assert spec is None
    assert errors(diags)[0][0] == 4 and "shape (2,)" in errors(diags)[0][1]


def test_source_text_ignores_comments_and_line_positions():
    a, _ = parse_sim("a = 1  # one\nx ~ Normal(a, 1)", "a.md", 1)
    b, _ = parse_sim("\n\na = 1  # uno\nx ~ Normal(a, 1)", "a.md", 40)
    c, _ = parse_sim("a = 2\nx ~ Normal(a, 1)", "a.md", 1)
    assert a.source_text == b.source_text != c.source_text


def test_expression_parser_precedence():
    assert format_expr(parse_expr("-x^2")) == "-x^2"
    assert format_expr(parse_expr("(a + b) * c - d / (e - f)")) == "(a + b) * c - d / (e - f)"
    assert format_expr(parse_expr("2^3^2")) == "2^3^2"
    assert parse_expr("2^3^2").args[1].op == "^"          # right-associative
    assert format_expr(parse_expr("P(X > 0 and theta < 1)")) == "P(X > 0 and theta < 1)"


def test_a_latex_model_states_its_defaults():
    spec, _ = parse_sim("theta ~ Normal(0, lambda)", "a.md", 1, origin="latex")
    assert [describe_node(n, spec) for n in spec.nodes.values()] == ["lambda = 1", "theta ~ Normal(mean 0, var 1)"]
    assert spec.defaults == {"lambda": 1}
