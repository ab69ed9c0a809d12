"""Drawing a simulated model: one composed PNG per model, and the caption that goes under it.

The figure is a grid two panels wide (6.4 in × 110 dpi = 704 px, which a phone shows at full
width and a desktop at its natural size): first a small graph of the model (nodes top to bottom
by depth, arrows from parents, plates as rounded boxes labelled with their size), then one
histogram per shown variable with its exact marginal drawn over it where one is known, then, for
a parent → child pair, the joint draws with the conditional mean E[parent | child] (exact line
where the pair is jointly Gaussian, binned simulated means always). One composed image keeps a
card to one media file and one <img>, and its panels stay in a fixed reading order.

Bytes are identical for equal input: the Agg canvas is used directly (no pyplot state), the
style is fixed here rather than read from the user's matplotlibrc, the font is the DejaVu Sans
that ships with matplotlib, layout is computed in inches (no tight/constrained layout), and the
PNG carries no Software or date metadata.
"""

from __future__ import annotations

import html
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

from notecards.sim.closed_form import ClosedForm  # noqa: E402
from notecards.sim.model import CheckResult, Comparison, ModelSpec, Node, SimResult  # noqa: E402
from notecards.sim.compare import summary_text  # noqa: E402
from notecards.sim.describe import describe_node, format_value  # noqa: E402
from notecards.sim.expr import GREEK_LETTERS as GREEK  # noqa: E402
from notecards.sim.figure_options import FigureOptions  # noqa: E402

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 12.5,
    "axes.labelsize": 12.5,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.9,
    "axes.edgecolor": "#444444",
    "axes.prop_cycle": matplotlib.cycler(color=["#3b6ea8"]),
    "lines.linewidth": 2.2,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": True,
    "agg.path.chunksize": 0,
    "text.usetex": False,
    "mathtext.fontset": "dejavusans",
    "axes.unicode_minus": True,
    "hist.bins": 50,
}

DRAW_COLOR = "#3b6ea8"
EXACT_COLOR = "#c0392b"
BIN_COLOR = "#1e1e1e"


def pretty(name: str, node: Node | None = None) -> str:
    """A variable as the card's math writes it: Greek words become letters, plates show their index."""
    base, _, suffix = name.partition("_")
    if base.endswith("2") and base[:-1] in GREEK:
        base = GREEK[base[:-1]] + "²"                  # sigma2 is how a sim block writes σ²
    text = GREEK.get(base, base) + (f"_{GREEK.get(suffix, suffix)}" if suffix else "")
    if node is not None and node.plate and node.index:
        text += f"[{node.index}]"
    return text


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


