"""What every law is made of: its parameters (`Param`, with the values each may take), and the
`Distribution` holding them with the law's sampler, log density, scipy equivalent, aliases,
keyword forms and the support of its draws; with lazy handles on scipy.stats and scipy.special."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from notecards.sim.model import Expr, Op

Args = dict[str, np.ndarray]


class _LazyStats:
    """scipy.stats costs about 0.4 s to import, and parsing a model (every changed card with a
    sim block or LaTeX model) only needs the registry's names and argument lists: the module is
    imported when a frozen distribution is first asked for."""

    def __getattr__(self, name: str) -> Any:
        from scipy import stats as scipy_stats
        return getattr(scipy_stats, name)


stats = _LazyStats()


class _LazySpecial:
    """scipy.special, imported when a log density is first evaluated (only fits do), for the
    same reason as `stats`; each function is kept once found, since fits call them in loops."""

    def __getattr__(self, name: str) -> Any:
        from scipy import special as scipy_special
        function = getattr(scipy_special, name)
        setattr(self, name, function)
        return function


special = _LazySpecial()


def square(e: Expr) -> Expr:
    """A keyword form as the canonical argument: `sd=e` is the variance e^2."""
    return Expr(Op.POW, (e, Expr(Op.NUM, value=2.0)))


def reciprocal(e: Expr) -> Expr:
    """A keyword form as the canonical argument: `prec=e` is the variance 1/e, `scale=e` the rate."""
    return Expr(Op.DIV, (Expr(Op.NUM, value=1.0), e))


@dataclass(frozen=True)
class Param:
    """One canonical argument: its name, what it means, and which values it may take."""

    name: str
    label: str
    support: str                 # a key of _SUPPORT_TEXT
    default: float | None = None

    @property
    def vector(self) -> bool:
        return self.support in ("simplex", "positive_vector")


_SUPPORT_TEXT = {
    "real": "a finite number", "positive": "> 0", "unit": "between 0 and 1",
    "count": "a whole number >= 0", "simplex": "probabilities >= 0 that sum to 1",
    "positive_vector": "a vector of values > 0",
}


def support_violation(param: Param, value: np.ndarray) -> str | None:
    """Why `value` is not allowed for `param`, or None when every element is fine."""
    v = np.asarray(value, dtype=float)
    if param.support == "real":
        bad = ~np.isfinite(v)
    elif param.support == "positive":
        bad = ~(v > 0) | ~np.isfinite(v)
    elif param.support == "unit":
        bad = ~((v >= 0) & (v <= 1))
    elif param.support == "count":
        bad = ~((v >= 0) & (v == np.round(v)) & np.isfinite(v))
    elif param.support == "positive_vector":
        bad = ~(v > 0) | ~np.isfinite(v)
    else:  # simplex: last axis is the categories
        sums = v.sum(axis=-1, keepdims=True)
        bad = ~(v >= 0) | ~(np.abs(sums - 1) < 1e-6)
    if not np.any(bad):
        return None
    example = v[bad].flat[0] if param.support != "simplex" else v.reshape(-1, v.shape[-1])[0]
    shown = np.array2string(np.asarray(example), precision=4) if np.ndim(example) else f"{example:.6g}"
    return f"{param.label} must be {_SUPPORT_TEXT[param.support]} (got {shown})"


@dataclass(frozen=True)
class Distribution:
    name: str
    params: tuple[Param, ...]
    sampler: Callable[[np.random.Generator, Args, tuple[int, ...]], np.ndarray]
    scipy_frozen: Callable[[dict[str, Any]], Any]     # the same law as scipy.stats sees it
    log_density: Callable[[np.ndarray, Args], np.ndarray] | None = None   # None: not fitted (vector laws)
    aliases: tuple[str, ...] = ()
    keywords: dict[str, tuple[str, Callable[[Expr], Expr]]] = field(default_factory=dict)
    discrete: bool = False
    support: str = "real"        # of the draws: "real", "positive", "unit", "count", "category",
    #                              "simplex", "counts"

    @property
    def event_vector(self) -> bool:
        """True when one draw is a vector (Dirichlet, Multinomial)."""
        return self.support in ("simplex", "counts")

    def check(self, args: Args) -> list[str]:
        """Messages for every argument outside its allowed values (empty when all is well)."""
        problems = []
        for p in self.params:
            why = support_violation(p, args[p.name])
            if why:
                problems.append(f"{self.name} {why}")
        return problems

    def sample(self, rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
        """Draws of shape `size` (plus the category axis for vector draws), as floats."""
        return np.asarray(self.sampler(rng, args, size), dtype=float)

    def log_prob(self, x: np.ndarray, args: Args) -> np.ndarray:
        """log p(x | args) in the notes' parameterisation, broadcasting; -inf outside the support."""
        if self.log_density is None:
            raise ValueError(f"{self.name} has no log density here")
        return self.log_density(x, args)


def vector_args(args: Args, size: tuple[int, ...], name: str) -> np.ndarray:
    """A vector argument broadcast to `size` draws, its vector axis last."""
    vec = np.asarray(args[name], dtype=float)
    return np.broadcast_to(vec, (*size, vec.shape[-1]))
