"""Drawing a simulated model: one composed PNG per model.

The figure is a grid two panels wide (6.4 in × 110 dpi = 704 px, which a phone shows at full
width and a desktop at its natural size): first a graph of the model (`sim.model_graph`; the
whole top row when it is too wide for one column), then one histogram per shown variable with its
exact marginal drawn over it where one is known, then, for a parent → child pair, the joint draws
with the conditional mean E[parent | child] (exact line where the pair is jointly Gaussian,
binned simulated means always). One composed image keeps a card to one media file and one <img>,
and its panels stay in a fixed reading order.

Speed: building a matplotlib figure and its axes costs more than drawing into them, so a worker
keeps one figure per shape (the sequence of panel kinds and the graph's size) and reuses it for
the next card of that shape, removing only the artists the last card added. Every limit and
label is set explicitly for each card, so a reused figure draws the same bytes as a fresh one.
A histogram is one artist (`stairs`), a bar chart one collection.

Heavy tails: a panel shows the central 99.5 % of the draws; when the tails are heavy (an
inverse-gamma with shape ≤ 2 has no variance, and its 99.75 % quantile sits far out) the axis is
clipped to the bulk and the panel says how many draws lie beyond it.

Bytes are identical for equal input: the Agg canvas is used directly (no pyplot state), the
style is fixed (`sim.style`), the font is the DejaVu Sans that ships with matplotlib, layout is
computed in inches (no tight/constrained layout), and the PNG carries no metadata.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from notecards.sim.caption import caption_html
from notecards.sim.closed_form import ClosedForm
from notecards.sim.labels import pretty
from notecards.sim.model import SimResult
from notecards.sim.model_graph import draw_model_graph, height_in, needs_full_width
from notecards.sim.figure_options import FigureOptions
from notecards.sim.style import BIN_COLOR, DRAW_COLOR, EXACT_COLOR, STYLE, png_bytes

TOP_IN, BOTTOM_IN, ROW_GAP_IN, LEFT, RIGHT = 0.75, 0.5, 1.1, 0.08, 0.97
TAIL_SPREAD = 12.0        # (q99.75 − median) beyond this many IQRs is a heavy tail
BULK_QUANTILE = 0.97      # where a heavy tail's axis stops
MAX_KEPT_FIGURES = 12


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
    alt = "Simulated draws of " + ", ".join(pretty(n) for n in shown_variables(result, options)) + \
        " with the model graph"
    return caption_html(result.spec, result.checks, result.comparisons, image_name, alt, claims or [])


# ---------------------------------------------------------------- the grid, kept per shape

_KEPT: dict[tuple, tuple[Figure, FigureCanvasAgg, list]] = {}


def _grid(shape: tuple, options: FigureOptions) -> tuple[Figure, FigureCanvasAgg, list]:
    """The figure and axes for a shape: the one kept from the last card of this shape, emptied,
    or a new one."""
    kept = _KEPT.pop(shape, None)
    if kept is not None:
        for ax in kept[2]:
            _empty(ax)
    else:
        kept = _new_grid(shape, options)
    _KEPT[shape] = kept
    while len(_KEPT) > MAX_KEPT_FIGURES:
        _KEPT.pop(next(iter(_KEPT)))
    return kept


def _new_grid(shape: tuple, options: FigureOptions) -> tuple[Figure, FigureCanvasAgg, list]:
    kinds, full_graph, graph_in = shape
    cells = len(kinds) + (1 if full_graph else 0)
    rows = math.ceil(cells / 2)
    heights = [max(options.panel_height_in, graph_in) if full_graph else options.panel_height_in] + \
        [options.panel_height_in] * (rows - 1)
    height = sum(heights) + TOP_IN + BOTTOM_IN + (rows - 1) * ROW_GAP_IN
    fig = Figure(figsize=(options.width_in, height), dpi=options.dpi)
    canvas = FigureCanvasAgg(fig)
    grid = fig.add_gridspec(rows, 2, left=LEFT, right=RIGHT, top=1 - TOP_IN / height, bottom=BOTTOM_IN / height,
                            wspace=0.28, hspace=ROW_GAP_IN / options.panel_height_in, height_ratios=heights)
    slots = [grid[0, :]] if full_graph else []
    start = 2 if full_graph else 0
    slots += [grid[(start + i) // 2, (start + i) % 2] for i in range(len(kinds) - len(slots))]
    return fig, canvas, [fig.add_subplot(slot) for slot in slots]


def _empty(ax) -> None:
    """Remove what the last card drew, keeping the axes, its ticks and its text layout cache."""
    for artist in [*ax.lines, *ax.patches, *ax.collections, *ax.texts, *ax.images]:
        artist.remove()
    ax.containers.clear()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.set_xlabel("")
    ax.set_ylabel("")


def render_figure(result: SimResult, cf: ClosedForm, options: FigureOptions) -> bytes:
    """The composed PNG for one simulated model."""
    shown = shown_variables(result, options)
    pair = joint_pair(result, cf, shown)
    full = needs_full_width(result.spec, options.panel_height_in)
    kinds = ("graph",) + tuple("marginal" for _ in shown) + (("joint",) if pair else ())
    shape = (kinds, full, round(height_in(result.spec), 2) if full else 0.0)
    with rc_context(STYLE):
        fig, canvas, axes = _grid(shape, options)
        graph_ax = axes[0]
        box = graph_ax.get_position()
        width_in, height_in_fig = fig.get_size_inches()
        draw_model_graph(graph_ax, result.spec, (box.width * width_in, box.height * height_in_fig))
        _title(graph_ax, "model")
        for ax, name in zip(axes[1:], shown):
            draw_marginal(ax, result, cf, name, options)
        if pair:
            draw_joint(axes[-1], result, cf, pair, options)
        return png_bytes(canvas, options.png_compress_level)


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


def draw_marginal(ax, result: SimResult, cf: ClosedForm, name: str, options: FigureOptions) -> None:
    """Histogram of one variable's draws with its exact marginal over it."""
    node = result.spec.nodes.get(name)
    values = _finite_values(result.draws[name])
    _title(ax, pretty(name, node) + (f" (all {','.join(node.indices)})" if node is not None and node.plates else ""))
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if values.size == 0:
        ax.text(0.5, 0.5, "no finite draws", ha="center", va="center", transform=ax.transAxes)
        return
    marginal = cf.marginals.get(name)
    integer = bool(np.all(values == np.round(values))) and np.ptp(values) <= 60
    outside = 0.0
    if integer:
        support, counts = np.unique(values, return_counts=True)
        heights = counts / values.size
        ax.add_collection(PolyCollection([((s - 0.4, 0), (s - 0.4, h), (s + 0.4, h), (s + 0.4, 0))
                                          for s, h in zip(support, heights)],
                                         facecolors=DRAW_COLOR, alpha=0.55, linewidths=0))
        top = float(heights.max())
        if marginal is not None and marginal.discrete:
            pmf = marginal.frozen.pmf(support)
            ax.plot(support, pmf, "o", color=EXACT_COLOR, markersize=5)
            top = max(top, float(np.max(pmf)))
        ax.set_xlim(support[0] - 0.7, support[-1] + 0.7)
    else:
        lo, hi, outside = plot_range(values)
        density, edges = np.histogram(values, bins=options.bins, range=(lo, hi))
        density = density / (values.size * (edges[1] - edges[0]))
        ax.stairs(density, edges, fill=True, color=DRAW_COLOR, alpha=0.55, linewidth=0)
        top = float(density.max())
        if marginal is not None and not marginal.discrete:
            grid = np.linspace(lo, hi, 200)
            pdf = marginal.frozen.pdf(grid)
            ax.plot(grid, pdf, color=EXACT_COLOR)
            top = max(top, float(np.nanmax(pdf)) if np.isfinite(pdf).any() else 0.0)
        ax.set_xlim(lo, hi)
    ax.set_ylim(0, (top or 1.0) * 1.05)
    _panel_note(ax, values, marginal, outside)


