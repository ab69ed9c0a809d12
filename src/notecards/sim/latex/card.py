"""Assemble a card's statements into one model the sim language can run.

A card is not written in the order a program needs: it states the likelihood before the priors,
repeats a statement in its explanation, and leaves hyperparameters and plate sizes to the
reader. This stage reads every statement of every field, keeps the first of identical repeats,
orders the rest so each symbol is defined before use, and gives every symbol left undefined a
default (recorded, so the caption can say so), then writes the model as sim-language lines
that each remember their note line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notecards.sim import distributions
from notecards.sim.lang import DEFAULT_PLATE, DEFAULT_VALUE
from notecards.sim.latex.expr import Sym
from notecards.sim.latex.laws import VECTOR_ARGUMENT
from notecards.sim.latex.pieces import pieces
from notecards.sim.latex.statement import Stmt, read_statement, squared_name, statement_text


@dataclass
class Card:
    """The statements of one card (in card order) and the model they make."""

    statements: list[Stmt]
    order: list[Stmt] = field(default_factory=list)
    defaults: dict[str, float] = field(default_factory=dict)
    default_line: dict[str, int] = field(default_factory=dict)
    free: set[str] = field(default_factory=set)
    vectors: dict[str, str] = field(default_factory=dict)   # free vector arguments' defaults
    claims: list[Stmt] = field(default_factory=list)       # posteriors the card states


def read_card(fields: dict[str, str], field_lines: dict[str, int], inline_fields: tuple[str, ...] = ()) -> Card:
    """Every statement of a card's display math, and of the inline math of `inline_fields`
    (the question), with the model's order and defaults worked out."""
    found = [p for name, text in fields.items() for p in pieces(text, field_lines.get(name, 1))]
    found += [p for name in inline_fields if name in fields
              for p in pieces(fields[name], field_lines.get(name, 1), inline=True)]
    found.sort(key=lambda p: p.line)
    variances = {name for p in found if (name := squared_name(p))}
    card = Card([read_statement(p, variances) for p in found])
    _split_claims(card)
    _drop_repeats(card)
    _order(card)
    _find_defaults(card)
    return card


def sim_lines(card: Card) -> list[tuple[str, int]]:
    """(sim text, note line) of the whole model: plate sizes, defaults, then the statements."""
    lines = [(f"{name} = {card.vectors.get(name) or _format_value(value)}",
              card.default_line[name]) for name, value in card.defaults.items()]
    lines += [(statement_text(s, card.free), s.line) for s in card.order]
    return lines


def claim_lines(card: Card) -> list[tuple[str, int]]:
    """(sim text, note line) of each posterior claim, its variable renamed `claim_k_<name>` so
    it parses beside the model without redefining it."""
    checkable = checkable_claims(card)
    return [(f"claim_{k}_{statement_text(stmt, card.free)}", stmt.line)
            for k, stmt in enumerate(card.claims) if stmt in checkable]


def checkable_claims(card: Card) -> list[Stmt]:
    """The claims whose conditioning variables the model draws: the others state a posterior
    the card's model cannot imply (it gives x no law), and are reported unchecked."""
    drawn = {s.name for s in card.statements if s.translated}
    return [s for s in card.claims if set(s.given) <= drawn]


POSTERIOR_CLAIM = "a posterior claim: checked against the model, not drawn"


def _split_claims(card: Card) -> None:
    """A `\\sim` statement that states a posterior leaves the model for `claims`: one conditioned
    on something other than what the variable's own law (its prior, stated too) is written in,
    or on a descendant of its variable (`\\theta \\mid x \\sim …` where x is drawn from θ).
    The first kind is found first, so that a likelihood written as a conditional
    (`x \\mid \\theta \\sim \\mathcal{N}(\\theta, \\sigma^2)`) is not taken for a posterior because the
    posterior's formula reads x; the second is looked for from the card's end, where a
    posterior usually follows the model it is derived from, among the statements left."""
    stated = [s for s in card.statements if s.translated]
    conditionals = [s for s in stated if s.relation == "~" and s.given]
    for stmt in conditionals:
        priors = [s for s in stated if s is not stmt and s.name == stmt.name and s.relation == "~"
                  and not set(stmt.given) <= set(s.given)]
        read_by_prior = {sym.name for s in priors for sym in s.rhs_symbols()}
        if priors and set(stmt.given) - read_by_prior:
            _make_claim(card, stmt)
    for stmt in reversed(conditionals):
        if stmt.translated and set(stmt.given) & _descendants(stmt.name, [s for s in stated if s.translated], stmt):
            _make_claim(card, stmt)
    card.claims.sort(key=lambda s: s.line)


def _make_claim(card: Card, stmt: Stmt) -> None:
    stmt.translated, stmt.reason = False, POSTERIOR_CLAIM
    card.claims.append(stmt)


