"""A fitted card's figures as SVG: phone-sized, every word inside the figure and off the data,
transparent, small, and the same bytes in every process."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from notecards.infer import fit
from notecards.infer.drawing import extremes
from notecards.infer.figures import fit_figures
from notecards.sim.figure_options import FIGURE_OPTIONS
from notecards.sim.lang import parse_sim
from notecards.sim.svg import text_width

SVG = "{http://www.w3.org/2000/svg}"
EIGHT_SCHOOLS = """\
y = [28, 8, -3, 7, -1, 1, 18, 12]
s = [15, 10, 16, 11, 9, 11, 10, 18]
J = 8
mu ~ Normal(0, 100)
tau ~ HalfCauchy(5)
theta[1..J] ~ Normal(mu, tau^2)
y[j] ~ Normal(theta[j], s[j]^2)
"""
SCHOOLS = ["Lincoln", "Hillside", "Riverside", "Oakwood", "Brookfield", "Maple Grove", "Eastgate",
           "a school whose name is long"]


def figures_of(text: str = EIGHT_SCHOOLS, labels: bool = False, draws: int = 300) -> dict[str, bytes]:
    spec, diagnostics = parse_sim(text, "note.md", 1)
    assert not [d for d in diagnostics if d.severity == "error"]
    result = fit(spec, seed=5, draws=draws, warmup=200)
    if labels:                  # as a table's grouping column labels them (tests/test_fit_pipeline.py)
        result.labels = {f"theta[{k + 1}]": name for k, name in enumerate(SCHOOLS)}
    return dict(fit_figures(spec, result))


@pytest.fixture(scope="module")
def labelled() -> dict[str, bytes]:
    return figures_of(labels=True)


def text_box(text: ET.Element) -> tuple[float, float, float, float]:
    """(left, right, top, bottom) of a horizontal line of text, from its anchor and size."""
    x, y, size = float(text.get("x")), float(text.get("y")), float(text.get("font-size"))
    extent = text_width(text.text, size, bold=text.get("font-weight") == "bold")
    left = {"start": x, "middle": x - extent / 2, "end": x - extent}[text.get("text-anchor", "start")]
    return left, left + extent, y - 0.76 * size, y + 0.24 * size


def test_each_figure_is_a_phone_width_transparent_svg_whose_words_are_text_inside_it(labelled):
    assert list(labelled) == ["posterior", "shrinkage", "trace", "ppc"]
    assert_phone_sized(labelled)


def assert_phone_sized(figures: dict[str, bytes]) -> None:
    for kind, data in figures.items():
        root = ET.fromstring(data)
        width, height = float(root.get("width")), float(root.get("height"))
        assert width == FIGURE_OPTIONS.width_in * FIGURE_OPTIONS.dpi == 528, kind
        assert b"matplotlib" not in data and b"<script" not in data and b"<metadata" not in data
        for rect in root.iter(f"{SVG}rect"):       # an interval's band, never a background
            assert float(rect.get("width")) < width / 2, kind
        for text in root.iter(f"{SVG}text"):
            left, right, top, bottom = text_box(text)
            assert 0 <= left and right <= width and 0 <= top and bottom <= height, (kind, text.text)
            assert float(text.get("font-size")) >= 16, (kind, text.text)      # 12 CSS px at 390 px


def words(data: bytes) -> list[str]:
    return [t.text for t in ET.fromstring(data).iter(f"{SVG}text")]


def test_the_figures_say_what_the_matplotlib_ones_said(labelled):
    posterior, shrinkage = words(labelled["posterior"]), words(labelled["shrinkage"])
    assert {"μ | data", "τ | data"} <= set(posterior)
    assert any(w.startswith("towards the posterior mean of μ") and w.endswith("(dashed)") for w in shrinkage)
    assert {"raw group estimate", "posterior mean of θ", "Lincoln", "Oakwood"} <= set(shrinkage)
    assert "a school whose na…" in shrinkage                     # cut to 18 characters; the caption has it whole
    trace = words(labelled["trace"])
    assert {"μ", "τ"} <= set(trace) and sum(w.startswith("R-hat ") and ", ESS " in w for w in trace) == 2
    assert {"y", "data (dots), 90% predictive", "observation"} <= set(words(labelled["ppc"]))
    assert [str(k) for k in range(1, 9)] == [w for w in words(labelled["ppc"]) if w.isdigit() and len(w) == 1][:8]


def many_observations() -> str:
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(1, 6), 10)
    y = np.round(50 + 5 * rng.standard_normal(group.size) + group, 1)
    return (f"y = {y.tolist()}\ng = {group.tolist()}\nI = {y.size}\nJ = 5\nmu ~ Normal(0, 10000)\n"
            "tau ~ HalfCauchy(10)\nsigma2 ~ InverseGamma(2, 20)\ntheta[1..J] ~ Normal(mu, tau^2)\n"
            "y[i] ~ Normal(theta[g[i]], sigma2)\n")


def test_fifty_observations_are_checked_by_histograms_and_three_hyperparameters_take_two_rows():
    figures = figures_of(many_observations(), draws=200)
    assert_phone_sized(figures)
    assert {"y", "data (black) vs replicates"} <= set(words(figures["ppc"]))
    assert "observation" not in words(figures["ppc"])
    paths = [p for p in ET.fromstring(figures["ppc"]).iter(f"{SVG}path") if p.get("stroke-opacity") == "0.25"]
    assert len(paths) == 20                                      # each replicate its own line, as drawn
    assert {"μ | data", "τ | data", "σ² | data"} <= set(words(figures["posterior"]))


def test_group_labels_sit_right_of_the_data_and_apart_from_one_another(labelled):
    root = ET.fromstring(labelled["shrinkage"])
    marks = [float(d.split()[0][1:]) for d in (p.get("d") for p in root.iter(f"{SVG}path")) if d.endswith("h0")]
    rightmost = max(marks)                                       # the posterior means' dots
    names = [t for t in root.iter(f"{SVG}text") if t.text in SCHOOLS or t.text.endswith("…")]
    assert len(names) == 8
    boxes = sorted(text_box(t) for t in names)
    assert all(left > rightmost + 4 for left, *_ in boxes)
    spans = sorted((top, bottom) for _, _, top, bottom in boxes)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))   # no label over another
    raw, post = (text_box(t) for t in root.iter(f"{SVG}text")
                 if t.text in ("raw group estimate", "posterior mean of θ"))
    assert raw[1] < post[0]                                      # the narrowed panel's two axis labels too


def test_a_trace_keeps_every_chain_s_highest_and_lowest_draw_in_order():
    rng = np.random.default_rng(3)
    chain = rng.standard_normal(2000)
    chain[777], chain[1500] = 9.0, -9.0                          # a spike a reader must see
    kept = extremes(chain, 240)
    assert np.all(np.diff(kept) > 0) and {777, 1500} <= set(kept.tolist())
    assert kept.size <= 480
    for start in range(0, 2000, 9):                              # each run of 2000/240 draws keeps its extremes
        inside = chain[kept[(kept >= start) & (kept < start + 9)]]
        assert (inside.min(), inside.max()) == (chain[start:start + 9].min(), chain[start:start + 9].max())
    assert extremes(chain[:100], 240).tolist() == list(range(100))


def test_a_fitted_card_s_figures_are_small(labelled):
    sizes = {kind: len(data) for kind, data in labelled.items()}
    assert sizes["trace"] <= 12 * 1024 * 2                        # two parameters, 4 chains × 300 draws
    assert max(sizes[k] for k in ("posterior", "shrinkage", "ppc")) <= 8 * 1024, sizes


RENDER_IN_CHILD = textwrap.dedent("""
    import hashlib, sys
    sys.path.insert(0, {tests!r})
    from test_infer_figures import figures_of
    for _ in range({before}):        # figures drawn first leave nothing behind
        figures_of(draws=120)
    print(hashlib.sha256(b"".join(figures_of(labels=True).values())).hexdigest())
""")


def test_fit_figures_are_the_same_bytes_in_separate_processes(labelled):
    import notecards

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(notecards.__file__).parents[1])}
    digests = {subprocess.run([sys.executable, "-c", RENDER_IN_CHILD.format(tests=str(Path(__file__).parent),
                                                                           before=before)],
                              capture_output=True, text=True, check=True, env=env, timeout=300).stdout.strip()
               for before in (0, 1)}
    assert digests == {hashlib.sha256(b"".join(labelled.values())).hexdigest()}
