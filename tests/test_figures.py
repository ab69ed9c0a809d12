"""Figures and closed forms of simulated models: exact overlays, the graph, the caption, and
SVG bytes that do not change between runs."""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from notecards.sim.closed_form import closed_form
from notecards.sim.figures import binned_means, figure_caption, render_figure
from notecards.sim.model_graph import layout, plate_of
from notecards.sim.model import CheckResult, Comparison, Expr, ModelSpec, Node, SimResult
from notecards.sim.figure_options import FIGURE_OPTIONS


def num(v: float) -> Expr:
    return Expr("num", value=float(v))


def name(v: str) -> Expr:
    return Expr("name", value=v)


def op(o: str, a: Expr, b: Expr) -> Expr:
    return Expr(o, (a, b))


def const(n: str, value, line: int = 1) -> Node:
    return Node(n, "const", line, f"{n} = {value}", value=value)


def normal(n: str, mean: Expr, var: Expr, parents: list[str], line: int = 1, **kw) -> Node:
    return Node(n, "stochastic", line, dist="Normal", args={"mean": mean, "var": var}, parents=parents, **kw)


def hierarchical_spec(lam: float = 4.0, sigma: float = 1.0, defaults: bool = False) -> ModelSpec:
    """theta ~ N(0, lambda), X ~ N(theta, sigma^2): the vault's canonical card."""
    nodes = {} if defaults else {"lambda": const("lambda", lam, 2), "sigma": const("sigma", sigma, 3)}
    nodes["theta"] = normal("theta", num(0), name("lambda"), ["lambda"], 4)
    nodes["X"] = normal("X", name("theta"), op("^", name("sigma"), num(2)), ["theta", "sigma"], 5)
    return ModelSpec("note.md", 1, nodes=nodes, n=20000,
                     defaults={"lambda": lam, "sigma": sigma} if defaults else {})


def hierarchical_result(spec: ModelSpec, seed: int = 7) -> SimResult:
    rng = np.random.default_rng(seed)
    lam = spec.defaults.get("lambda") or spec.nodes["lambda"].value
    sigma = spec.defaults.get("sigma") or spec.nodes["sigma"].value
    theta = rng.normal(0, np.sqrt(lam), spec.n)
    return SimResult(spec, {"theta": theta, "X": rng.normal(theta, sigma)})


def test_hierarchical_marginals_and_shrinkage_line_are_exact():
    cf = closed_form(hierarchical_spec(lam=4.0, sigma=1.5))
    assert cf.marginals["theta"].frozen.var() == pytest.approx(4.0)
    assert cf.marginals["X"].frozen.mean() == pytest.approx(0.0)
    assert cf.marginals["X"].frozen.var() == pytest.approx(4.0 + 1.5**2)
    line = cf.conditional_mean("theta", "X")
    assert line.slope == pytest.approx(4.0 / (4.0 + 1.5**2))
    assert line.intercept == pytest.approx(0.0)


def test_affine_chain_marginal_matches_the_formula_and_the_draws():
    """X ~ N(a·theta + b, s²) with theta ~ N(m, v) gives X ~ N(a·m + b, a²v + s²)."""
    a, b, s2, m, v = 2.0, -1.0, 0.5, 3.0, 2.0
    spec = ModelSpec("n.md", 1, nodes={
        "theta": normal("theta", num(m), num(v), []),
        "X": normal("X", op("+", op("*", num(a), name("theta")), num(b)), num(s2), ["theta"]),
    })
    marginal = closed_form(spec).marginals["X"].frozen
    assert marginal.mean() == pytest.approx(a * m + b)
    assert marginal.var() == pytest.approx(a * a * v + s2)
    rng = np.random.default_rng(3)
    x = a * rng.normal(m, np.sqrt(v), 40000) + b + rng.normal(0, np.sqrt(s2), 40000)
    assert abs(x.mean() - marginal.mean()) < 4 * marginal.std() / np.sqrt(x.size)


