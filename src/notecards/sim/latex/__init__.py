"""Read the model a card states in its own LaTeX and write it in the sim language.

A card that says ``\\theta \\sim \\mathcal{N}(0, \\lambda)`` and ``X \\sim \\mathcal{N}(\\theta,
\\sigma^2)`` in display math has stated a runnable model; this module turns those statements into
sim-language text (docs/simulations.md) so such a card gets a simulation without a ```sim block.

The reader runs in stages, one module each: `display` finds the display math,
`tokens` cuts it into tokens, `pieces` into candidate statements, `statement`
reads each (with `expr` for formulas and `laws` for laws), and `card` orders
them and fills in defaults; this module hands the result to `parse_sim`.

What is read:
- display math: ``$$…$$`` (on its own lines or inline in a sentence) and ``\\[…\\]``; inline
  ``$…$`` and ``\\(…\\)`` are prose math, read only from the card's question (its first
  field), where a card sets up what it asks about: `What is E[X] for $X \\sim Binom(n, p)$?`
  states the card's model, `as in $\\theta \\sim N(0, \\lambda)$` in an answer does not.
  Anything inside code is ignored.
- rows split at ``\\\\``; several statements on one row are split at top-level commas,
  ``\\quad`` and prose ``\\text{ for }`` — but only where both sides state something, so
  ``y_i \\mid \\theta_j, \\sigma^2 \\sim …`` stays one statement.
- ``lhs \\sim Law(args)`` and ``lhs = expr``; ``:=``, ``\\stackrel{d}{=}`` and
  ``\\stackrel{iid}{\\sim}`` read as ``=`` and ``\\sim``. A conditioning bar on the left
  (``\\theta_j \\mid \\phi \\sim …``) names parents and is dropped.

Names (the rule for subscripts):
- Greek letters become words (``\\varepsilon`` → ``epsilon``); bold/hat/bar decorations keep or
  extend the name (``\\bar{y}`` → ``ybar``).
- A subscript made only of the index letters i, j, k, l, m, n, t is an index:
  ``\\theta_j`` → ``theta[j]``, ``y_{ij}`` → ``y[i, j]``. Leading digits before index letters
  belong to the name (``\\beta_{0j}`` → ``beta0[j]``). Any other subscript is part of the name:
  digits are appended (``\\mu_0`` → ``mu0``), words joined with ``_`` (``\\mu_{overall}`` →
  ``mu_overall``).
- A squared variable on a left side (``\\sigma^2 \\sim \\text{Inverse-Gamma}(a, b)``,
  ``\\sigma_j^2 \\sim …``) defines the variable ``sigma2`` (``sigma2[j]``); every ``\\sigma^2``
  in the card then means that variable. Without such a definition ``\\sigma^2`` is a power.
- A statement whose right side uses an index its left side lacks ranges over it as well:
  ``y_i \\mid \\theta_j \\sim N(\\theta_j, 1)`` reads as ``y[i, j]``.

Laws are translated only when known (the table in docs/simulations.md, plus χ² families, Student-t written
``t_\\nu(\\mu, \\sigma^2)`` as in BDA with σ² the squared scale); ``L(.\\mid\\lambda)``,
``\\mathcal{M}(\\lambda)``, ``P(\\theta)`` or a law with a conditioning bar in its arguments
(a density, not a parameterised law) are skipped with the reason recorded, never guessed.

Symbols a card uses but never defines get a default: 1, or a plate size for an index (``J``
for ``j``; the sim language's DEFAULT_PLATE, so both readers agree); free symbols written with
an index are one constant for every index, and a free probability or concentration vector of
Categorical/Multinomial/Dirichlet gets DEFAULT_PLATE equal entries.
``model_from_latex`` records them in ``ModelSpec.defaults`` so the caption can say so.
Statements are ordered so every symbol is defined before use (cards often state the likelihood
before the priors); a variable defined twice is kept twice, in card order, for the comparison.

A model the sim language rejects (an improper prior such as ``IG(0, 0)``) is a warning at the
statement's line, not an error: the card's math may be right, it just cannot be drawn from,
and the export goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from notecards.sim.lang import parse_sim
from notecards.sim.latex.card import claim_lines, read_card, sim_lines
from notecards.sim.latex.display import display_math
from notecards.sim.latex.statement import statement_text
from notecards.sim.model import ModelSpec, Node, PosteriorClaim
from notecards.types import CardBlock, Diagnostic

__all__ = ["LatexStatement", "display_math", "latex_statements", "model_from_latex"]


@dataclass(frozen=True)
class LatexStatement:
    """One statement found in a card's display math.

    `sim` is its sim-language text, or None when it was not translated; `reason` says why a
    statement was skipped or left out of the model (an unknown law, a repeat, a cycle …).
    """

    line: int
    latex: str
    sim: str | None
    reason: str | None = None
    name: str | None = None            # the variable it defines, in sim-language spelling
    law: str | None = None             # canonical law of a `\sim` statement


def latex_statements(fields: dict[str, str], field_lines: dict[str, int]) -> list[LatexStatement]:
    """Every `\\sim` / `=` statement of a card's display math, translated or with the reason not."""
    card = read_card(fields, field_lines)
    return [LatexStatement(s.line, s.latex,
                           statement_text(s, card.free) if s.law or s.expr is not None else None,
                           s.reason, s.name, s.law)
            for s in card.statements]