def _panel_note(ax, values: np.ndarray, marginal, outside: float) -> None:
    """Simulated moments and the exact law under the title, coloured like what they describe;
    a clipped axis says how many draws it leaves out."""
    exact_var = float(marginal.frozen.var()) if marginal is not None else math.nan
    var = "∞ (exact)" if math.isinf(exact_var) else _fmt(values.var(ddof=1))
    _header(ax, f"sim: mean {_fmt(values.mean())}, var {var}", 17, DRAW_COLOR)
    if marginal is not None:
        _header(ax, f"exact: {marginal.label}", 3, EXACT_COLOR)
    if outside > 0:
        ax.annotate(f"axis clipped: {outside:.1%} of draws beyond", (1, 1), xycoords="axes fraction",
                    xytext=(0, -2), textcoords="offset points", ha="right", va="top", fontsize=9.5,
                    color="#555555", annotation_clip=False)


def _header(ax, text: str, offset_pt: float, color: str, **kw) -> None:
    """A line of text a fixed distance above the panel, whatever the panel's height."""
    ax.annotate(text, (0, 1), xycoords="axes fraction", xytext=(0, offset_pt),
                textcoords="offset points", ha="left", va="bottom", color=color,
                fontsize=kw.pop("fontsize", 10.5), annotation_clip=False, **kw)


def _title(ax, text: str) -> None:
    _header(ax, text, 32, "black", fontsize=14, fontweight="bold")


def _fmt(x: float) -> str:
    return f"{x:.3g}".replace("-", "\u2212")


def draw_joint(ax, result: SimResult, cf: ClosedForm, pair: tuple[str, str], options: FigureOptions) -> None:
    """Joint draws of parent (y) against child (x), with E[parent | child] exact and binned; the
    legend goes under the title, never over the draws."""
    parent, child = pair
    x = np.asarray(result.draws[child], dtype=float)
    y = np.asarray(result.draws[parent], dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    step = max(1, x.size // options.scatter_points)
    ax.scatter(x[::step], y[::step], s=5, color=DRAW_COLOR, alpha=0.3, linewidths=0)
    lo, hi, _ = plot_range(x)
    ylo, yhi, _ = plot_range(y)
    ax.set_xlim(lo, hi)
    ax.set_ylim(ylo, yhi)
    p, c = pretty(parent), pretty(child)
    _title(ax, f"{p} given {c}")
    ax.set_xlabel(c)
    ax.set_ylabel(p)
    centres, means = binned_means(x, y, lo, hi)
    ax.plot(centres, means, "o", color=BIN_COLOR, markersize=4.5)
    _header(ax, f"● sim E[{p} | {c}]", 17, BIN_COLOR)
    exact = cf.conditional_mean(parent, child)
    if exact is not None:
        grid = np.array([lo, hi])
        ax.plot(grid, exact.intercept + exact.slope * grid, color=EXACT_COLOR)
        _header(ax, f"— exact {_slope_label(exact.slope, exact.intercept, c)}", 3, EXACT_COLOR)


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
