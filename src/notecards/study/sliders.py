"""Live simulations on a model card: a slider per free parameter, and the card redrawn at the
values the student chose.

A free parameter is a scalar constant the model's laws use, given as a plain number (`lambda = 4`)
or a default the card states (a symbol its LaTeX never set): not one computed from others
(`tau = 2*lambda` follows its inputs), not a plate size (that is the shape of the model), not
data. Its range comes from what the laws do with it: the support of the law's argument it is
(Normal's variance: positive; Binomial's p: between 0 and 1; its n: a whole number), `sd = s` and
`prec = p` making `s` and `p` positive. A constant used inside a larger expression has no
argument to ask, so the model itself is asked: when it refuses the value's negative, the
constant is positive.

Every slider is a list of values (the `<input type="range">` picks an index): the card's own value
in the middle, rounded to 3 significant digits elsewhere, so two moves to the same place ask for
the same number and the content-keyed cache serves the second. Positive values step on a log
scale from a tenth to ten times the card's value; a probability from 0 to 1, a count from 0 to
twice the card's value (at least 10), a real number three widths either side (the width being its
size, at least 1), each half of the slider spanning one side of the card's value.

A redraw runs `models.card`'s own path (the card's job as the export makes it, its constants set,
the same sampler, figures and cache); a fitted card re-fits with `REFIT` (fewer chains and draws,
said in the answer). Sandboxed `python sim` blocks get no sliders: their code is not a model whose
constants notecards can read. The note is only read.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from notecards.models.card import SimOptions, model_job, run_jobs, with_overrides
from notecards.models.find import FitOptions
from notecards.models.run import Figure, SimJob
from notecards.sim.distributions import lookup
from notecards.sim.labels import pretty
from notecards.sim.model import Expr, ModelSpec
from notecards.types import Card, Diagnostic

STEPS = 40                      # values on each side of the card's value
REFIT = FitOptions(chains=2, draws=400, warmup=300)
_RANK = {"real": 0, "positive": 1, "unit": 2, "count": 3}
_KEPT_FIGURES = 64


@dataclass(frozen=True)
class Slider:
    """One free parameter: its name in the model, how the card writes it, the card's value, and
    the values the slider steps through (the card's at index `start`)."""

    name: str
    label: str
    value: float
    support: str                # "real" | "positive" | "unit" | "count"
    scale: str                  # "log" | "linear"
    values: list[float]
    start: int

    def to_dict(self) -> dict:
        return dict(self.__dict__, values=list(self.values))

    @classmethod
    def from_dict(cls, data: dict) -> "Slider":
        return cls(**data)


@dataclass
class CardSliders:
    """A card's sliders, or why it has none; `refit` says how a fitted card is redrawn."""

    sliders: list[Slider] = field(default_factory=list)
    reason: str | None = None
    refit: str | None = None

    def to_dict(self) -> dict:
        return {"sliders": [s.to_dict() for s in self.sliders], "reason": self.reason, "refit": self.refit}


@dataclass
class Redraw:
    """The card's simulation at the chosen values: its HTML (figures named as `media/` serves
    them), whether it came from the cache, and any problem with the values. Only errors are
    problems for the page: a warning (two forms that disagree, a failed check) is in the
    caption already, where the card shows it."""

    html: str
    cached: bool
    refit: str | None
    diagnostics: list[Diagnostic]
    figures: list[Figure] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"html": self.html, "cached": self.cached, "refit": self.refit,
                "problems": [f"{d.severity}: {d.message}" for d in self.diagnostics if d.severity == "error"]}


def sliders_of(card: Card, note_text: str) -> CardSliders:
    """The sliders of a card's model (none when it has no model, or a python one)."""
    job, _ = model_job(card, note_text)
    if job is None:
        return CardSliders(reason="this card has no model")
    if job.spec is None:
        return CardSliders(reason="a python sim block runs in the sandbox: its constants cannot be set")
    found = [s for s in (_slider(job.spec, name) for name in free_parameters(job.spec)) if s is not None]
    return CardSliders(found, None if found else "the model has no constant to set", _refit_text(job))


def free_parameters(spec: ModelSpec) -> list[str]:
    """Scalar constants given as numbers, used by some other node, not plate sizes."""
    plates = {p for node in spec.nodes.values() for p in node.plates}
    used = {p for node in spec.nodes.values() for p in node.parents}
    return [node.name for node in spec.nodes.values()
            if node.kind == "const" and node.name not in plates and node.name in used
            and (node.expr is None or node.expr.op == "num") and node.value is not None and np.ndim(node.value) == 0]


def support_of(spec: ModelSpec, name: str) -> str:
    """The narrowest support among the law arguments that are `name` itself (or its square or
    reciprocal, as `sd=` and `prec=` write them); else what the model accepts."""
    found = "real"
    direct = False
    for node in spec.stochastic():
        law = lookup(node.dist or "")
        for param in law.params if law else ():
            expr = node.args.get(param.name)
            if expr is None:
                continue
            if _is_name(expr, name):
                support = param.support if param.support in _RANK else "real"
            elif _wraps(expr, name):
                support = "positive"
            else:
                continue
            direct = True
            found = support if _RANK[support] > _RANK[found] else found
    value = spec.nodes[name].scalar
    if not direct and value > 0 and _refused(spec, name, -value):
        return "positive"
    return found


