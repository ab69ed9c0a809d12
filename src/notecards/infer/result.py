"""What a fit returns: plain dataclasses with `to_dict`, like the rest of the pipeline's stages.

In `to_dict`, a parameter whose group has a label (a school name from the note's table) carries
it as "label" beside its numeric name; other parameters have no "label" key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from notecards.types import Diagnostic

from .diagnostics import ess_bulk, ess_tail, rhat


@dataclass
class ParamSummary:
    """One scalar parameter's posterior: moments, the 5/50/95% quantiles and convergence."""

    mean: float
    sd: float
    q5: float
    q50: float
    q95: float
    rhat: float
    ess: float              # bulk ESS
    ess_tail: float

    @classmethod
    def of_draws(cls, draws: np.ndarray) -> ParamSummary:
        """Posterior summary of one scalar's (chains, iterations) draws."""
        flat = draws.ravel()
        q5, q50, q95 = np.quantile(flat, [0.05, 0.5, 0.95])
        # a constant (a point estimate drawn as draws) has sd 0, not the rounding error of its mean
        sd = 0.0 if flat.min() == flat.max() else float(flat.std(ddof=1))
        return cls(mean=float(flat.mean()), sd=sd, q5=float(q5), q50=float(q50), q95=float(q95),
                   rhat=rhat(draws), ess=ess_bulk(draws), ess_tail=ess_tail(draws))

    @classmethod
    def point(cls, value: float) -> ParamSummary:
        """A point estimate (empirical Bayes' hyperparameters): no spread, no convergence to judge."""
        nan = float("nan")
        return cls(mean=value, sd=0.0, q5=value, q50=value, q95=value, rhat=nan, ess=nan, ess_tail=nan)

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic (a constant draw, a point estimate) is null."""
    return None if value is None or not np.isfinite(value) else float(value)


@dataclass
class FitResult:
    params: dict[str, ParamSummary] = field(default_factory=dict)   # "mu", "theta[1]", …
    labels: dict[str, str] = field(default_factory=dict)            # "theta[1]" -> "Lincoln"
    samplers: dict[str, str] = field(default_factory=dict)          # node -> how it was sampled
    draws: dict[str, np.ndarray] = field(default_factory=dict)      # (chains, iterations[, size])
    diagnostics: list[Diagnostic] = field(default_factory=list)
    method: str = "mcmc"                                            # or "empirical bayes"
    chains: int = 0
    iterations: int = 0
    warmup: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.params)

    def to_dict(self) -> dict:
        return {
            "method": self.method, "chains": self.chains, "draws": self.iterations,
            "warmup": self.warmup,
            "params": {name: self._labelled(name, p.to_dict()) for name, p in self.params.items()},
            "samplers": dict(self.samplers),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    def _labelled(self, name: str, summary: dict) -> dict:
        """A group's summary opens with its label, when its groups have labels."""
        return {"label": self.labels[name], **summary} if name in self.labels else summary
