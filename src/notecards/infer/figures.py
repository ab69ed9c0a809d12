"""Figures and caption for a fitted model: what the card shows under the model.

Four SVGs, each returned as (kind, bytes): "posterior" (densities of the top-level scalar
parameters, with their 90% interval; the groups themselves when the hyperparameters are fixed),
"shrinkage" (each group's raw estimate → its posterior mean, with the line they shrink towards),
"trace" (every chain of each top-level parameter), and "ppc" (the data against draws from the
posterior predictive). A figure that does not apply (no plate, no Normal/Poisson data) is left out
rather than drawn empty. This module chooses what each figure shows; `infer.drawing` lays it out
with the model figures' SVG writer, at their width and text sizes (see docs/simulations.md).

Groups numbered by a table's grouping column are shown by their labels everywhere a group is
named (θ[Lincoln] in the table, the panel titles and beside the shrinkage lines); the numbers
stay for groups without labels.

Bytes are deterministic: the SVG writer's fixed precision and no date; the posterior predictive
draws come from a generator seeded by a constant, so equal fits give equal images.
"""

from __future__ import annotations

import html

import numpy as np

from notecards.sim.labels import pretty
from notecards.sim.caption import CAPTION_STYLE, author_details, image_html, table_html
from notecards.sim.distributions import REGISTRY
from notecards.sim.figure_options import FIGURE_OPTIONS
from notecards.sim.model import ModelSpec

from .drawing import (Density, Heading, Predictive, Shrinkage, Trace, draw_posteriors, draw_predictive,
                      draw_shrinkage, draw_traces)
from .graph import ModelGraph, UnsupportedModel, names_in
from .result import FitResult

PPC_DRAWS = 40
PPC_SEED = 20240501
PPC_INTERVALS_UP_TO = 30  # observations drawn one interval each; more get histograms
MAX_GROUP_PANELS = 8
TRACE_ONE_COLUMN = 4     # more traces than this go in two columns, to stay phone-sized
MAX_NAMED_GROUPS = 12    # more group labels than this would not fit beside the shrinkage plot
GROUP_LABEL_CHARS = 18   # labels are cut to this length in the figure (the caption keeps them whole)


def fit_figures(spec: ModelSpec, result: FitResult) -> list[tuple[str, bytes]]:
    """The fitted model's SVGs, in reading order."""
    if not result.ok:
        return []
    try:
        graph = ModelGraph(spec)
    except UnsupportedModel:
        return []
    names = top_level(graph, result)
    figures = []
    if names:
        figures.append(("posterior", draw_posteriors([density(result, n) for n in names], FIGURE_OPTIONS,
                                                     ALT_TEXT["posterior"])))
    shrink = shrinkage_data(graph, result)
    if shrink is not None:
        figures.append(("shrinkage", draw_shrinkage(shrinkage_figure(*shrink), FIGURE_OPTIONS,
                                                    ALT_TEXT["shrinkage"])))
    if names:
        columns = 1 if len(names) <= TRACE_ONE_COLUMN else 2
        figures.append(("trace", draw_traces([trace(result, n) for n in names], columns, FIGURE_OPTIONS,
                                             ALT_TEXT["trace"])))
    ppc = predictive_draws(graph, result)
    if ppc:
        figures.append(("ppc", draw_predictive([predictive(*p) for p in ppc], FIGURE_OPTIONS, ALT_TEXT["ppc"],
                                               PPC_INTERVALS_UP_TO)))
    return figures


def label(name: str, group: str | None = None) -> str:
    """A parameter as the card's math writes it: `mu0` → μ₀, `sigma2[3]` → σ²[3], and with its
    group's label `theta[1]` → θ[Lincoln]."""
    base, bracket, rest = name.partition("[")
    return pretty(base) + (f"[{group}]" if group is not None and bracket else bracket + rest)


def shown(result: FitResult, name: str) -> str:
    """A parameter of this fit as the card shows it, by its group's label when it has one."""
    return label(name, result.labels.get(name))


def headed(result: FitResult, name: str) -> str:
    """A parameter as a figure's heading names it: a long group label cut short."""
    group = result.labels.get(name)
    return label(name, None if group is None else _shortened(group))


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


def density(result: FitResult, name: str) -> Density:
    p = result.params[name]
    return Density(Heading(f"{headed(result, name)} | data", f"{p.mean:.3g} ± {p.sd:.2g}"),
                   draws_of(result, name).ravel(), p.mean, p.q5, p.q95)


def trace(result: FitResult, name: str) -> Trace:
    p = result.params[name]
    return Trace(Heading(headed(result, name), f"R-hat {p.rhat:.3f}, ESS {p.ess:.0f}"), draws_of(result, name))


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


def shrinkage_figure(raw: np.ndarray, posterior: np.ndarray, target: tuple[float, str], name: str,
                     groups: list[str] | None) -> Shrinkage:
    """Named groups (up to `MAX_NAMED_GROUPS`) are labelled at their posterior mean, so the
    reader sees which school moved where without the caption's table."""
    value, text = target
    named = [_shortened(g) for g in groups] if groups is not None and len(groups) <= MAX_NAMED_GROUPS else None
    return Shrinkage(Heading("Shrinkage", f"towards {text} (dashed)"), raw, posterior, value,
                     ("raw group estimate", f"posterior mean of {label(name)}"), named)


def _shortened(text: str) -> str:
    return text if len(text) <= GROUP_LABEL_CHARS else text[:GROUP_LABEL_CHARS - 1] + "…"


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


def predictive(name: str, data: np.ndarray, replicates: np.ndarray) -> Predictive:
    what = "data (dots), 90% predictive" if data.size <= PPC_INTERVALS_UP_TO else "data (black) vs replicates"
    return Predictive(Heading(label(name), what), data, replicates)


ALT_TEXT = {
    "posterior": "Posterior densities of the top-level parameters with their 90% intervals",
    "shrinkage": "Each group's raw estimate and its posterior mean, with the value they shrink towards",
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