def render_figure(result: SimResult, cf: ClosedForm, options: FigureOptions) -> bytes:
    """The composed PNG for one simulated model."""
    shown = shown_variables(result, options)
    pair = joint_pair(result, cf, shown)
    panels = 1 + len(shown) + (1 if pair else 0)
    rows = math.ceil(panels / 2)
    top_in, bottom_in, row_gap_in = 0.75, 0.5, 1.1
    height = rows * options.panel_height_in + top_in + bottom_in + (rows - 1) * row_gap_in
    with rc_context(STYLE):
        fig = Figure(figsize=(options.width_in, height), dpi=options.dpi)
        canvas = FigureCanvasAgg(fig)
        grid = fig.add_gridspec(rows, 2, left=0.08, right=0.97, top=1 - top_in / height,
                                bottom=bottom_in / height, wspace=0.28,
                                hspace=row_gap_in / options.panel_height_in)
        cells = [grid[i // 2, i % 2] for i in range(panels)]
        draw_model_graph(fig.add_subplot(cells[0]), result.spec)
        for cell, name in zip(cells[1:], shown):
            draw_marginal(fig.add_subplot(cell), result, cf, name, options)
        if pair:
            draw_joint(fig.add_subplot(cells[-1]), result, cf, pair, options)
        buf = io.BytesIO()
        canvas.print_png(buf, metadata={"Software": None},
                         pil_kwargs={"compress_level": options.png_compress_level})
    return buf.getvalue()


def _finite_values(draws: np.ndarray) -> np.ndarray:
    values = np.asarray(draws, dtype=float).ravel()
    return values[np.isfinite(values)]


def _plot_range(values: np.ndarray) -> tuple[float, float]:
    """Central 99.5 % of the draws, so one heavy tail cannot squash the histogram to a spike."""
    lo, hi = np.quantile(values, [0.0025, 0.9975])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return float(lo), float(hi)


def draw_marginal(ax, result: SimResult, cf: ClosedForm, name: str, options: FigureOptions) -> None:
    """Histogram of one variable's draws with its exact marginal over it."""
    node = result.spec.nodes.get(name)
    values = _finite_values(result.draws[name])
    _title(ax, pretty(name, node) + (f" (all {node.index})" if node is not None and node.plate else ""))
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if values.size == 0:
        ax.text(0.5, 0.5, "no finite draws", ha="center", va="center", transform=ax.transAxes)
        return
    marginal = cf.marginals.get(name)
    integer = bool(np.all(values == np.round(values))) and np.ptp(values) <= 60
    if integer:
        support, counts = np.unique(values, return_counts=True)
        ax.bar(support, counts / values.size, width=0.8, color=DRAW_COLOR, alpha=0.55, linewidth=0)
        if marginal is not None and marginal.discrete:
            ax.plot(support, marginal.frozen.pmf(support), "o", color=EXACT_COLOR, markersize=5)
    else:
        lo, hi = _plot_range(values)
        density, edges = np.histogram(values, bins=options.bins, range=(lo, hi), density=True)
        ax.stairs(density, edges, fill=True, color=DRAW_COLOR, alpha=0.55, linewidth=0)
        if marginal is not None and not marginal.discrete:
            grid = np.linspace(lo, hi, 200)
            ax.plot(grid, marginal.frozen.pdf(grid), color=EXACT_COLOR)
        ax.set_xlim(lo, hi)
    _panel_note(ax, values, marginal)


def _panel_note(ax, values: np.ndarray, marginal) -> None:
    """Simulated moments and the exact law under the title, coloured like what they describe."""
    _header(ax, f"sim: mean {_fmt(values.mean())}, var {_fmt(values.var(ddof=1))}", 17, DRAW_COLOR)
    if marginal is not None:
        _header(ax, f"exact: {marginal.label}", 3, EXACT_COLOR)


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
    """Joint draws of parent (y) against child (x), with E[parent | child] exact and binned."""
    parent, child = pair
    x = np.asarray(result.draws[child], dtype=float)
    y = np.asarray(result.draws[parent], dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    step = max(1, x.size // options.scatter_points)
    ax.scatter(x[::step], y[::step], s=5, color=DRAW_COLOR, alpha=0.3, linewidths=0)
    lo, hi = _plot_range(x)
    ylo, yhi = _plot_range(y)
    ax.set_xlim(lo, hi)
    ax.set_ylim(ylo, yhi)
    p, c = pretty(parent), pretty(child)
    _title(ax, f"{p} given {c}")
    ax.set_xlabel(c)
    ax.set_ylabel(p)
    centres, means = binned_means(x, y, lo, hi)
    ax.plot(centres, means, "o", color=BIN_COLOR, markersize=4.5, label=f"sim E[{p} | {c}]")
    exact = cf.conditional_mean(parent, child)
    if exact is not None:
        grid = np.array([lo, hi])
        ax.plot(grid, exact.intercept + exact.slope * grid, color=EXACT_COLOR,
                label=f"exact {_slope_label(exact.slope, exact.intercept, c)}")
    ax.legend(loc="upper left", frameon=False, handlelength=1.2, borderaxespad=0.1)


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


def graph_layout(spec: ModelSpec) -> tuple[dict[str, tuple[float, float]], set[str]]:
    """Node positions (x, -depth) for the model graph.

    A draw sits one below its deepest drawn parent and a constant one above its first child,
    next to the draws of that depth, so arrows stay short and rarely cross; each depth is centred. Plate sizes are left out (the plate's label states them); with more than
    12 nodes the constants are left out too, so the graph stays legible.
    """
    drawn = [n for n in spec.nodes.values() if n.kind in ("stochastic", "deterministic")]
    used = {p for n in drawn for p in n.parents} - {n.plate for n in drawn}
    consts = [n.name for n in spec.nodes.values() if n.kind in ("const", "data") and n.name in used]
    consts += [name for name in spec.defaults if name in used and name not in consts]
    names = consts + [n.name for n in drawn]
    if len(names) > 12:
        consts, names = [], [n.name for n in drawn]
    depth: dict[str, int] = {}
    for node in drawn:
        parents = [depth[p] for p in node.parents if p in depth]
        depth[node.name] = 1 + max(parents, default=0)
    for name in consts:
        depth[name] = min((depth[n.name] for n in drawn if name in n.parents), default=1) - 1
    by_depth: dict[int, list[str]] = {}
    for name in [n for n in names if n not in consts] + [n for n in names if n in consts]:
        by_depth.setdefault(depth[name], []).append(name)
    pos = {}
    for d, members in by_depth.items():
        for i, name in enumerate(members):
            pos[name] = (i - (len(members) - 1) / 2, -float(d))
    return pos, set(consts)


NODE_RADIUS = 0.26


def draw_model_graph(ax, spec: ModelSpec) -> None:
    """Nodes (circles for draws, shaded when observed, dashed when deterministic, bare text for
    constants), arrows from parents, and plates as rounded boxes labelled with their size."""
    pos, consts = graph_layout(spec)
    _title(ax, "model")
    ax.set_axis_off()
    ax.set_aspect("equal")
    if not pos:
        return
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad = 0.65
    ax.set_xlim(min(min(xs) - pad, -1.2), max(max(xs) + pad, 1.2))
    ax.set_ylim(min(ys) - pad, max(ys) + 0.45)
    _draw_plates(ax, spec, pos)
    for name, (x, y) in pos.items():
        node = spec.nodes.get(name)
        label = pretty(name, node)
        if name in consts:
            ax.text(x, y, label, ha="center", va="center", fontsize=12.5, color="#333333")
            continue
        observed = node is not None and node.observed is not None
        ax.add_patch(Circle((x, y), NODE_RADIUS, facecolor="#d5d5d5" if observed else "white",
                            edgecolor="#222222", linewidth=1.4,
                            linestyle="--" if node is not None and node.kind == "deterministic" else "-"))
        ax.text(x, y, label, ha="center", va="center", fontsize=12.5 if len(label) < 4 else 9.5 if len(label) < 6 else 8)
    for name in pos:
        node = spec.nodes.get(name)
        for parent in (node.parents if node is not None else []):
            if parent in pos:
                _arrow(ax, pos[parent], pos[name], parent in consts)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], from_const: bool) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, linewidth=1.2,
                                 color="#555555", shrinkA=7 if from_const else 15, shrinkB=15))


