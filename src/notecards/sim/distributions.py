"""The distributions a note may name, in the notes' own parameterisations (the table in docs/simulations.md).

Each `Distribution` knows its canonical argument names (Normal takes mean and **variance**,
Gamma shape and **rate** …), the keyword alternatives a note may use instead (`sd=`, `prec=`,
`scale=`), which values each argument may take, how to draw from it with a numpy Generator
(vectorised: arguments broadcast against the requested size), and the equivalent frozen
scipy.stats distribution, which the tests and the closed-form figure overlays use.

Keyword alternatives are rewritten into the canonical argument as an expression at parse time
(`sd=s` becomes `var = s^2`), so every consumer of a `Node` sees one parameterisation.

Choices: Categorical draws are categories 1..K (the notes index from 1); Bernoulli, Binomial,
Poisson and Categorical draws are stored as floats so they mix freely with other values;
StudentT's loc/scale default to 0/1, Cauchy's to 0/1, HalfCauchy's scale to 1, Uniform's
bounds to 0/1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from notecards.sim.model import Expr

Args = dict[str, np.ndarray]


class _LazyStats:
    """scipy.stats costs about 0.4 s to import, and parsing a model (every changed card with a
    sim block or LaTeX model) only needs the registry's names and argument lists: the module is
    imported when a frozen distribution is first asked for."""

    def __getattr__(self, name: str) -> Any:
        from scipy import stats as scipy_stats
        return getattr(scipy_stats, name)


stats = _LazyStats()


def _square(e: Expr) -> Expr:
    return Expr("^", (e, Expr("num", value=2.0)))


def _reciprocal(e: Expr) -> Expr:
    return Expr("/", (Expr("num", value=1.0), e))


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


def _vector_args(args: Args, size: tuple[int, ...], name: str) -> np.ndarray:
    vec = np.asarray(args[name], dtype=float)
    return np.broadcast_to(vec, (*size, vec.shape[-1]))


def _standard_gamma(rng: np.random.Generator, shape: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """Gamma(shape, 1) draws; a shape shared by all draws takes numpy's fast scalar path."""
    shape = np.asarray(shape, dtype=float)
    if shape.size == 1:
        return rng.standard_gamma(float(shape.reshape(-1)[0]), size)
    return rng.standard_gamma(np.broadcast_to(shape, size))


