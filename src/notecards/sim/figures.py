"""Drawing a simulated model: one composed SVG per model.

The figure is a grid two panels wide (4.8 in at 110 px per inch = 528 px, which a desktop shows
at its natural size and a phone at two thirds, where 13 pt labels still read as 10 CSS px): first a graph of the model (`sim.model_graph`; the
whole top row when it is too wide for one column), then one histogram per shown variable with its
exact marginal drawn over it where one is known, then, for a parent → child pair, the joint draws
with the conditional mean E[parent | child] (exact line where the pair is jointly Gaussian,
binned simulated means always). One composed image keeps a card to one media file and one <img>,
and its panels stay in a fixed reading order.

The figure is written as SVG by `sim.svg` and `sim.panel` rather than drawn by matplotlib: a few
milliseconds of CPU instead of 60–70 (matplotlib's artists, ticks and text rasterising, then the
PNG's palette and deflate), a third of the bytes, sharp on a phone's dense screen. See
docs/simulations.md, "Figures".

Heavy tails: a panel shows the central 99.5 % of the draws; when the tails are heavy (an
inverse-gamma with shape ≤ 2 has no variance, and its 99.75 % quantile sits far out) the axis is
clipped to the bulk and the panel says how many draws lie beyond it.

Bytes are identical for equal input: coordinates are written with fixed precision, the style is
fixed (`sim.style`), and the file carries no date or generator.
"""

from __future__ import annotations

import math

import numpy as np

from notecards.sim.caption import caption_html
from notecards.sim.closed_form import ClosedForm
from notecards.sim.figure_options import FigureOptions
from notecards.sim.labels import pretty
from notecards.sim.model import SimResult
from notecards.sim.model_graph import draw_model_graph, height_in, layout, needs_full_width
from notecards.sim.panel import TITLE_PT, WSPACE, Panel, column_left, column_width
from notecards.sim.style import BIN_COLOR, DRAW_COLOR, EXACT_COLOR, INK, MUTED
from notecards.sim.svg import Stroke, Svg, num, relative_d

TOP_IN, BOTTOM_IN, ROW_GAP_IN = 0.9, 0.62, 1.32
TITLE_AT, FIRST_LINE_AT, SECOND_LINE_AT = 38, 20, 3      # points above a panel
TAIL_SPREAD = 12.0        # (q99.75 − median) beyond this many IQRs is a heavy tail
BULK_QUANTILE = 0.97      # where a heavy tail's axis stops


def shown_variables(result: SimResult, options: FigureOptions) -> list[str]:
    """The variables with a panel: the user's `show`, else every unobserved draw in model order."""
    spec = result.spec
    if spec.show:
        names = [n for n in spec.show if n in result.draws]
    else:
        names = [n.name for n in spec.nodes.values()
                 if n.kind in ("stochastic", "deterministic") and n.observed is None and n.name in result.draws]
    return names[: options.max_variables]


def joint_pair(result: SimResult, cf: ClosedForm, shown: list[str]) -> tuple[str, str] | None:
    """A (parent, child) pair of scalar shown variables, preferring one with an exact E[parent | child]."""
    pairs = []
    for child in shown:
        node = result.spec.nodes.get(child)
        if node is None or np.ndim(result.draws[child]) != 1:
            continue
        for parent in node.parents:
            if parent in shown and np.ndim(result.draws[parent]) == 1:
                pairs.append((parent, child))
    exact = [p for p in pairs if cf.conditional_mean(*p) is not None]
    return (exact or pairs or [None])[0]


def figure_caption(result: SimResult, image_name: str, options: FigureOptions, claims: list | None = None) -> str:
    return caption_html(result.spec, result.checks, result.comparisons, image_name, figure_alt(result, options),
                        claims or [])


def figure_alt(result: SimResult, options: FigureOptions) -> str:
    """What the figure shows, in words: the image's alt text and the SVG's title."""
    return "Simulated draws of " + ", ".join(pretty(n) for n in shown_variables(result, options)) + \
        " with the model graph"


