"""What a fit returns: plain dataclasses with `to_dict`, like the rest of the pipeline's stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from notecards.types import Diagnostic


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

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic (a constant draw, a point estimate) is null."""
    return None if value is None or not np.isfinite(value) else float(value)


@dataclass
class FitResult:
    params: dict[str, ParamSummary] = field(default_factory=dict)   # "mu", "theta[1]", …
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
            "params": {name: p.to_dict() for name, p in self.params.items()},
            "samplers": dict(self.samplers),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