def slider_values(value: float, support: str) -> tuple[list[float], str]:
    """The values a slider steps through (the card's value exactly in the middle) and its scale."""
    if support == "positive" and value > 0:
        low = [value * 10 ** (-k / STEPS) for k in range(STEPS, 0, -1)]
        high = [value * 10 ** (k / STEPS) for k in range(1, STEPS + 1)]
        return _tidy(low, value, high), "log"
    if support == "count":
        top = max(2 * value, value + 10)
        return sorted({*(round(value * k / STEPS) for k in range(STEPS + 1)),
                       *(round(value + (top - value) * k / STEPS) for k in range(STEPS + 1))}), "linear"
    if support == "unit":
        lo, hi = 0.0, 1.0
    else:
        width = 3 * max(abs(value), 1.0)
        lo, hi = value - width, value + width
    low = [lo + (value - lo) * k / STEPS for k in range(STEPS)]
    high = [value + (hi - value) * k / STEPS for k in range(1, STEPS + 1)]
    return _tidy(low, value, high), "linear"


def redraw(card: Card, note_text: str, cache_dir: Path, values: dict[str, float],
           options: SimOptions = SimOptions()) -> Redraw:
    """The card's simulation with `values` for some of its constants (a fitted card re-fitted
    with `REFIT`); nothing outside the cache is written."""
    job, diagnostics = model_job(card, note_text)
    if job is None or job.spec is None:
        return Redraw("", False, None, [*diagnostics, Diagnostic(card.block.path, card.block.line, "error",
                                                                 "this card has no model whose constants can be set")])
    free = set(free_parameters(job.spec))
    unknown = sorted(set(values) - free)
    if unknown:
        return Redraw("", False, None, [Diagnostic(job.path, job.line, "error",
                                                   f"{', '.join(unknown)}: not a slider of this card")])
    moved, problems = with_overrides(job, values) if values else (job, [])
    if moved is None:
        return Redraw("", False, None, problems)
    if moved.fit is not None:
        moved = replace(moved, fit=replace(moved.fit, chains=min(moved.fit.chains, REFIT.chains),
                                           draws=min(moved.fit.draws, REFIT.draws),
                                           warmup=min(moved.fit.warmup, REFIT.warmup)))
    [outcome] = run_jobs([moved], cache_dir, options)
    return Redraw(outcome.html, not outcome.rendered, _refit_text(job), [*problems, *outcome.diagnostics],
                  outcome.figures)


class Figures:
    """The figures redraws made, by name, for the media route (the most recent `_KEPT_FIGURES`)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    def keep(self, figures: list[Figure]) -> None:
        for figure in figures:
            self._kept[figure.name] = figure.data
            self._kept.move_to_end(figure.name)
        while len(self._kept) > _KEPT_FIGURES:
            self._kept.popitem(last=False)

    def get(self, name: str) -> bytes | None:
        return self._kept.get(name)


def _slider(spec: ModelSpec, name: str) -> Slider | None:
    value = spec.nodes[name].scalar
    if not math.isfinite(value):
        return None
    support = support_of(spec, name)
    values, scale = slider_values(value, support)
    return Slider(name=name, label=pretty(name), value=value, support=support, scale=scale,
                  values=values, start=values.index(value))


def _refit_text(job: SimJob) -> str | None:
    if job.fit is None:
        return None
    fit = job.fit
    return (f"re-fitted with {min(fit.chains, REFIT.chains)} chains of {min(fit.draws, REFIT.draws):,} draws "
            f"for speed (the card: {fit.chains} of {fit.draws:,})")


def _tidy(low: list[float], value: float, high: list[float]) -> list[float]:
    """3 significant digits, strictly increasing, the card's own value kept exact."""
    out = [v for v in (_round(x) for x in low) if v < value]
    out = sorted(set(out)) + [value]
    for v in (_round(x) for x in high):
        if v > out[-1]:
            out.append(v)
    return out


def _round(x: float) -> float:
    return float(f"{x:.3g}")


def _is_name(expr: Expr, name: str) -> bool:
    return expr.op == "name" and expr.value == name


def _wraps(expr: Expr, name: str) -> bool:
    """`name^2` (sd=) or `1/name` (prec=)."""
    if expr.op == "^" and _is_name(expr.args[0], name) and expr.args[1].op == "num":
        return True
    return expr.op == "/" and expr.args[0].op == "num" and _is_name(expr.args[1], name)


def _refused(spec: ModelSpec, name: str, value: float) -> bool:
    from notecards.sim.lang import with_constants

    moved, _ = with_constants(spec, {name: value})
    return moved is None
