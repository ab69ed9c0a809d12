"""Name a law as cards write it, and restate its arguments in the sim language's parameterisation.

Textbooks write the same law many ways (``\\mathcal{N}``, ``\\text{Inv-}\\chi^2_\\nu``,
``t_\\nu(\\mu, \\sigma^2)`` with the squared scale as in BDA) and parameterise some differently
from the sim language (the table in docs/simulations.md). Only known laws are translated: an unknown name, a
subscript a law does not take, or the wrong number of arguments is a `Skip` with the reason.
"""

from __future__ import annotations

import re

from notecards.sim import distributions
from notecards.sim.latex.expr import Bin, Call, Num, Skip, Term, is_square

# How cards write laws beyond the sim language's own names and aliases (which
# `distributions.lookup` knows, so every name of the docs/simulations.md table reads here too), and the χ²
# families, which become Gamma, InverseGamma or ScaledInvChiSquare in `law_args`.
_LATEX_LAW_NAMES = {
    "Normal": ("gauss",),
    "HalfNormal": ("halfn", "n^+", "n+"),
    "LogNormal": ("lnn", "lognorm"),
    "HalfCauchy": ("c^+",),
    "Exponential": ("expo",),
    "InverseGamma": ("invgam", "inversegam", "gamma^1", "gamma^{1}"),
    "ChiSquare": ("chi^2", "chisq", "chi2", "chisquared", "chisquare"),
    "InvChiSquare": ("invchi^2", "inversechi^2", "invchisq", "scaledinvchi^2",
                     "scaledinversechi^2", "scaledinvchisq", "invchi2"),
    "Beta": ("be",),
    "Bernoulli": ("ber", "bernoulli"),
    "Poisson": ("po",),
}
_LATEX_LAWS = {alias: law for law, aliases in _LATEX_LAW_NAMES.items() for alias in aliases}
_HALF = {"HalfNormal", "HalfCauchy"}
_SUBSCRIPTED = {"StudentT", "ChiSquare", "InvChiSquare"}
_WRAPPERS = re.compile(r"\\(?:text|mathrm|operatorname\*?|mathcal|mathscr|mathsf|textrm|textsf"
                       r"|mbox|mathit|textit|mathbb|mathbf)\b")
_ONE_HALF = Bin("/", Num("1"), Num("2"))

# Which argument of a law is a vector (probabilities or concentrations), for its default.
VECTOR_ARGUMENT = {"Dirichlet": 0, "Categorical": 0, "Multinomial": 1}


def law_name(head: str) -> tuple[str | None, str | None]:
    """(canonical law, subscript text) of a law as written, e.g. `t_\\nu` → (StudentT, \\nu)."""
    h = _WRAPPERS.sub("", head)
    h = re.sub(r"[{}\s]", "", h)
    sub = None
    m = re.search(r"_(\\[A-Za-z]+|[A-Za-z0-9]+)", h)
    if m:
        sub = m.group(1)
        h = h[:m.start()] + h[m.end():]
    key = re.sub(r"[\\\-_ ]", "", h).lower()
    registered = distributions.lookup(key)
    law = _LATEX_LAWS.get(key) or (registered.name if registered else None)
    if law is not None and sub is not None and law not in _SUBSCRIPTED:
        return None, sub
    return law, sub


def law_args(law: str, args: tuple[Term, ...], sub: Term | None) -> tuple[str, tuple[Term, ...]]:
    """The law and arguments in the sim language's parameterisation (the table in docs/simulations.md)."""
    if law in _HALF:
        return _half(law, args)
    if law == "StudentT":
        return law, _student_t_args(sub, args)
    if law == "ChiSquare":
        return "Gamma", (_half_of(_one_df(sub, args)), _ONE_HALF)
    if law == "InvChiSquare":
        return _inv_chi_square(sub, args)
    if sub is not None:
        raise Skip(f"{law} takes no subscript")
    if law == "Beta" and len(args) == 1:       # Be(p) is how many notes write a Bernoulli
        law = "Bernoulli"
    arity = len(distributions.REGISTRY[law].params)
    if len(args) != arity:
        raise Skip(f"{law} takes {arity} argument(s), found {len(args)}")
    return law, args


def _half(law: str, args: tuple[Term, ...]) -> tuple[str, tuple[Term, ...]]:
    """A half law takes its scale alone, or after the 0 some cards write for the location."""
    if len(args) == 2 and args[0] == Num("0"):
        args = args[1:]
    if len(args) != 1:
        raise Skip(f"{law} takes a scale (or 0 and a scale)")
    return law, args


def _student_t_args(sub: Term | None, args: tuple[Term, ...]) -> tuple[Term, ...]:
    """(ν, μ, σ) of t_ν, t_ν(μ, σ²), t(ν) or StudentT(ν, μ, σ)."""
    if sub is not None and not args:
        return sub, Num("0"), Num("1")
    if sub is not None and len(args) == 2:
        return sub, args[0], _unsquare(args[1])
    if sub is None and len(args) == 1:
        return args[0], Num("0"), Num("1")
    if sub is None and len(args) == 3:
        return args
    raise Skip("a Student-t needs t_ν, t_ν(μ, σ²), t(ν) or StudentT(ν, μ, σ)")


def _inv_chi_square(sub: Term | None, args: tuple[Term, ...]) -> tuple[str, tuple[Term, ...]]:
    """Scaled when a scale is given (Inv-χ²(ν, s²) or Inv-χ²_ν(s²)), else InverseGamma(ν/2, 1/2)."""
    if len(args) == 2 and sub is None:
        return "ScaledInvChiSquare", args
    if sub is not None and len(args) == 1:
        return "ScaledInvChiSquare", (sub, args[0])
    return "InverseGamma", (_half_of(_one_df(sub, args)), _ONE_HALF)


def _one_df(sub: Term | None, args: tuple[Term, ...]) -> Term:
    """The degrees of freedom of a χ² law, written once as χ²_ν or χ²(ν)."""
    if sub is not None and not args:
        return sub
    if sub is None and len(args) == 1:
        return args[0]
    raise Skip("a χ² law needs its degrees of freedom once, as χ²_ν or χ²(ν)")


def _unsquare(node: Term) -> Term:
    """sqrt(σ²) written as σ when σ² is literally a square."""
    return node.a if is_square(node) else Call("sqrt", (node,))


def _half_of(node: Term) -> Term:
    return Bin("/", node, Num("2"))