def test_structural_equation_is_a_gaussian_sum():
    """X = theta + epsilon with independent normal parts: var(X) = lambda + sigma²."""
    spec = ModelSpec("n.md", 1, nodes={
        "lambda": const("lambda", 4.0), "sigma": const("sigma", 1.0),
        "theta": normal("theta", num(0), name("lambda"), ["lambda"]),
        "epsilon": normal("epsilon", num(0), op("^", name("sigma"), num(2)), ["sigma"]),
        "X": Node("X", "deterministic", 5, expr=op("+", name("theta"), name("epsilon")), parents=["theta", "epsilon"]),
    })
    cf = closed_form(spec)
    assert cf.marginals["X"].frozen.var() == pytest.approx(5.0)
    assert cf.conditional_mean("theta", "X").slope == pytest.approx(0.8)


def test_nonlinear_models_get_no_overlay_rather_than_a_wrong_one():
    spec = ModelSpec("n.md", 1, nodes={
        "theta": normal("theta", num(0), num(1), []),
        "X": normal("X", op("^", name("theta"), num(2)), num(1), ["theta"]),
        "tau": Node("tau", "stochastic", 3, dist="HalfCauchy", args={"scale": num(1)}),
        "Y": normal("Y", num(0), name("tau"), ["tau"]),
    })
    cf = closed_form(spec)
    assert "theta" in cf.marginals
    assert "X" not in cf.marginals and "Y" not in cf.marginals
    assert cf.conditional_mean("theta", "X") is None


def test_roots_and_plates_with_constant_arguments_use_their_own_law():
    s = np.array([15.0, 10.0, 16.0])
    spec = ModelSpec("n.md", 1, nodes={
        "J": const("J", 3.0), "s": Node("s", "data", 2, value=s),
        "sigma2": Node("sigma2", "stochastic", 3, dist="InverseGamma", args={"shape": num(3), "scale": num(2)}),
        "k": Node("k", "stochastic", 4, dist="Poisson", args={"rate": num(3)}),
        "theta": normal("theta", num(0), num(25), ["J"], plates=("J",), indices=("j",)),
        "y": normal("y", Expr("index", (name("theta"), name("j"))),
                    op("^", Expr("index", (name("s"), name("j"))), num(2)), ["theta", "s", "J"],
                    plates=("J",), indices=("j",)),
    })
    cf = closed_form(spec)
    assert cf.marginals["sigma2"].frozen.mean() == pytest.approx(1.0)      # b / (a - 1)
    assert cf.marginals["k"].discrete
    assert cf.marginals["theta"].frozen.var() == pytest.approx(25.0)
    assert "y" not in cf.marginals                                          # a mixture over j
    assert plate_of(spec, "s") == "J" and plate_of(spec, "sigma2") is None


def test_simulated_conditional_mean_follows_the_exact_line():
    spec = hierarchical_spec(lam=4.0, sigma=1.0)
    result = hierarchical_result(spec)
    line = closed_form(spec).conditional_mean("theta", "X")
    centres, means = binned_means(result.draws["X"], result.draws["theta"], -4.0, 4.0, bins=8)
    sd_given_x = np.sqrt(4.0 * 1.0 / 5.0)
    for c, m in zip(centres, means):
        in_bin = np.abs(result.draws["X"] - c) <= 0.5
        # the line is evaluated at the bin centre; the bin's own spread of x adds a little bias
        tolerance = 4 * sd_given_x / np.sqrt(in_bin.sum()) + line.slope * 0.05
        assert abs(m - (line.intercept + line.slope * c)) < tolerance


def test_graph_puts_parents_above_children_and_constants_beside():
    placed = {n.name: n for n in layout(hierarchical_spec())}
    assert {n for n, p in placed.items() if p.const} == {"lambda", "sigma"}
    assert placed["lambda"].y > placed["theta"].y > placed["X"].y
    assert placed["sigma"].y == placed["theta"].y


SVG = "{http://www.w3.org/2000/svg}"


def test_figure_is_a_phone_sized_svg_with_its_words_as_text_and_no_date_or_generator():
    spec = hierarchical_spec()
    data = render_figure(hierarchical_result(spec), closed_form(spec), FIGURE_OPTIONS)
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    assert width == FIGURE_OPTIONS.width_in * FIGURE_OPTIONS.dpi and 400 < height < 1400
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    words = [t.text for t in root.iter(f"{SVG}text")]
    assert {"model", "θ", "X", "θ given X", "exact: N(0, 4)"} <= set(words)
    assert root.find(f"{SVG}title").text == "Simulated draws of θ, X with the model graph"
    assert b"matplotlib" not in data.lower() and b"<metadata" not in data and b"<script" not in data
    backgrounds = [r for r in root.iter(f"{SVG}rect") if r.get("fill") not in (None, "none")]
    assert backgrounds == []               # transparent: the card's own background shows, in either theme


