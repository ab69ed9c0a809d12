"""Drawing a fitted card's figures as SVG, with the model figures' writer (`sim.svg`, `sim.panel`).

What each figure shows is decided by `infer.figures`; this module only lays it out: the model
figures' width (528 px, which a 390 px phone shows at three quarters) and text sizes (12–16 pt),
no background (night mode's filter then leaves the card's own), a bold title over each panel and
one line under it saying what is drawn, every word outside the data. The figures were matplotlib
palette PNGs, 704 px wide with 8–9 pt text (6–8 CSS px on a phone), on white.

A trace of 2,000 draws is drawn as what a screen can show of it: per chain, the lowest and the
highest draw of each two-pixel column, in their order — the band and every spike a full line
would show, in a tenth of the points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from notecards.sim.figure_options import FigureOptions
from notecards.sim.panel import HEADER_PT, TITLE_PT, Panel, column_left, column_width
from notecards.sim.style import BIN_COLOR, DRAW_COLOR, EXACT_COLOR, INK
from notecards.sim.svg import Stroke, Svg, num, relative_d, text_width

CHAIN_COLORS = [DRAW_COLOR, EXACT_COLOR, "#27ae60", "#8e44ad", "#d35400", "#16a085"]
INTERVAL_GREY = "#999999"
TOP_IN, ROW_GAP_IN, BOTTOM_IN, LABEL_IN = 0.62, 0.95, 0.42, 0.3
TITLE_AT, LINE_AT = 22, 4          # points above a panel: its bold title, the line under it
TRACE_PANEL_IN = 1.6
TRACE_COLUMN_PX = 2                # a trace keeps each chain's extremes per this many pixels
EVERY_OBSERVATION = 12            # up to this many observations, each is numbered
GROUP_LABEL_GAP = 1.25             # the least distance between two group labels, in their size


@dataclass(frozen=True)
class Heading:
    """The words above a panel: a bold title and one line saying what is drawn."""

    title: str
    line: str

    def draw(self, panel: Panel) -> None:
        panel.above(self.title, TITLE_AT, "#000000", size_pt=TITLE_PT, bold=True)
        panel.above(self.line, LINE_AT, INK)


def grid(count: int, columns: int, options: FigureOptions, panel_in: float | None = None,
         x_label: bool = False) -> tuple[Svg, list[Panel]]:
    """A figure `options.width_in` wide and its `count` panels, `columns` to a row, with room
    above each panel for its heading and below the last row for its axis (and axis label)."""
    dpi, height_in = options.dpi, panel_in or options.panel_height_in
    rows = -(-count // columns)
    width = options.width_in * dpi
    bottom = BOTTOM_IN + (LABEL_IN if x_label else 0.0)
    svg = Svg(width, (TOP_IN + rows * height_in + (rows - 1) * ROW_GAP_IN + bottom) * dpi)
    column = column_width(width, columns)
    panels = []
    for k in range(count):
        r, c = divmod(k, columns)
        panels.append(Panel(svg, column_left(width, column, c), (TOP_IN + r * (height_in + ROW_GAP_IN)) * dpi,
                            column, height_in * dpi, px_per_pt=dpi / 72))
    return svg, panels


def _padded(values: np.ndarray, share: float = 0.05) -> tuple[float, float]:
    """The values' range with `share` of it added at each end (a flat range gets ±0.5)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * share if hi > lo else 0.5
    return lo - pad, hi + pad


# ---------------------------------------------------------------- posterior

@dataclass(frozen=True)
class Density:
    """One parameter's posterior: its draws, mean and 90 % interval, and its heading."""

    heading: Heading
    values: np.ndarray
    mean: float
    q5: float
    q95: float


def draw_posteriors(densities: list[Density], options: FigureOptions, title: str) -> bytes:
    """A histogram per parameter (its central 99 %), the 90 % interval shaded, the mean a line."""
    svg, panels = grid(len(densities), 2, options)
    for panel, d in zip(panels, densities):
        lo, hi = np.quantile(d.values, [0.005, 0.995])
        kept = d.values[(d.values >= lo) & (d.values <= hi)]
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        density, edges = np.histogram(kept, bins=options.bins, range=(lo, hi), density=True)
        panel.xlim, panel.ylim = (float(lo), float(hi)), (0.0, float(density.max() or 1.0) * 1.05)
        panel.x_span(d.q5, d.q95, INTERVAL_GREY, 0.25)
        panel.svg.path(panel.stairs_d(edges, density) + "Z", fill=DRAW_COLOR, opacity=0.75)
        panel.x_line(d.mean, Stroke(BIN_COLOR, panel.pt(1.4)))
        panel.bottom_axis()
        d.heading.draw(panel)
    return svg.to_bytes(title)