def _draw_plates(ax, spec: ModelSpec, pos: dict[str, tuple[float, float]]) -> None:
    plates: dict[str, list[tuple[float, float]]] = {}
    for name, xy in pos.items():
        plate = plate_of(spec, name)
        if plate:
            plates.setdefault(plate, []).append(xy)
    for plate, points in plates.items():
        x0 = min(p[0] for p in points) - 0.42
        x1 = max(p[0] for p in points) + 0.42
        y0 = min(p[1] for p in points) - 0.5
        y1 = max(p[1] for p in points) + 0.38
        ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.12",
                                    facecolor="none", edgecolor="#777777", linewidth=1.1))
        ax.text(x1 - 0.06, y0 + 0.05, _plate_label(spec, plate), ha="right", va="bottom", fontsize=10)


def plate_of(spec: ModelSpec, name: str) -> str | None:
    """The plate a node is drawn in: its own, or for a data vector (`s = [15, 10, 16]` read as
    `s[j]`) the plate of the draws that index it."""
    node = spec.nodes.get(name)
    if node is None:
        return None
    if node.plate:
        return node.plate
    if node.value is None or np.ndim(node.value) != 1:
        return None
    plates = {n.plate for n in spec.nodes.values() if name in n.parents}
    return plates.pop() if len(plates) == 1 else None