def chain_spec(lam: float) -> ModelSpec:
    """theta → X → Y showing theta and X: the graph takes the top row, so the joint sits in the
    left column, where the room for its y axis's labels is the figure's margin."""
    spec = hierarchical_spec(lam=lam)
    spec.nodes["Y"] = normal("Y", name("X"), num(1), ["X"], 6)
    spec.show = ["theta", "X"]
    return spec


def chain_result(spec: ModelSpec) -> SimResult:
    result = hierarchical_result(spec)
    result.draws["Y"] = np.random.default_rng(8).normal(result.draws["X"], 1.0)
    return result


def heavy_tail_spec() -> ModelSpec:
    """s2 ~ InverseGamma(1.5, 1) and neg = 10 − s2: a right and a left heavy tail, both clipped."""
    nodes = {"s2": Node("s2", "stochastic", 1, dist="InverseGamma", args={"shape": num(1.5), "scale": num(1)}),
             "neg": Node("neg", "deterministic", 2, expr=op("-", num(10), name("s2")), parents=["s2"])}
    return ModelSpec("note.md", 1, nodes=nodes, n=20000)


def heavy_tail_result(spec: ModelSpec) -> SimResult:
    from scipy import stats

    s2 = stats.invgamma(1.5, scale=1.0).rvs(spec.n, random_state=np.random.default_rng(5))
    return SimResult(spec, {"s2": s2, "neg": 10 - s2})


CASES = {"canonical": (hierarchical_spec, hierarchical_result), "chain": (lambda: chain_spec(4e6), chain_result),
         "heavy tails": (heavy_tail_spec, heavy_tail_result)}


@pytest.mark.parametrize("case", CASES)
def test_every_word_and_shape_of_a_figure_lies_inside_it(case):
    from notecards.sim.svg import text_width

    make_spec, make_result = CASES[case]
    spec = make_spec()
    drawn = make_result(spec)
    root = ET.fromstring(render_figure(drawn, closed_form(spec), FIGURE_OPTIONS))
    width, height = float(root.get("width")), float(root.get("height"))
    for text in root.iter(f"{SVG}text"):
        x, y, size = float(text.get("x")), float(text.get("y")), float(text.get("font-size"))
        extent = text_width(text.text, size) * (1.1 if text.get("font-weight") == "bold" else 1.0)
        start = {"start": x, "middle": x - extent / 2, "end": x - extent}[text.get("text-anchor", "start")]
        if text.get("transform"):          # the y label reads upwards, its baseline at x, its top left of it
            assert 0.76 * size <= x < width and extent / 2 < y < height - extent / 2, text.text
        else:
            assert 0 <= start and start + extent <= width and size <= y <= height, text.text
    for shape in root.iter(f"{SVG}ellipse"):
        assert 0 < float(shape.get("cx")) < width and 0 < float(shape.get("cy")) < height


def test_a_figure_is_small():
    spec = hierarchical_spec()
    data = render_figure(hierarchical_result(spec), closed_form(spec), FIGURE_OPTIONS)
    assert len(data) <= 20 * 1024                          # the scatter-heavy kind; the median is lower


RENDER_IN_CHILD = textwrap.dedent("""
    import hashlib, sys
    sys.path.insert(0, {tests!r})
    from test_figures import hierarchical_spec, hierarchical_result
    from notecards.sim.closed_form import closed_form
    from notecards.sim.figures import render_figure
    from notecards.sim.figure_options import FIGURE_OPTIONS
    for lam in {before!r}:          # figures drawn first leave nothing behind
        other = hierarchical_spec(lam=lam)
        render_figure(hierarchical_result(other, seed=3), closed_form(other), FIGURE_OPTIONS)
    spec = hierarchical_spec()
    png = render_figure(hierarchical_result(spec), closed_form(spec), FIGURE_OPTIONS)
    print(hashlib.sha256(png).hexdigest())
""")


