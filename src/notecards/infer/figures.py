"""Figures and caption for a fitted model: what the card shows under the model.

Four PNGs, each returned as (kind, bytes): "posterior" (densities of the top-level scalar
parameters, with their 90% interval; the groups themselves when the hyperparameters are fixed), "shrinkage" (each group's raw estimate → its posterior
mean, with the complete-pooling line), "trace" (every chain of each top-level parameter), and
"ppc" (the data against draws from the posterior predictive). A figure that does not apply (no
plate, no Normal/Poisson data) is left out rather than drawn empty.

Groups numbered by a table's grouping column are shown by their labels everywhere a group is
named (θ[Lincoln] in the table, the panel titles and beside the shrinkage lines); the numbers
stay for groups without labels.

Bytes are deterministic: the Agg canvas directly, a fixed style (`infer.png`), no tight layout,
no Software metadata; the posterior predictive draws come from a generator seeded by a constant, so equal fits give equal images.
"""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from notecards.sim.labels import pretty  # noqa: E402
from notecards.sim.caption import CAPTION_STYLE, author_details, image_html, table_html  # noqa: E402
from notecards.sim.distributions import REGISTRY  # noqa: E402
from notecards.sim.figure_options import FIGURE_OPTIONS  # noqa: E402
from notecards.sim.model import ModelSpec  # noqa: E402

from .png import STYLE, png_bytes  # noqa: E402
from .graph import ModelGraph, UnsupportedModel, names_in  # noqa: E402
from .result import FitResult  # noqa: E402