# ---------------------------------------------------------------- shrinkage

@dataclass(frozen=True)
class Shrinkage:
    """Each group's raw estimate and posterior mean, what they shrink towards, and the words."""

    heading: Heading
    raw: np.ndarray
    posterior: np.ndarray
    target: float
    axis_labels: tuple[str, str]
    groups: list[str] | None


def draw_shrinkage(s: Shrinkage, options: FigureOptions, title: str) -> bytes:
    """Raw estimates (left, blue) joined to posterior means (right, red), the target dashed;
    named groups are labelled right of their posterior mean, spread apart so none overlap, in a
    column of their own beside the panel so that no label sits on a line."""
    svg, (panel,) = grid(1, 1, options)
    panel.ylim = _padded(np.concatenate([s.raw, s.posterior, [s.target]]))
    panel.make_room_for_left_axis()
    s.heading.draw(panel)              # over the labels' column too: the panel is narrowed below
    size = panel.pt(HEADER_PT)
    labels = s.groups or []
    widest = max((text_width(g, size) for g in labels), default=0.0)
    if labels:
        panel.w = svg.width - 4 - widest - panel.pt(10) - panel.x
    panel.xlim = (-0.15, 1.05 if labels else 1.15)
    blue, dot = Stroke(DRAW_COLOR, panel.pt(1.0), 0.8), panel.pt(4.5)
    x0, x1 = (float(v) for v in panel.px([0.0, 1.0]))
    ys_raw, ys_post = panel.py(s.raw), panel.py(s.posterior)
    panel.svg.path("".join(f"M{num(x0)} {num(a)}L{num(x1)} {num(b)}" for a, b in zip(ys_raw, ys_post)), stroke=blue)
    panel.svg.dots([x0] * len(ys_raw), ys_raw, dot, DRAW_COLOR)
    panel.svg.dots([x1] * len(ys_post), ys_post, dot, EXACT_COLOR)
    left, right = (float(v) for v in panel.px([-0.15, 1.02]))
    target_y = float(panel.py([s.target])[0])
    panel.svg.line(left, target_y, right, target_y, Stroke(BIN_COLOR, panel.pt(1.2), dash=(panel.pt(4), panel.pt(2))))
    if labels:
        _name_groups(panel, ys_post, labels, size)
    panel.left_axis()
    panel.category_axis([0.0, 1.0], list(s.axis_labels))
    return svg.to_bytes(title)


def _name_groups(panel: Panel, ys: np.ndarray, groups: list[str], size: float) -> None:
    """Each group's label in the column right of the panel, at its posterior mean's height or
    as near as the labels' spacing allows, joined to it by a thin grey line."""
    order = np.argsort(ys, kind="stable")
    at = spread(ys[order], GROUP_LABEL_GAP * size)
    low, high = panel.y + size / 2, panel.y + panel.h - size / 2
    at += max(0.0, low - float(at.min())) - max(0.0, float(at.max()) - high)
    x1 = float(panel.px([1.0])[0])
    label_x = panel.x + panel.w + panel.pt(8)
    leader = Stroke(INTERVAL_GREY, panel.pt(0.6))
    panel.svg.path("".join(f"M{num(x1 + panel.pt(3))} {num(ys[k])}L{num(label_x - panel.pt(2))} {num(y)}"
                           for k, y in zip(order, at)), stroke=leader)
    for k, y in zip(order, at):
        panel.svg.text(label_x, float(y), groups[k], size, valign="center")


def spread(values: np.ndarray, gap: float) -> np.ndarray:
    """Sorted positions moved apart to at least `gap`, then re-centred on the originals."""
    at = values.astype(float).copy()
    for k in range(1, at.size):
        at[k] = max(at[k], at[k - 1] + gap)
    return at - (at.mean() - values.mean())


# ---------------------------------------------------------------- trace

@dataclass(frozen=True)
class Trace:
    """Every chain of one parameter, (chains, iterations), and its heading."""

    heading: Heading
    draws: np.ndarray


