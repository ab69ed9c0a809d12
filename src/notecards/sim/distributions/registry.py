"""Every law by name and alias, the defaults for symbols a card leaves free, and a note's
arguments resolved into a law's canonical ones."""

from __future__ import annotations

from notecards.sim.distributions.base import Distribution, Param
from notecards.sim.distributions.continuous import CONTINUOUS
from notecards.sim.distributions.discrete import DISCRETE
from notecards.sim.model import Expr, Op

_DISTRIBUTIONS = [*CONTINUOUS, *DISCRETE]

# A value for a symbol a card leaves free, by the role it plays in a law, so that no default
# makes a law degenerate: a lower bound below its upper bound, a count above 1, a probability
# inside (0, 1), and a variance's inverse-gamma prior with a finite variance (shape > 2, mean 1).
# Roles not listed take 1.
TYPICAL_VALUES: dict[tuple[str, str], float] = {
    ("Uniform", "low"): 0.0, ("Uniform", "high"): 1.0,
    ("InverseGamma", "shape"): 3.0, ("InverseGamma", "scale"): 2.0,
    ("ScaledInvChiSquare", "nu"): 5.0,
    ("Binomial", "n"): 10.0, ("Multinomial", "n"): 10.0, ("NegativeBinomial", "r"): 3.0,
}
TYPICAL_BY_SUPPORT = {"unit": 0.3, "count": 10.0}


def typical_value(law: str, param: Param) -> float:
    """The default for a free symbol that is the argument `param` of `law` (see TYPICAL_VALUES)."""
    return TYPICAL_VALUES.get((law, param.name), TYPICAL_BY_SUPPORT.get(param.support, 1.0))


def _key(name: str) -> str:
    """Lookup key: case, hyphens, underscores and spaces do not matter (Inv-Gamma = invgamma)."""
    return "".join(ch for ch in name.lower() if ch not in "-_ ")


REGISTRY: dict[str, Distribution] = {d.name: d for d in _DISTRIBUTIONS}
_BY_KEY: dict[str, Distribution] = {
    _key(alias): d for d in _DISTRIBUTIONS for alias in (d.name, *d.aliases)
}


def lookup(name: str) -> Distribution | None:
    """The distribution a note calls `name` (any alias, any case), or None."""
    return _BY_KEY.get(_key(name))


def resolve_args(dist: Distribution, positional: list[Expr],
                 keywords: list[tuple[str, Expr]]) -> dict[str, Expr]:
    """Canonical argument expressions from what the note wrote; ValueError says what is wrong."""
    names = [p.name for p in dist.params]
    signature = f"{dist.name}({', '.join(names)})"
    if len(positional) > len(names):
        raise ValueError(f"{signature} takes at most {len(names)} argument(s), "
                         f"got {len(positional)}")
    resolved: dict[str, Expr] = dict(zip(names, positional))
    for keyword, expr in keywords:
        if keyword in names:
            canonical, value = keyword, expr
        elif keyword in dist.keywords:
            canonical, transform = dist.keywords[keyword]
            value = transform(expr)
        else:
            allowed = ", ".join(names + sorted(dist.keywords))
            raise ValueError(f"{dist.name} has no argument '{keyword}' (expected one of {allowed})")
        if canonical in resolved:
            raise ValueError(f"{dist.name}: {canonical} is given twice")
        resolved[canonical] = value
    for p in dist.params:
        if p.name not in resolved:
            if p.default is None:
                raise ValueError(f"{signature}: missing {p.label} ({p.name})")
            resolved[p.name] = Expr(Op.NUM, value=p.default)
    return {name: resolved[name] for name in names}