def _descendants(name: str, stated: list[Stmt], claim: Stmt) -> set[str]:
    """Every variable drawn (or computed) from `name`, through the card's other statements."""
    found: set[str] = set()
    frontier = {name}
    while frontier:
        children = {s.name for s in stated if s is not claim and s.name and s.name not in found
                    and frontier & {sym.name for sym in s.rhs_symbols()}}
        found |= children
        frontier = children
    return found


def _drop_repeats(card: Card) -> None:
    """A statement written again word for word (in the sim language) is left out, once."""
    seen: dict[str, int] = {}
    for stmt in card.statements:
        if not stmt.translated:
            continue
        text = statement_text(stmt, set())
        if text in seen:
            stmt.translated, stmt.reason = False, f"same as line {seen[text]}"
        else:
            seen[text] = stmt.line


def _order(card: Card) -> None:
    """Order statements so every symbol is defined before it is used, else keep card order."""
    needs = _dependencies(card)
    placed: set[int] = set()
    pending = [s for s in card.statements if s.translated]
    while pending:
        ready = next((s for s in pending if needs[id(s)] <= placed), None)
        if ready is None:
            for stmt in pending:
                stmt.translated, stmt.reason = False, "circular definitions"
            break
        card.order.append(ready)
        placed.add(id(ready))
        pending.remove(ready)


def _dependencies(card: Card) -> dict[int, set[int]]:
    """For each translated statement (by id), the statements that must come before it: the
    first definition of every symbol it uses, and of its own variable when it redefines it.
    A statement defined in terms of itself is left out here."""
    stmts = [s for s in card.statements if s.translated]
    first: dict[str, Stmt] = {}
    for stmt in stmts:
        first.setdefault(stmt.name, stmt)
    needs: dict[int, set[int]] = {}
    for stmt in stmts:
        used = {s.name for s in stmt.rhs_symbols()}
        if stmt.name in used:
            stmt.translated, stmt.reason = False, f"{stmt.name} is defined in terms of itself"
            continue
        deps = {id(first[u]) for u in used if u in first}
        if first[stmt.name] is not stmt:
            deps.add(id(first[stmt.name]))
        needs[id(stmt)] = deps
    return needs


def _find_defaults(card: Card) -> None:
    """Symbols no statement defines: a plate size for every index (J for j), 1 for the rest."""
    defined = {s.name for s in card.order}
    sizes: dict[str, float] = {}
    for stmt in card.order:
        for index in stmt.indices:
            size = index.upper()
            if size not in defined and size not in sizes:
                sizes[size] = float(DEFAULT_PLATE)
                card.default_line[size] = stmt.line
        for sym in stmt.rhs_symbols():
            if sym.name in defined or sym.name in card.free or sym.name == "pi":
                continue
            card.free.add(sym.name)
            card.defaults[sym.name] = _default_for(card, sym.name)
            card.default_line[sym.name] = stmt.line
    for stmt in checkable_claims(card):   # a claim's own symbols (n, x̄ …) get defaults too
        for sym in stmt.rhs_symbols():
            if sym.name not in defined and sym.name not in card.free and sym.name != "pi" \
                    and sym.name not in stmt.given:
                card.free.add(sym.name)
                card.defaults[sym.name] = DEFAULT_VALUE
                card.default_line[sym.name] = stmt.line
    card.defaults = {**sizes, **card.defaults}
    _vector_defaults(card)


def _default_for(card: Card, name: str) -> float:
    """A free symbol's default by the role it first plays as a law's whole argument
    (`Unif(a, b)`: a = 0, b = 1; `Binom(n, p)`: n = 10, p = 0.3), else DEFAULT_VALUE."""
    for stmt in card.order:
        if stmt.relation != "~" or stmt.law not in distributions.REGISTRY:
            continue
        params = distributions.REGISTRY[stmt.law].params
        for param, arg in zip(params, stmt.args):
            if isinstance(arg, Sym) and arg.name == name:
                return distributions.typical_value(stmt.law, param)
    return DEFAULT_VALUE


def _vector_defaults(card: Card) -> None:
    """A free concentration or probability vector gets DEFAULT_PLATE equal entries, since a
    scalar cannot be drawn from; `defaults` records the entry."""
    for stmt in card.order:
        position = VECTOR_ARGUMENT.get(stmt.law or "")
        arg = stmt.args[position] if position is not None else None
        if not isinstance(arg, Sym) or arg.name not in card.free or arg.name in card.vectors:
            continue
        entry = "1" if stmt.law == "Dirichlet" else f"1/{DEFAULT_PLATE}"
        card.vectors[arg.name] = "[" + ", ".join([entry] * DEFAULT_PLATE) + "]"
        card.defaults[arg.name] = 1.0 if stmt.law == "Dirichlet" else 1.0 / DEFAULT_PLATE


def _format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