def render_figure(result: SimResult, cf: ClosedForm, options: FigureOptions) -> bytes:
    """The composed SVG for one simulated model."""
    shown = shown_variables(result, options)
    pair = joint_pair(result, cf, shown)
    graph = layout(result.spec)
    full = needs_full_width(result.spec, graph, options.panel_height_in, column_width(options.width_in))
    kinds = ("graph",) + tuple("marginal" for _ in shown) + (("joint",) if pair else ())
    svg, panels = figure_grid(len(kinds), height_in(result.spec, graph) if full else None, options)
    draw_model_graph(panels[0], result.spec, graph)
    _title(panels[0], "model")
    for panel, name in zip(panels[1:], shown):
        draw_marginal(panel, result, cf, name, options)
    if pair:
        draw_joint(panels[-1], result, cf, pair, options)
    return svg.to_bytes(figure_alt(result, options))


def figure_grid(count: int, full_graph_in: float | None, options: FigureOptions) -> tuple[Svg, list[Panel]]:
    """A figure (transparent: see `sim.style`) and its `count` panels, two to a row; the first (the graph) takes the whole
    top row, `full_graph_in` inches tall at least, when it is too wide for one column."""
    dpi = options.dpi
    full = full_graph_in is not None
    cells = count + (1 if full else 0)
    rows = math.ceil(cells / 2)
    heights = [max(options.panel_height_in, full_graph_in or 0.0)] + [options.panel_height_in] * (rows - 1)
    width = options.width_in * dpi
    svg = Svg(width, (sum(heights) + TOP_IN + BOTTOM_IN + (rows - 1) * ROW_GAP_IN) * dpi)
    column = column_width(width)
    tops = [TOP_IN + sum(heights[:r]) + r * ROW_GAP_IN for r in range(rows)]
    boxes = [(column_left(width, column, 0), tops[0] * dpi, 2 * column + column * WSPACE, heights[0] * dpi)] \
        if full else []
    for cell in range(2 if full else 0, cells):
        r, c = divmod(cell, 2)
        boxes.append((column_left(width, column, c), tops[r] * dpi, column, heights[r] * dpi))
    return svg, [Panel(svg, *box, px_per_pt=dpi / 72) for box in boxes]


# ---------------------------------------------------------------- panels

def _finite_values(draws: np.ndarray) -> np.ndarray:
    values = np.asarray(draws, dtype=float).ravel()
    return values[np.isfinite(values)]


def plot_range(values: np.ndarray) -> tuple[float, float, float]:
    """(low, high, share of draws left out by a clipped axis): the central 99.5 % of the draws,
    or — when a tail is heavy — the bulk up to the `BULK_QUANTILE`, so one tail cannot squash the
    histogram to a spike. The share is 0 unless a heavy tail was clipped."""
    lo, q25, q50, q75, hi = np.quantile(values, [0.0025, 0.25, 0.5, 0.75, 0.9975])
    iqr = max(q75 - q25, 1e-12)
    clipped = False
    if hi - q50 > TAIL_SPREAD * iqr:
        hi, clipped = np.quantile(values, BULK_QUANTILE), True
    if q50 - lo > TAIL_SPREAD * iqr:
        lo, clipped = np.quantile(values, 1 - BULK_QUANTILE), True
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    outside = float(np.mean((values < lo) | (values > hi))) if clipped else 0.0
    return float(lo), float(hi), outside