def model_from_latex(block: CardBlock) -> tuple[ModelSpec | None, list[Diagnostic]]:
    """The model a card states in LaTeX, or None when it states no known-law draw: its display
    math and the inline math of its question (its first field), where a card sets up what it
    asks about (`What is E[X] for $X \\sim Binom(n, p)$?`); inline math in an answer mentions a
    law in passing (`as in $\\theta \\sim N(0, \\lambda)$`) and is not read."""
    question = next(iter(block.fields), None)
    card = read_card(block.fields, block.field_lines, (question,) if question is not None else ())
    if not any(s.relation == "~" for s in card.order):
        return None, []
    lines = sim_lines(card) + claim_lines(card)
    spec, diagnostics = parse_sim("\n".join(t for t, _ in lines), block.path, 1, origin="latex")
    note_line = [line for _, line in lines]
    diagnostics = [_as_card_warning(d, note_line) for d in diagnostics]
    if spec is None:
        return None, diagnostics
    for node in [*spec.nodes.values(), *(n for alt in spec.alternatives for n in alt)]:
        node.line = _note_line(note_line, node.line)
    spec.line = min(s.line for s in card.order)
    spec.defaults = dict(card.defaults)
    _take_claims(spec, card)
    return spec, diagnostics


def _take_claims(spec: ModelSpec, card) -> None:
    """Move the parsed claims (`claim_k_<name>` nodes) out of the model into `spec.claims`."""
    for k, stmt in enumerate(card.claims):
        prefix = f"claim_{k}_"
        name = next((n for n in spec.nodes if n.startswith(prefix)), None)
        if name is None:                    # not parsed: the model gives its data no law
            node = Node(stmt.name or "?", "stochastic", stmt.line, stmt.latex, dist=stmt.law)
        else:
            node = spec.nodes.pop(name)
            node.name, node.source = name[len(prefix):], node.source[len(prefix):]
        spec.claims.append(PosteriorClaim(node, list(stmt.given), stmt.latex))
    spec.source_text = "\n".join(line for line in spec.source_text.split("\n") if not line.startswith("claim_"))


def _as_card_warning(diagnostic: Diagnostic, note_line: list[int]) -> Diagnostic:
    """A sim-language complaint about the translated model, moved to the card's line and made a
    warning: the card's math may be right and the export goes on."""
    severity = "warning" if diagnostic.severity == "error" else diagnostic.severity
    return replace(diagnostic, line=_note_line(note_line, diagnostic.line), severity=severity,
                   message=f"{diagnostic.message}; the card's math is not simulated "
                           "(a ```sim block can state the model)")


def _note_line(note_line: list[int], text_line: int) -> int:
    """The note line of a line of the generated sim text (clamped to the text)."""
    return note_line[min(max(text_line, 1), len(note_line)) - 1]
