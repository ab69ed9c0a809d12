"""The sim language: statements of a ```sim block (or of a card's LaTeX) -> `ModelSpec`.

Read line by line (`statements`), then resolved into a model (`resolve`); `nodes` holds what
both know of a node.

One statement per line, `#` starts a comment:

    lambda = 4                       constant (a number or an expression of constants)
    s = [15, 10, 16]                 data vector
    theta ~ Normal(0, lambda)        a draw; arguments in the notes' parameterisation
    theta[1..J] ~ Normal(mu, tau^2)  a plate: index letter j runs over 1..J
    y[j] ~ Normal(theta[j], s[j]^2)  j is the lower case of a size symbol, or declared by 1..J
    y[i, j] ~ Normal(mu[j], 1)       two indices: nested plates I and J
    X = theta + eps                  deterministic node
    n = 20000 / seed = 7 / show = theta, X        options
    check: var(X) ≈ lambda + sigma^2             a check of the draws (see checks.py)

Choices written down here because the task leaves them open:
- Statements may refer to names defined further down; nodes are put in dependency order
  (a program already written in order keeps its order). A cycle is an error.
- `n`, `draws`, `seed` and `show` are options in a sim block, so a variable cannot be called
  `n` there (the message says so). In LaTeX-derived statements (`origin="latex"`) `n` is an
  ordinary symbol, since card math uses it for sample sizes.
- A name given values (`y = [28, 8, -3]`) and later a `~` statement is observed data:
  one stochastic node whose `observed` holds the values.
- In a sim block a second definition of a name is an error. In LaTeX-derived statements it is
  a claim that two forms are equivalent: the second definition, with the nodes only it uses,
  goes to `spec.alternatives` and `simulate` compares both.
- In LaTeX-derived statements, symbols never given a value default to 1 and undefined plate
  sizes to 5 (`DEFAULT_PLATE`); they are listed in `spec.defaults` and reported as info.
- A node over two plates has `plates == ("I", "J")` and `indices == ("i", "j")`, outer first.
- A model with any error gives `None` and the diagnostics; a partial model would draw figures
  of something the note does not say.
"""

from __future__ import annotations

from notecards.sim.lang.nodes import (DEFAULT_DRAWS, DEFAULT_PLATE, DEFAULT_VALUE, MAX_DRAWS, MAX_PLATE, OPTIONS,
                                      node_exprs, topological_order, value_of)
from notecards.sim.lang.resolve import resolve, with_constants
from notecards.sim.lang.statements import Statements
from notecards.sim.model import ModelSpec, Origin
from notecards.types import Diagnostic

__all__ = ["DEFAULT_DRAWS", "DEFAULT_PLATE", "DEFAULT_VALUE", "MAX_DRAWS", "MAX_PLATE", "OPTIONS", "node_exprs",
           "parse_sim", "topological_order", "value_of", "with_constants"]


def parse_sim(text: str, path: str, first_line: int,
              origin: Origin = "sim") -> tuple[ModelSpec | None, list[Diagnostic]]:
    """Parse a sim block's body; `first_line` is the note line of the body's first line."""
    read = Statements(path, first_line, origin)
    for offset, raw in enumerate(text.split("\n")):
        read.statement(raw, first_line + offset)
    return resolve(read)