def draw_marginal(panel: Panel, result: SimResult, cf: ClosedForm, name: str, options: FigureOptions) -> None:
    """Histogram of one variable's draws with its exact marginal over it."""
    node = result.spec.nodes.get(name)
    values = _finite_values(result.draws[name])
    _title(panel, pretty(name, node) + (f" (all {','.join(node.indices)})" if node is not None and node.plates else ""))
    if values.size == 0:
        panel.centre_note("no finite draws", INK)
        return
    marginal = cf.marginals.get(name)
    integer = bool(np.all(values == np.round(values))) and np.ptp(values) <= 60
    if integer:
        outside = 0.0
        _draw_counts(panel, values, marginal)
    else:
        lo, hi, outside = plot_range(values)
        _draw_histogram(panel, values, marginal, (lo, hi), options.bins)
    panel.bottom_axis()
    _panel_note(panel, values, marginal, outside)


def _draw_counts(panel: Panel, values: np.ndarray, marginal) -> None:
    """A bar per value a discrete variable took, its exact probabilities as dots."""
    support, counts = np.unique(values, return_counts=True)
    heights = counts / values.size
    pmf = marginal.frozen.pmf(support) if marginal is not None and marginal.discrete else None
    top = max(float(heights.max()), float(np.max(pmf)) if pmf is not None else 0.0)
    panel.xlim = (float(support[0]) - 0.7, float(support[-1]) + 0.7)
    panel.ylim = (0.0, (top or 1.0) * 1.05)
    left, right, tops = panel.px(support - 0.4), panel.px(support + 0.4), panel.py(heights)
    base = num(panel.y + panel.h)
    bars = "".join(f"M{num(x0)} {base}V{num(y)}H{num(x1)}V{base}Z" for x0, x1, y in zip(left, right, tops))
    panel.svg.path(bars, fill=DRAW_COLOR, opacity=0.55)
    if pmf is not None:
        panel.svg.dots(panel.px(support), panel.py(pmf), panel.pt(5), EXACT_COLOR)


def _draw_histogram(panel: Panel, values: np.ndarray, marginal, limits: tuple[float, float], bins: int) -> None:
    """A density histogram as one filled outline, the exact density as a line over it."""
    lo, hi = limits
    density, edges = np.histogram(values, bins=bins, range=(lo, hi))
    density = density / (values.size * (edges[1] - edges[0]))
    top = float(density.max())
    pdf = grid = None
    if marginal is not None and not marginal.discrete:
        grid = np.linspace(lo, hi, 120)
        pdf = marginal.frozen.pdf(grid)
        top = max(top, float(np.nanmax(pdf)) if np.isfinite(pdf).any() else 0.0)
    panel.xlim, panel.ylim = (lo, hi), (0.0, (top or 1.0) * 1.05)
    outline = panel.stairs_d(edges, density) + "Z"
    panel.svg.path(outline, fill=DRAW_COLOR, opacity=0.55)
    if pdf is not None:
        panel.svg.path(_line_d(panel.px(grid), panel.py(pdf)), stroke=Stroke(EXACT_COLOR, panel.pt(2.2)),
                       clip=panel.clip(), joined=True)


def _line_d(xs: np.ndarray, ys: np.ndarray) -> str:
    """Path data through the finite points, broken where a value is not finite."""
    finite = np.isfinite(xs) & np.isfinite(ys)
    runs, start = [], None
    for k, ok in enumerate([*finite, False]):
        if ok and start is None:
            start = k
        elif not ok and start is not None:
            runs.append(relative_d(xs[start:k], ys[start:k]))
            start = None
    return "".join(runs)


def _panel_note(panel: Panel, values: np.ndarray, marginal, outside: float) -> None:
    """Simulated moments and the exact law under the title, coloured like what they describe;
    a clipped axis says how many draws it leaves out."""
    exact_var = float(marginal.frozen.var()) if marginal is not None else math.nan
    sample_var = float(values.var(ddof=1))
    var = "∞ (exact)" if math.isinf(exact_var) else _fmt(sample_var, sample_var * math.sqrt(2 / values.size))
    mean = _fmt(float(values.mean()), math.sqrt(sample_var / values.size))
    panel.above(f"sim: mean {mean}, var {var}", FIRST_LINE_AT, DRAW_COLOR)
    if marginal is not None:
        panel.above(f"exact: {marginal.label}", SECOND_LINE_AT, EXACT_COLOR)
    if outside > 0:
        panel.note_below(f"{outside:.1%} of draws beyond the axis", MUTED)