CHAIN_COLORS = ["#3b6ea8", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085"]
PPC_DRAWS = 40
PPC_SEED = 20240501
MAX_GROUP_PANELS = 8
TRACE_ONE_COLUMN = 4     # more traces than this go in two columns, to stay phone-sized
MAX_NAMED_GROUPS = 12    # more group labels than this would not fit beside the shrinkage plot
GROUP_LABEL_GAP = 0.075  # the least vertical gap between two labels, as a share of the values' span
GROUP_LABEL_CHARS = 18   # labels are cut to this length in the figure (the caption keeps them whole)


def fit_figures(spec: ModelSpec, result: FitResult) -> list[tuple[str, bytes]]:
    """The fitted model's PNGs, in reading order."""
    if not result.ok:
        return []
    try:
        graph = ModelGraph(spec)
    except UnsupportedModel:
        return []
    shown = top_level(graph, result)
    figures = []
    if shown:
        figures.append(("posterior", _render(lambda fig: draw_posteriors(fig, graph, result),
                                             _rows(len(shown)))))
    shrink = shrinkage_data(graph, result)
    if shrink is not None:
        figures.append(("shrinkage", _render(lambda fig: draw_shrinkage(fig, *shrink), 1)))
    if shown:
        columns = 1 if len(shown) <= TRACE_ONE_COLUMN else 2
        figures.append(("trace", _render(lambda fig: draw_traces(fig, graph, result, columns),
                                         -(-len(shown) // columns), panel_in=1.6, columns=columns)))
    ppc = predictive_draws(graph, result)
    if ppc:
        figures.append(("ppc", _render(lambda fig: draw_ppc(fig, ppc), _rows(len(ppc)))))
    return figures


def label(name: str, group: str | None = None) -> str:
    """A parameter as the card's math writes it: `mu0` → μ₀, `sigma2[3]` → σ²[3], and with its
    group's label `theta[1]` → θ[Lincoln]."""
    base, bracket, rest = name.partition("[")
    return pretty(base) + (f"[{group}]" if group is not None and bracket else bracket + rest)


def shown(result: FitResult, name: str) -> str:
    """A parameter of this fit as the card shows it, by its group's label when it has one."""
    return label(name, result.labels.get(name))


def top_level(graph: ModelGraph, result: FitResult) -> list[str]:
    """The parameters a reader looks at first: the scalar unknowns (hyperparameters); in a
    model with none (fixed hyperparameters), the groups of the first plated unknown, up to
    `MAX_GROUP_PANELS`. A point estimate (empirical Bayes' hyperparameters, sd 0) has no density
    or trace to draw: the caption states it and it is left out here."""
    def varies(label: str) -> bool:
        return result.params[label].sd > 0

    scalars = [name for name, latent in graph.latent.items()
               if latent.size == 1 and not latent.plated and varies(name)]
    if scalars:
        return scalars
    for name, latent in graph.latent.items():
        groups = [f"{name}[{k + 1}]" for k in range(latent.size)] if latent.plated else []
        groups = [label for label in groups if varies(label)]
        if groups:
            return groups[:MAX_GROUP_PANELS]
    return []


def draws_of(result: FitResult, label: str) -> np.ndarray:
    """(chains, iterations) draws of one scalar parameter, `mu` or `theta[3]`."""
    if label in result.draws:
        return result.draws[label]
    name, k = label[:-1].split("[")
    return result.draws[name][:, :, int(k) - 1]


def _rows(panels: int) -> int:
    return max(1, (panels + 1) // 2)


def _render(draw, rows: int, panel_in: float = 2.4, columns: int = 2) -> bytes:
    top_in, bottom_in, gap_in = 0.5, 0.55, 0.85
    height = rows * panel_in + top_in + bottom_in + (rows - 1) * gap_in
    with rc_context(STYLE):
        fig = Figure(figsize=(FIGURE_OPTIONS.fit_width_in, height), dpi=FIGURE_OPTIONS.dpi)
        canvas = FigureCanvasAgg(fig)
        fig.nc_grid = fig.add_gridspec(rows, columns, left=0.1, right=0.97, top=1 - top_in / height,
                                       bottom=bottom_in / height, wspace=0.3, hspace=gap_in / panel_in)
        draw(fig)
        return png_bytes(canvas)


def _cell(fig, k: int, columns: int = 2):
    return fig.add_subplot(fig.nc_grid[k // columns, k % columns])


def draw_posteriors(fig, graph: ModelGraph, result: FitResult) -> None:
    for k, name in enumerate(top_level(graph, result)):
        ax = _cell(fig, k)
        values = draws_of(result, name).ravel()
        lo, hi = np.quantile(values, [0.005, 0.995])
        ax.hist(values[(values >= lo) & (values <= hi)], bins=50, density=True,
                color=CHAIN_COLORS[0], alpha=0.75)
        p = result.params[name]
        ax.axvspan(p.q5, p.q95, color="#999999", alpha=0.15)
        ax.axvline(p.mean, color="#1e1e1e", linewidth=1.4)
        ax.set_title(f"{shown(result, name)} | data: {p.mean:.3g} ± {p.sd:.2g}", fontsize=11)
        ax.set_yticks([])


def shrinkage_data(graph: ModelGraph, result: FitResult):
    """(raw group means, posterior means, (target, its label), name, group labels or None) for
    a plated Normal-mean node."""
    for name, latent in graph.latent.items():
        if not latent.plated:
            continue
        for ref in latent.refs:
            child = graph.observed.get(ref.child)
            if child is None or child.dist != "Normal" or ref.arg != "mean" or ref.groups is None:
                continue
            y = np.asarray(child.observed, dtype=float)
            counts = np.bincount(ref.groups, minlength=latent.size)
            raw = np.bincount(ref.groups, weights=y, minlength=latent.size) / np.maximum(counts, 1)
            names = [f"{name}[{k + 1}]" for k in range(latent.size)]
            posterior = np.array([result.params[n].mean for n in names])
            groups = [result.labels[n] for n in names] if all(n in result.labels for n in names) else None
            return raw, posterior, shrinkage_target(graph, latent, result, child, y), name, groups
    return None


def shrinkage_target(graph: ModelGraph, latent, result: FitResult, child, y: np.ndarray) -> tuple[float, str]:
    """What the groups shrink towards, as the card states it: the groups' prior mean when the
    card fixes it (μ₀ = 70), its posterior mean when it is fitted, else the data's pooled mean."""
    mean = latent.node.args.get("mean") if latent.node.dist == "Normal" else None
    if mean is not None and not names_in(mean) & graph.unknowns:
        value = float(np.mean(graph.evaluate(mean, graph.constants, latent.node)))
        named = f"{label(mean.value)} = " if mean.op == "name" else ""
        return value, f"the prior mean {named}{value:.3g} (fixed)"
    if mean is not None and mean.op == "name" and mean.value in result.params:
        return result.params[mean.value].mean, f"the posterior mean of {label(mean.value)}"
    return _pooled_mean(graph, child, y), "the pooled mean"


def _pooled_mean(graph: ModelGraph, child, y: np.ndarray) -> float:
    """Complete pooling: precision-weighted when the data's variances are known (s_j²)."""
    try:
        variance = graph.args_of(child, graph.constants, skip="mean")["var"]
    except ValueError:                # the variance reads an unknown (σ² fitted)
        return float(y.mean())
    weights = np.broadcast_to(1.0 / variance, (1, y.size))[0]
    return float(np.sum(weights * y) / np.sum(weights))


def draw_shrinkage(fig, raw: np.ndarray, posterior: np.ndarray, target: tuple[float, str], name: str,
                   groups: list[str] | None) -> None:
    """Named groups (up to `MAX_NAMED_GROUPS`) are labelled at their posterior mean, so the
    reader sees which school moved where without the caption's table; the dashed target line
    stops short of the labels."""
    value, text = target
    ax = fig.add_subplot(fig.nc_grid[0, :])
    for r, p in zip(raw, posterior):
        ax.plot([0, 1], [r, p], color=CHAIN_COLORS[0], linewidth=1.0, alpha=0.8)
    ax.scatter(np.zeros_like(raw), raw, color=CHAIN_COLORS[0], s=18, zorder=3)
    ax.scatter(np.ones_like(posterior), posterior, color=CHAIN_COLORS[1], s=18, zorder=3)
    ax.plot([-0.15, 1.02], [value, value], color="#1e1e1e", linestyle="--", linewidth=1.2)
    ax.set_xticks([0, 1], ["raw group estimate", f"posterior mean of {label(name)}"])
    ax.set_xlim(-0.15, 1.15)
    ax.set_title(f"Shrinkage towards {text} (dashed)", fontsize=11)
    if groups is not None and len(groups) <= MAX_NAMED_GROUPS:
        name_groups(ax, posterior, groups, np.concatenate([raw, posterior, [value]]))


def name_groups(ax, posterior: np.ndarray, groups: list[str], shown_values: np.ndarray) -> None:
    """Each group's label right of its posterior mean, spread apart so none overlap."""
    span = float(np.ptp(shown_values)) or 1.0
    order = np.argsort(posterior, kind="stable")
    at = spread(posterior[order], GROUP_LABEL_GAP * span)
    ax.set_xlim(-0.15, 1.65)
    for k, y in zip(order, at):
        ax.annotate(_shortened(groups[k]), xy=(1, posterior[k]), xytext=(1.08, y), fontsize=9,
                    va="center", arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.6})


def spread(values: np.ndarray, gap: float) -> np.ndarray:
    """Sorted positions moved apart to at least `gap`, then re-centred on the originals."""
    at = values.astype(float).copy()
    for k in range(1, at.size):
        at[k] = max(at[k], at[k - 1] + gap)
    return at - (at.mean() - values.mean())


def _shortened(text: str) -> str:
    return text if len(text) <= GROUP_LABEL_CHARS else text[:GROUP_LABEL_CHARS - 1] + "…"


def draw_traces(fig, graph: ModelGraph, result: FitResult, columns: int = 1) -> None:
    for k, name in enumerate(top_level(graph, result)):
        ax = _cell(fig, k, columns)
        draws = draws_of(result, name)
        for c in range(draws.shape[0]):
            ax.plot(draws[c], color=CHAIN_COLORS[c % len(CHAIN_COLORS)], linewidth=0.5, alpha=0.7)
        p = result.params[name]
        ax.set_title(f"{shown(result, name)}: R-hat {p.rhat:.3f}, ESS {p.ess:.0f}", fontsize=11)


def predictive_draws(graph: ModelGraph, result: FitResult) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, data, replicated data (draws, n)) for each Normal or Poisson observed node."""
    rng = np.random.default_rng(PPC_SEED)
    total = result.chains * result.iterations
    picks = np.linspace(0, total - 1, min(PPC_DRAWS, total)).astype(int)
    state = {name: result.draws[name].reshape(total, -1)[picks] for name in graph.latent}
    env = graph.env(state)
    found = []
    for name, node in graph.observed.items():
        if node.dist not in ("Normal", "Poisson"):
            continue
        args = graph.args_of(node, env)
        shape = (picks.size, graph.sizes[name])
        rep = REGISTRY[node.dist].sample(rng, {k: np.broadcast_to(v, shape) for k, v in args.items()}, shape)
        found.append((name, np.asarray(node.observed, dtype=float).ravel(), rep))
    return found


def draw_ppc(fig, ppc: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    for k, (name, data, rep) in enumerate(ppc):
        ax = fig.add_subplot(fig.nc_grid[0, :]) if len(ppc) == 1 else _cell(fig, k)
        if data.size <= 30:
            lo, hi = np.quantile(rep, [0.05, 0.95], axis=0)
            x = np.arange(1, data.size + 1)
            ax.vlines(x, lo, hi, color=CHAIN_COLORS[0], linewidth=2.0, alpha=0.6)
            ax.scatter(x, data, color="#1e1e1e", s=16, zorder=3)
            ax.set_xlabel("observation")
            ax.set_title(f"{label(name)}: data (dots), 90% predictive", fontsize=11)
        else:
            edges = np.histogram_bin_edges(np.concatenate([data, rep.ravel()]), bins=40)
            for row in rep[:20]:
                ax.hist(row, bins=edges, density=True, histtype="step", color=CHAIN_COLORS[0],
                        alpha=0.25, linewidth=0.8)
            ax.hist(data, bins=edges, density=True, histtype="step", color="#1e1e1e", linewidth=1.6)
            ax.set_yticks([])
            ax.set_title(f"{label(name)}: data (black) vs replicates", fontsize=11)


ALT_TEXT = {
    "posterior": "Posterior densities of the top-level parameters with their 90% intervals",
    "shrinkage": "Each group's raw estimate and its posterior mean, with the complete-pooling line",
    "trace": "Trace plots of every chain",
    "ppc": "The data against draws from the posterior predictive distribution",
}


AUTHOR_FIGURES = ("trace",)    # what only the note's author reads: folded on the card


def fit_card_html(spec: ModelSpec, result: FitResult, images: list[tuple[str, str]]) -> str:
    """What a fitted card shows: its figures (kind, file name) in reading order and the posterior
    table; the trace plots, R-hat/ESS, samplers and warnings folded for the author."""
    shown = "".join(image_html(name, ALT_TEXT.get(kind, kind)) for kind, name in images if kind not in AUTHOR_FIGURES)
    folded = "".join(image_html(name, ALT_TEXT.get(kind, kind)) for kind, name in images if kind in AUTHOR_FIGURES)
    return (f'{CAPTION_STYLE}<figure class="nc-sim nc-fit" style="margin:0.8em 0;max-width:100%">{shown}'
            f'<figcaption class="nc-caption">{fit_caption_html(spec, result, folded)}</figcaption></figure>')


def fit_caption_html(spec: ModelSpec, result: FitResult, folded: str = "") -> str:
    """A table of the posterior (mean, sd, 5/50/95%); R-hat, ESS, the samplers, the warnings and
    `folded` (the trace plots) for the author."""
    if not result.ok:
        items = "".join(f"<li>{html.escape(d.message)}</li>" for d in result.diagnostics)
        return f'<div class="nc-fit"><b>Not fitted</b><ul>{items}</ul></div>'
    rows = [("", [html.escape(shown(result, name))] + [f"{v:.3g}" for v in (p.mean, p.sd, p.q5, p.q50, p.q95)])
            for name, p in result.params.items()]
    posterior = table_html(["", "mean", "sd", "5%", "50%", "95%"], rows, 1, "nc-fit-posterior")
    method = ("empirical Bayes" if result.method == "empirical bayes" else
              f"{result.chains} chains × {result.iterations} draws after {result.warmup} warmup")
    convergence = table_html(["", "R-hat", "ESS"],
                             [("", [html.escape(shown(result, name)), _fmt(p.rhat, ".3f"), _fmt(p.ess, ".0f")])
                              for name, p in result.params.items()], 1, "nc-fit-convergence")
    samplers = "; ".join(f"{html.escape(label(k))}: {html.escape(v)}" for k, v in result.samplers.items())
    warnings = "".join(f"<li>{html.escape(d.message)}</li>" for d in result.diagnostics)
    flag = (f' <span class="nc-fail">⚠ {len(result.diagnostics)} convergence warning'
            f'{"s" if len(result.diagnostics) != 1 else ""} (see below)</span>' if warnings else "")
    author = author_details([f"<div>Fitted by {method}.</div>", convergence,
                             f'<div class="nc-fit-samplers">Samplers: {samplers}</div>',
                             f'<ul class="nc-fit-warnings">{warnings}</ul>' if warnings else "", folded])
    return (f'<div class="nc-fit"><b>Posterior given the data</b>{flag}{posterior}{author}</div>')


def _fmt(value: float, spec: str) -> str:
    return format(value, spec) if np.isfinite(value) else "–"