def draw_traces(traces: list[Trace], columns: int, options: FigureOptions, title: str) -> bytes:
    """Each chain in its own colour over the iterations."""
    svg, panels = grid(len(traces), columns, options, panel_in=TRACE_PANEL_IN)
    for panel, t in zip(panels, traces):
        panel.xlim, panel.ylim = (0.0, float(t.draws.shape[1])), _padded(t.draws)
        panel.make_room_for_left_axis()
        buckets = max(1, int(panel.w // TRACE_COLUMN_PX))
        for c, chain in enumerate(t.draws):
            index = extremes(chain, buckets)
            panel.svg.path(relative_d(panel.px(index), panel.py(chain[index]), whole=True),
                           stroke=Stroke(CHAIN_COLORS[c % len(CHAIN_COLORS)], panel.pt(0.5), 0.7), joined=True)
        panel.bottom_axis()
        panel.left_axis()
        t.heading.draw(panel)
    return svg.to_bytes(title)


def extremes(values: np.ndarray, buckets: int) -> np.ndarray:
    """The indices of the lowest and highest value in each of `buckets` runs of `values`, in
    order: a line through them looks as the full line does at that resolution."""
    n = values.size
    if n <= 2 * buckets:
        return np.arange(n)
    per = -(-n // buckets)
    padded = np.concatenate([values, np.full(per * buckets - n, values[-1])]).reshape(buckets, per)
    starts = np.arange(buckets) * per
    low, high = starts + padded.argmin(axis=1), starts + padded.argmax(axis=1)
    pairs = np.sort(np.stack([low, high], axis=1), axis=1).ravel()
    return np.unique(np.minimum(pairs, n - 1))


# ---------------------------------------------------------------- posterior predictive

@dataclass(frozen=True)
class Predictive:
    """One observed node's data and replicated data (draws, n), and its heading."""

    heading: Heading
    data: np.ndarray
    replicates: np.ndarray


def draw_predictive(checks: list[Predictive], options: FigureOptions, title: str, few: int) -> bytes:
    """Up to `few` observations: each one's 90 % predictive interval and the datum as a dot; more:
    twenty replicated data sets' histograms under the data's."""
    intervals = any(p.data.size <= few for p in checks)
    svg, panels = grid(len(checks), 1 if len(checks) == 1 else 2, options, x_label=intervals)
    for panel, p in zip(panels, checks):
        if p.data.size <= few:
            _intervals(panel, p)
        else:
            _replicates(panel, p)
        p.heading.draw(panel)
    return svg.to_bytes(title)


def _intervals(panel: Panel, p: Predictive) -> None:
    lo, hi = np.quantile(p.replicates, [0.05, 0.95], axis=0)
    x = np.arange(1, p.data.size + 1)
    panel.xlim, panel.ylim = (0.5, p.data.size + 0.5), _padded(np.concatenate([lo, hi, p.data]))
    panel.make_room_for_left_axis()
    xs, top, bottom = panel.px(x), panel.py(hi), panel.py(lo)
    panel.svg.path("".join(f"M{num(a)} {num(b)}V{num(c)}" for a, b, c in zip(xs, top, bottom)),
                   stroke=Stroke(DRAW_COLOR, panel.pt(2.0), 0.75))
    panel.svg.dots(xs, panel.py(p.data), panel.pt(4), BIN_COLOR)
    if p.data.size <= EVERY_OBSERVATION:
        panel.category_axis([float(k) for k in x], [str(k) for k in x], "observation")
    else:
        panel.bottom_axis("observation")
    panel.left_axis()


def _replicates(panel: Panel, p: Predictive) -> None:
    edges = np.histogram_bin_edges(np.concatenate([p.data, p.replicates.ravel()]), bins=40)
    width = float(edges[1] - edges[0])
    rows = [np.histogram(row, bins=edges)[0] / (row.size * width) for row in p.replicates[:20]]
    data = np.histogram(p.data, bins=edges)[0] / (p.data.size * width)
    panel.xlim = (float(edges[0]), float(edges[-1]))
    panel.ylim = (0.0, float(max(data.max(), max(r.max() for r in rows))) * 1.05 or 1.0)
    faint = Stroke(DRAW_COLOR, panel.pt(0.8), 0.25)
    for r in rows:                     # one path each, so that where replicates agree they darken
        panel.svg.path(panel.stairs_d(edges, r), stroke=faint, joined=True)
    panel.svg.path(panel.stairs_d(edges, data), stroke=Stroke(BIN_COLOR, panel.pt(1.6)), joined=True)
    panel.bottom_axis()
