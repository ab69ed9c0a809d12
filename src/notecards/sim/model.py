"""The model graph: what the sim language and the LaTeX reader produce, what sampling,
figures and inference consume.

Kept as plain dataclasses with no behaviour beyond small queries, so each consumer (sampler,
figures, inference) reads the same graph and none depends on another's internals.
Expression evaluation lives in `notecards.sim.expr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np


class Op(StrEnum):
    """What an `Expr` node does. Each value is the op's text, so `expr.op == "+"` reads as written."""

    NUM = "num"        # value: the number
    NAME = "name"      # value: the name
    VEC = "vec"        # args: the elements
    INDEX = "index"    # args: (base, index, …)
    CALL = "call"      # value: the function's name; args: its arguments
    NEG = "neg"        # args: (operand,)
    CMP = "cmp"        # value: the comparison or "and"/"or"; args: (left, right)
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    POW = "^"


@dataclass(frozen=True)
class Expr:
    """A node of an expression tree, built by our own parser (never `eval`); see `Op`."""

    op: Op
    args: tuple["Expr", ...] = ()
    value: float | str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "op", Op(self.op))    # a misspelt op fails here, not when evaluated

    @property
    def number(self) -> float:
        """The value of a `num` node."""
        if self.op is not Op.NUM or isinstance(self.value, str) or self.value is None:
            raise ValueError(f"not a number: {self.op} {self.value!r}")
        return float(self.value)


NodeKind = Literal["const", "data", "stochastic", "deterministic"]
Origin = Literal["sim", "latex"]


@dataclass
class Node:
    """One statement of the model: a constant, observed data, a draw or a deterministic function.

    `dist` is the canonical distribution name of the table in docs/simulations.md ("Normal", "InverseGamma", …) and
    `args` its arguments under canonical names in the notes' parameterisation ("mean", "var" for
    Normal; "shape", "rate" for Gamma; "shape", "scale" for InverseGamma …).
    `plates` names the size symbol of each index, outer first, and `indices` the index letters
    (`theta[1..J]` -> plates ("J",), indices ("j",); `y[i, j]` -> ("I", "J"), ("i", "j")).
    A stochastic node whose name also has a value (`y = [...]` then `y[j] ~ …`) is observed: `kind`
    stays "stochastic" and `observed` holds the data. A data node read from a table's column of
    names (schools) holds the group numbers as its value and the names in `labels`.
    """

    name: str
    kind: NodeKind
    line: int                                  # 1-based line in the note file
    source: str = ""                           # the statement as the user wrote it
    dist: str | None = None
    args: dict[str, Expr] = field(default_factory=dict)
    expr: Expr | None = None                   # deterministic nodes, and const given by an expression
    value: np.ndarray | float | None = None    # const / data values
    observed: np.ndarray | None = None
    plates: tuple[str, ...] = ()
    indices: tuple[str, ...] = ()
    parents: list[str] = field(default_factory=list)
    labels: list[str] | None = None            # a grouping column's names: labels[k - 1] names group k

    @property
    def law(self) -> str:
        """The distribution's name; only a stochastic node has one."""
        if self.dist is None:
            raise ValueError(f"{self.name} is not a draw")
        return self.dist

    @property
    def definition(self) -> Expr:
        """The expression a deterministic node (or a constant given by one) is defined by."""
        if self.expr is None:
            raise ValueError(f"{self.name} is not defined by an expression")
        return self.expr

    @property
    def scalar(self) -> float:
        """A scalar constant's value (a plate size, a number)."""
        if not isinstance(self.value, (int, float)):
            raise ValueError(f"{self.name} is not a scalar constant")
        return float(self.value)


@dataclass
class Check:
    """A `check:` line: a statistic of the draws against an expression."""

    line: int
    text: str                                  # as written, e.g. "var(X) ≈ lambda + sigma^2"
    lhs: Expr
    rhs: Expr
    relation: str = "≈"                        # "≈", "<", ">", "<=", ">="


@dataclass
class PosteriorClaim:
    """A card's statement of a posterior (`θ | x ~ N(m, v)`, x drawn from θ): a claim about the
    model, checked against it (`sim.claims`), never drawn as part of it. `node` holds the claimed
    law and its arguments as a draw would; `given` the conditioning variables."""

    node: Node
    given: list[str]
    latex: str


@dataclass
class ModelSpec:
    """A whole model from one card: nodes in sampling order, checks, options."""

    path: str
    line: int                                  # where the sim block / first statement is
    origin: Origin = "sim"
    nodes: dict[str, Node] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    n: int = 10000
    seed: int | None = None
    show: list[str] | None = None
    defaults: dict[str, float] = field(default_factory=dict)   # symbols the user never set
    alternatives: list[list[Node]] = field(default_factory=list)  # second definitions of a variable
    claims: list[PosteriorClaim] = field(default_factory=list)     # posteriors the card states
    source_text: str = ""                      # canonical text of the model, for hashing

    def stochastic(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == "stochastic"]

    def observed(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.observed is not None]


@dataclass
class CheckResult:
    line: int
    text: str
    simulated: float
    expected: float
    z: float
    passed: bool


@dataclass
class Comparison:
    """Two definitions of one variable simulated side by side (a card's claim of equivalence)."""

    name: str
    line: int                                  # the second definition's line
    first: dict[str, float]                    # mean, var, … of the first definition
    second: dict[str, float]
    p_value: float                             # two-sample test
    agree: bool


@dataclass
class SimResult:
    spec: ModelSpec
    draws: dict[str, np.ndarray]               # name -> (n,) or (n, plate size)
    checks: list[CheckResult] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