def test_renders_in_separate_processes_give_identical_bytes_whatever_was_drawn_before():
    from pathlib import Path

    import notecards

    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "pdf", "PYTHONPATH": str(Path(notecards.__file__).parents[1])}
    digests = {subprocess.run([sys.executable, "-c", RENDER_IN_CHILD.format(tests=str(Path(__file__).parent),
                                                                           before=before)],
                              capture_output=True, text=True, check=True, env=env).stdout.strip()
               for before in ([], [9.0], [2.0, 25.0])}
    spec = hierarchical_spec()
    here = hashlib.sha256(render_figure(hierarchical_result(spec), closed_form(spec), FIGURE_OPTIONS)).hexdigest()
    assert digests == {here}


def test_caption_states_model_values_defaults_and_how_to_set_them():
    spec = hierarchical_spec(defaults=True)
    result = hierarchical_result(spec)
    html = figure_caption(result, "nc-sim-abc.png", FIGURE_OPTIONS)
    assert 'src="nc-sim-abc.png"' in html
    assert "theta ~ Normal(mean 0, var lambda)" in html
    assert "X ~ Normal(mean theta, var sigma^2)" in html
    assert "λ = 4 <i>(default)</i>" in html and "σ = 1 <i>(default)</i>" in html
    assert "```sim" in html and "n = 20000 draws" in html


def test_caption_shows_checks_and_marks_a_disagreement_with_both_summaries():
    spec = hierarchical_spec()
    result = hierarchical_result(spec)
    result.checks = [CheckResult(6, "var(X) ≈ lambda + sigma^2", 4.97, 5.0, -0.61, True),
                     CheckResult(7, "mean(X) ≈ 1", 0.01, 1.0, -44.0, False)]
    result.comparisons = [Comparison("X", 9, {"mean": 0.0, "var": 5.0}, {"mean": 0.0, "var": 8.0}, 1e-9, False)]
    html = figure_caption(result, "f.png", FIGURE_OPTIONS)
    assert '<span class="nc-pass">✓</span>' in html and "✗ failed" in html and "-44.00" in html
    expression = re.search(r'<td style="([^"]*)"><code>var\(X\)', html).group(1)
    assert "white-space:normal" in expression and "overflow-wrap:normal" in expression   # wraps between words only
    assert 'figcaption class="nc-caption" style="text-align:left"' in html               # stock Basic centres text
    assert "disagree" in html and "var 5" in html and "var 8" in html
    assert "line 9" not in html                                    # source lines are for `notecards sim`
    assert "λ = 4</span>;" in html and "<i>(default)</i>" not in html


def test_a_heavy_tail_is_clipped_to_the_bulk_and_the_clipped_share_is_stated():
    from scipy import stats

    from notecards.sim.figures import plot_range

    draws = stats.invgamma(1.0, scale=1.0).rvs(20000, random_state=np.random.default_rng(3))  # no variance
    lo, hi, outside = plot_range(draws)
    assert hi == pytest.approx(np.quantile(draws, 0.97)) and hi < 50
    assert outside == pytest.approx(0.03, abs=0.003)
    normal = np.random.default_rng(3).normal(size=20000)
    assert plot_range(normal)[2] == 0.0                    # a light tail is never said to be clipped


def test_the_clipped_share_is_said_under_the_axis_never_over_the_draws():
    spec = heavy_tail_spec()
    root = ET.fromstring(render_figure(heavy_tail_result(spec), closed_form(spec), FIGURE_OPTIONS))
    notes = [t for t in root.iter(f"{SVG}text") if "of draws beyond the axis" in t.text]
    assert len(notes) == 2                                 # both tails: s2's right, neg's left
    bars = [p for p in root.iter(f"{SVG}path") if p.get("fill-opacity") == "0.55"]
    for note, bar in zip(notes, bars):
        base = float(bar.get("d")[1:].split("l")[0].split()[1])      # the histogram's baseline, y
        assert float(note.get("y")) > base                 # below the panel's data


def test_a_simulated_mean_shows_no_digit_finer_than_its_monte_carlo_error():
    spec = hierarchical_spec()
    result = hierarchical_result(spec)
    root = ET.fromstring(render_figure(result, closed_form(spec), FIGURE_OPTIONS))
    lines = {t.text for t in root.iter(f"{SVG}text") if t.text.startswith("sim: mean")}
    theta = result.draws["theta"]
    error = theta.std() / np.sqrt(theta.size)                 # 0.014: the second decimal is the last that means anything
    expected = f"{theta.mean():.2f}".replace("-", "−")
    assert f"sim: mean {expected}, var {theta.var(ddof=1):.3g}" in lines, (lines, error)