def _plate_label(spec: ModelSpec, plate: str) -> str:
    size = spec.nodes.get(plate)
    value = size.value if size is not None else spec.defaults.get(plate)
    if value is not None and np.ndim(value) == 0:
        return f"{pretty(plate)} = {int(value)}"
    return pretty(plate)


# ---------------------------------------------------------------- the caption

def caption_html(result: SimResult, cf: ClosedForm, image_name: str, options: FigureOptions) -> str:
    """The card's figure with a caption that says what was simulated, with which values, and
    whether the card's claims (checks, equivalent definitions) held."""
    spec = result.spec
    shown = shown_variables(result, options)
    alt = "Simulated draws of " + ", ".join(pretty(n) for n in shown) + " with the model graph"
    parts = [f'<figure class="nc-sim"><img src="{html.escape(image_name)}" alt="{html.escape(alt)}">',
             "<figcaption>", _model_html(spec), _values_html(spec, cf)]
    if result.checks:
        parts.append(_checks_html(result.checks))
    parts += [_comparison_html(c) for c in result.comparisons]
    parts.append("</figcaption></figure>")
    return "\n".join(p for p in parts if p)


def _model_html(spec: ModelSpec) -> str:
    origin = "the sim block" if spec.origin == "sim" else "the card's formulas"
    items = "".join(f"<li><code>{html.escape(describe_node(n))}</code></li>"
                    for n in spec.nodes.values() if n.kind in ("stochastic", "deterministic"))
    return f'<div class="nc-sim-model"><b>Model</b> (from {origin}):<ul>{items}</ul></div>'


def _values_html(spec: ModelSpec, cf: ClosedForm) -> str:
    values = []
    for node in spec.nodes.values():
        if (node.kind in ("const", "data") and node.observed is None and node.value is not None
                and node.name not in spec.defaults):
            values.append(f"{html.escape(node.name)} = {html.escape(format_value(node.value))}")
    for name, value in spec.defaults.items():
        values.append(f"{html.escape(name)} = {format_value(value)} <i>(default)</i>")
    seed = f"seed {spec.seed}" if spec.seed is not None else "seed from the model"
    values.append(f"n = {spec.n} draws, {seed}")
    text = f'<div class="nc-sim-values"><b>Values</b>: {"; ".join(values)}.</div>'
    if spec.defaults:
        example = "; ".join(f"{n} = …" for n in spec.defaults)
        text += ('<div class="nc-sim-hint">Values marked <i>default</i> were not given on the card; '
                 f"set them in a <code>```sim</code> block on this card, e.g. <code>{html.escape(example)}</code>."
                 "</div>")
    return text


def _checks_html(checks: list[CheckResult]) -> str:
    rows = ["<tr><th></th><th>check</th><th>simulated</th><th>expected</th><th>z</th></tr>"]
    for c in checks:
        mark = "✓ passed" if c.passed else "✗ FAILED"
        rows.append(f'<tr class="{"pass" if c.passed else "fail"}"><td>{mark}</td>'
                    f"<td><code>{html.escape(c.text)}</code></td><td>{c.simulated:.4g}</td>"
                    f"<td>{c.expected:.4g}</td><td>{c.z:+.2f}</td></tr>")
    return f'<table class="nc-sim-checks">{"".join(rows)}</table>'


def _comparison_html(c: Comparison) -> str:
    first, second = summary_text(c.first), summary_text(c.second)
    if c.agree:
        return (f'<div class="nc-sim-compare agree">✓ The two definitions of <code>{html.escape(c.name)}</code> '
                f"agree (p = {c.p_value:.3g}): {first} vs {second}.</div>")
    return (f'<div class="nc-sim-compare disagree"><b>✗ The two definitions of <code>{html.escape(c.name)}</code> '
            f"DISAGREE</b> (p = {c.p_value:.2g}):<br>first definition: {first}<br>"
            f"second definition (line {c.line}): {second}</div>")