def _standard_t(rng: np.random.Generator, df: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    if df.size == 1:
        return rng.standard_t(float(df.reshape(-1)[0]), size)
    return rng.standard_t(np.broadcast_to(df, size))


def _categorical(rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
    p = _vector_args(args, size, "p")
    cumulative = np.cumsum(p, axis=-1)
    u = rng.random(size)[..., None] * cumulative[..., -1:]
    return (u >= cumulative).sum(axis=-1) + 1


def _dirichlet(rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
    alpha = _vector_args(args, size, "alpha")
    g = rng.standard_gamma(alpha)
    return g / g.sum(axis=-1, keepdims=True)


def _multinomial(rng: np.random.Generator, args: Args, size: tuple[int, ...]) -> np.ndarray:
    p = _vector_args(args, size, "p")
    trials = np.broadcast_to(np.asarray(args["n"]), size).astype(np.int64)
    return rng.multinomial(trials, p / p.sum(axis=-1, keepdims=True))


def _categorical_frozen(args: dict[str, Any]) -> Any:
    p = np.asarray(args["p"], dtype=float)
    return stats.rv_discrete(values=(np.arange(1, p.size + 1), p / p.sum()))


def _sqrt(x: Any) -> Any:
    return np.sqrt(np.asarray(x, dtype=float))


_DISTRIBUTIONS = [
    Distribution(
        "Normal", (Param("mean", "mean", "real"), Param("var", "variance", "positive")),
        lambda rng, a, s: a["mean"] + np.sqrt(a["var"]) * rng.standard_normal(s),
        lambda a: stats.norm(loc=a["mean"], scale=_sqrt(a["var"])),
        aliases=("N", "Gaussian", "Norm"),
        keywords={"sd": ("var", _square), "prec": ("var", _reciprocal),
                  "sigma": ("var", _square), "variance": ("var", lambda e: e)}),
    Distribution(
        "HalfNormal", (Param("var", "variance", "positive"),),
        lambda rng, a, s: np.sqrt(a["var"]) * np.abs(rng.standard_normal(s)),
        lambda a: stats.halfnorm(scale=_sqrt(a["var"])),
        aliases=("Half-Normal", "HalfGaussian", "HN"),
        keywords={"sd": ("var", _square), "sigma": ("var", _square)}, support="positive"),
    Distribution(
        "LogNormal", (Param("mean", "mean of the log", "real"),
                      Param("var", "variance of the log", "positive")),
        lambda rng, a, s: np.exp(a["mean"] + np.sqrt(a["var"]) * rng.standard_normal(s)),
        lambda a: stats.lognorm(s=_sqrt(a["var"]), scale=np.exp(a["mean"])),
        aliases=("Log-Normal", "LogN", "LN"),
        keywords={"sd": ("var", _square), "sigma": ("var", _square)}, support="positive"),
    Distribution(
        "StudentT", (Param("df", "degrees of freedom", "positive"),
                     Param("loc", "location", "real", 0.0),
                     Param("scale", "scale", "positive", 1.0)),
        lambda rng, a, s: a["loc"] + a["scale"] * _standard_t(rng, a["df"], s),
        lambda a: stats.t(df=a["df"], loc=a["loc"], scale=a["scale"]),
        aliases=("T", "Student", "Student-T", "StudentsT", "Student_t"),
        keywords={"nu": ("df", lambda e: e)}),
    Distribution(
        "Cauchy", (Param("loc", "location", "real", 0.0), Param("scale", "scale", "positive", 1.0)),
        lambda rng, a, s: a["loc"] + a["scale"] * rng.standard_cauchy(s),
        lambda a: stats.cauchy(loc=a["loc"], scale=a["scale"])),
    Distribution(
        "HalfCauchy", (Param("scale", "scale", "positive", 1.0),),
        lambda rng, a, s: np.abs(a["scale"] * rng.standard_cauchy(s)),
        lambda a: stats.halfcauchy(scale=a["scale"]),
        aliases=("Half-Cauchy", "HC"), support="positive"),
    Distribution(
        "Exponential", (Param("rate", "rate", "positive"),),
        lambda rng, a, s: rng.standard_exponential(s) / a["rate"],
        lambda a: stats.expon(scale=1.0 / np.asarray(a["rate"], dtype=float)),
        aliases=("Exp", "Expon"), keywords={"scale": ("rate", _reciprocal)},
        support="positive"),
    Distribution(
        "Gamma", (Param("shape", "shape", "positive"), Param("rate", "rate", "positive")),
        lambda rng, a, s: _standard_gamma(rng, a["shape"], s) / a["rate"],
        lambda a: stats.gamma(a=a["shape"], scale=1.0 / np.asarray(a["rate"], dtype=float)),
        aliases=("Ga",), keywords={"scale": ("rate", _reciprocal)}, support="positive"),
    Distribution(
        "InverseGamma", (Param("shape", "shape", "positive"), Param("scale", "scale", "positive")),
        lambda rng, a, s: a["scale"] / _standard_gamma(rng, a["shape"], s),
        lambda a: stats.invgamma(a=a["shape"], scale=a["scale"]),
        aliases=("InvGamma", "IG", "Inv-Gamma", "Inverse-Gamma", "InvGa"),
        support="positive"),
    Distribution(
        "ScaledInvChiSquare", (Param("nu", "degrees of freedom", "positive"),
                               Param("s2", "scale s²", "positive")),
        lambda rng, a, s: a["nu"] * a["s2"] / (2 * _standard_gamma(rng, a["nu"] / 2, s)),
        lambda a: stats.invgamma(a=np.asarray(a["nu"]) / 2,
                                 scale=np.asarray(a["nu"]) * np.asarray(a["s2"]) / 2),
        aliases=("Scaled-Inv-Chi-Square", "ScaledInvChi2", "ScaledInvChiSq", "Scaled-Inv-Chi2",
                 "ScaledInverseChiSquare", "Inv-Chi2-Scaled"),
        keywords={"df": ("nu", lambda e: e)}, support="positive"),
    Distribution(
        "Beta", (Param("a", "a", "positive"), Param("b", "b", "positive")),
        lambda rng, a, s: rng.beta(a["a"], a["b"], s),
        lambda a: stats.beta(a["a"], a["b"]),
        keywords={"alpha": ("a", lambda e: e), "beta": ("b", lambda e: e)}, support="unit"),
    Distribution(
        "Uniform", (Param("low", "lower bound", "real", 0.0), Param("high", "upper bound", "real", 1.0)),
        lambda rng, a, s: a["low"] + (a["high"] - a["low"]) * rng.random(s),
        lambda a: stats.uniform(loc=a["low"], scale=np.asarray(a["high"]) - np.asarray(a["low"])),
        aliases=("U", "Unif")),
    Distribution(
        "Bernoulli", (Param("p", "probability", "unit"),),
        lambda rng, a, s: rng.random(s) < a["p"],
        lambda a: stats.bernoulli(a["p"]),
        aliases=("Bern",), discrete=True, support="count"),
    Distribution(
        "Binomial", (Param("n", "number of trials", "count"), Param("p", "probability", "unit")),
        lambda rng, a, s: rng.binomial(np.asarray(a["n"]).astype(np.int64), a["p"], s),
        lambda a: stats.binom(int(a["n"]), a["p"]),
        aliases=("Binom", "Bin"), discrete=True, support="count"),
    Distribution(
        "Poisson", (Param("rate", "rate", "positive"),),
        lambda rng, a, s: rng.poisson(a["rate"], s),
        lambda a: stats.poisson(a["rate"]),
        aliases=("Pois", "Poi"), keywords={"lambda": ("rate", lambda e: e)},
        discrete=True, support="count"),
    Distribution(
        "Categorical", (Param("p", "probabilities", "simplex"),),
        _categorical, _categorical_frozen,
        aliases=("Cat", "Discrete"), discrete=True, support="category"),
    Distribution(
        "Dirichlet", (Param("alpha", "concentrations", "positive_vector"),),
        _dirichlet, lambda a: stats.dirichlet(np.asarray(a["alpha"], dtype=float)),
        aliases=("Dir",), support="simplex"),
    Distribution(
        "Multinomial", (Param("n", "number of trials", "count"), Param("p", "probabilities", "simplex")),
        _multinomial, lambda a: stats.multinomial(int(a["n"]), np.asarray(a["p"], dtype=float)),
        aliases=("Mult", "Multi"), discrete=True, support="counts"),
    Distribution(
        "Geometric", (Param("p", "probability of success", "unit"),),
        lambda rng, a, s: rng.geometric(a["p"], s),
        lambda a: stats.geom(a["p"]),
        aliases=("Geom", "Geo"), discrete=True, support="count"),
    Distribution(
        "NegativeBinomial", (Param("r", "number of successes", "positive"), Param("p", "probability", "unit")),
        lambda rng, a, s: rng.negative_binomial(a["r"], a["p"], s),
        lambda a: stats.nbinom(a["r"], a["p"]),
        aliases=("NB", "NegBin", "NegBinom", "Negative-Binomial"), discrete=True, support="count"),
]

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
            resolved[p.name] = Expr("num", value=p.default)
    return {name: resolved[name] for name in names}