def _title(panel: Panel, text: str) -> None:
    panel.above(text, TITLE_AT, "#000000", size_pt=TITLE_PT, bold=True)


def _fmt(x: float, error: float | None = None) -> str:
    """A number to three significant digits, or — when its Monte Carlo `error` is larger than
    that — to the error's first digit: a mean of −0.00991 ± 0.014 is "−0.01", whose last digit
    means something."""
    text = f"{x:#.3g}".rstrip(".") if error is not None else f"{x:.3g}"
    if error is not None and error > 0 and math.isfinite(error) and math.isfinite(x):
        decimals = max(0, -math.floor(math.log10(error)))
        rounded = f"{x:.{decimals}f}"
        if len(rounded) < len(text):
            text = rounded.lstrip("-") if float(rounded) == 0 else rounded
    return text.replace("-", "\u2212")


def draw_joint(panel: Panel, result: SimResult, cf: ClosedForm, pair: tuple[str, str], options: FigureOptions) -> None:
    """Joint draws of parent (y) against child (x), with E[parent | child] exact and binned; the
    legend goes under the title, never over the draws."""
    parent, child = pair
    x = np.asarray(result.draws[child], dtype=float)
    y = np.asarray(result.draws[parent], dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    lo, hi, _ = plot_range(x)
    ylo, yhi, _ = plot_range(y)
    panel.xlim, panel.ylim = (lo, hi), (ylo, yhi)
    panel.make_room_for_left_axis()
    clip = panel.clip()
    step = max(1, x.size // options.scatter_points)
    sx, sy = x[::step], y[::step]
    seen = (sx >= lo) & (sx <= hi) & (sy >= ylo) & (sy <= yhi)
    panel.svg.dots(panel.px(sx[seen]), panel.py(sy[seen]), panel.pt(math.sqrt(5)), DRAW_COLOR, 0.35, clip)
    centres, means = binned_means(x, y, lo, hi)
    panel.svg.dots(panel.px(centres), panel.py(means), panel.pt(4.5), BIN_COLOR, clip=clip)
    p, c = pretty(parent), pretty(child)
    _title(panel, f"{p} given {c}")
    panel.above(f"● sim E[{p} | {c}]", FIRST_LINE_AT, BIN_COLOR)
    exact = cf.conditional_mean(parent, child)
    if exact is not None:
        ends = np.array([lo, hi])
        panel.svg.path(_line_d(panel.px(ends), panel.py(exact.intercept + exact.slope * ends)),
                       stroke=Stroke(EXACT_COLOR, panel.pt(2.2)), clip=clip)
        panel.above(f"— exact {_slope_label(exact.slope, exact.intercept, c)}", SECOND_LINE_AT, EXACT_COLOR)
    panel.bottom_axis(c)
    panel.left_axis(p)


def _slope_label(slope: float, intercept: float, x: str) -> str:
    body = f"{slope:.3g}·{x}"
    return body if abs(intercept) < 1e-9 else f"{intercept:.3g} + {body}"


def binned_means(x: np.ndarray, y: np.ndarray, lo: float, hi: float, bins: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Simulated E[y | x] over equal-width bins of x that hold enough draws to mean something."""
    edges = np.linspace(lo, hi, bins + 1)
    which = np.digitize(x, edges) - 1
    inside = (which >= 0) & (which < bins)
    counts = np.bincount(which[inside], minlength=bins)
    sums = np.bincount(which[inside], weights=y[inside], minlength=bins)
    keep = counts >= 30
    centres = (edges[:-1] + edges[1:]) / 2
    return centres[keep], sums[keep] / counts[keep]
