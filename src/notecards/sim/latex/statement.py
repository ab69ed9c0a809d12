"""Read one candidate statement: which variable it defines, and by which law or formula.

A statement is ``lhs \\sim Law(args)`` or ``lhs = expr``; the left side must be one variable
(a conditioning bar after it names parents and is dropped), and the statement ranges over
every index its right side uses. Whatever cannot be read keeps its reason, so the user is told
why a line of their math is not simulated. ``j = 1, \\ldots, J`` is an index's range, read as a
plate size when it ends in a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from notecards.sim.latex.expr import (
    INDEX_LETTERS, Num, Skip, Sym, Term, expr_text, indexed, is_square, parse_expr, symbols,
)
from notecards.sim.latex.laws import law_args, law_name
from notecards.sim.latex.pieces import RELATIONS, Piece
from notecards.sim.latex.tokens import Tok, depth_step, split_commas, tokens, top_level

# Every relation a formula might use; a statement holding more than one is not read.
_ANY_RELATION = {"\\propto", "\\approx", "\\neq", "\\ne", "\\leq", "\\le", "\\geq", "\\ge",
                 "<", ">", "\\in", "\\to", "\\rightarrow", "\\Rightarrow", "\\iff",
                 "\\implies", "\\mapsto", "\\simeq", "\\cong", "\\sim", "=", "≈", "∝"}
_BARS = {"|", "\\mid", "\\vert"}
_ELLIPSES = {"\\ldots", "\\dots", "\\cdots"}


@dataclass
class Stmt:
    """A statement as read; `translated` says whether it belongs in the model, else `reason`
    says why not."""

    line: int
    latex: str
    name: str | None = None
    indices: tuple[str, ...] = ()
    relation: str = ""
    law: str | None = None
    args: tuple[Term, ...] = ()
    expr: Term | None = None
    reason: str | None = None
    translated: bool = False
    given: tuple[str, ...] = ()        # the variables after a conditioning bar on the left

    def rhs_nodes(self) -> tuple[Term, ...]:
        return self.args if self.relation == "~" else (self.expr,)

    def rhs_symbols(self) -> list[Sym]:
        """Every symbol the right side uses, in writing order."""
        return [sym for node in self.rhs_nodes() for sym in symbols(node)]


def read_statement(piece: Piece, variances: set[str]) -> Stmt:
    """The statement a piece states, or one carrying the reason it was not read."""
    stmt = Stmt(piece.line, piece.latex)
    toks = piece.toks
    rels = top_level(toks, _ANY_RELATION)
    try:
        if len(rels) != 1:
            raise Skip("more than one relation in one statement")
        stmt.relation = "~" if toks[rels[0]].text == "\\sim" else "="
        lhs_toks, rhs_toks = _lhs_tokens(toks[:rels[0]]), toks[rels[0] + 1:]
        if not rhs_toks:
            raise Skip("nothing on the right side")
        if _is_range(lhs_toks, rhs_toks, stmt):
            return stmt
        stmt.given = _given(toks[:rels[0]], variances)
        lhs = parse_expr(lhs_toks, variances)
        if not isinstance(lhs, Sym):
            raise Skip("the left side is not a variable")
        stmt.name, stmt.indices = lhs.name, lhs.indices
        if stmt.relation == "~":
            _read_law(rhs_toks, piece, variances, stmt)
        else:
            stmt.expr = parse_expr(rhs_toks, variances)
        _add_rhs_indices(stmt)
        stmt.translated = True
    except Skip as why:
        stmt.reason = str(why)
    return stmt


def squared_name(piece: Piece) -> str | None:
    """The variable of a left side written as a square (`\\sigma^2 \\sim …`), if any."""
    rels = top_level(piece.toks, RELATIONS)
    if not rels:
        return None
    try:
        lhs = parse_expr(_lhs_tokens(piece.toks[:rels[0]]), set())
    except Skip:
        return None
    return lhs.a.name if is_square(lhs) and isinstance(lhs.a, Sym) else None


def statement_text(stmt: Stmt, free: set[str]) -> str:
    """The statement in the sim language; `free` symbols are written without indices."""
    lhs = indexed(stmt.name, stmt.indices)
    if stmt.relation == "~":
        args = ", ".join(expr_text(a, free) for a in stmt.args)
        return f"{lhs} ~ {stmt.law}({args})"
    return f"{lhs} = {expr_text(stmt.expr, free)}"


def _lhs_tokens(toks: list[Tok]) -> list[Tok]:
    """The variable of a left side, its conditioning bar and parents dropped."""
    if not toks:
        raise Skip("nothing on the left side")
    if toks[0].text == "(" and top_level(toks[1:-1], {","}):
        raise Skip("the left side is a tuple, not one variable")
    if any(t.text in ("(", "[") for t in toks[1:]):
        raise Skip("the left side is a function or a product, not a variable")
    bars = top_level(toks, _BARS)
    return toks[:bars[0]] if bars else toks


def _given(toks: list[Tok], variances: set[str]) -> tuple[str, ...]:
    """The variables a left side conditions on (`\\theta \\mid x, \\sigma^2` → x, sigma2)."""
    bars = top_level(toks, _BARS)
    if not bars:
        return ()
    rest, names, start = toks[bars[0] + 1:], [], 0
    for cut in [*top_level(rest, {","}), len(rest)]:
        try:
            term = parse_expr(rest[start:cut], variances)
        except Skip:
            term = None
        if isinstance(term, Sym):
            names.append(term.name)
        elif term is not None and is_square(term) and isinstance(term.a, Sym):
            names.append(f"{term.a.name}2" if term.a.name in variances else term.a.name)
        start = cut + 1
    return tuple(names)


def _is_range(lhs: list[Tok], rhs: list[Tok], stmt: Stmt) -> bool:
    """`j = 1, \\ldots, J`: the range of an index, which gives a plate size when it is a number."""
    if stmt.relation != "=" or len(lhs) != 1 or lhs[0].value not in INDEX_LETTERS:
        return False
    if not top_level(rhs, {",", *_ELLIPSES}):
        return False
    last = split_commas(rhs)[-1]
    if len(last) == 1 and last[0].kind == "num" and last[0].text.isdigit():
        stmt.name, stmt.expr, stmt.translated = lhs[0].value.upper(), Num(last[0].text), True
    else:
        stmt.reason = f"range of the index {lhs[0].value}"
    return True


def _read_law(rhs: list[Tok], piece: Piece, variances: set[str], stmt: Stmt) -> None:
    """Fill in the law and its arguments of a `\\sim` statement's right side."""
    opens = [k for k, t in enumerate(rhs) if t.text in ("(", "[")]
    head_end = opens[0] if opens else len(rhs)
    head = piece.clean[rhs[0].start:rhs[head_end - 1].end] if head_end else ""
    law, sub = law_name(head)
    if law is None:
        raise Skip(f"unknown law '{head.strip()}' (not guessed)")
    args: tuple[Term, ...] = ()
    if opens:
        close = _matching(rhs, head_end)
        if close != len(rhs) - 1:
            raise Skip("the right side is more than one law")
        inner = rhs[head_end + 1:close]
        if top_level(inner, _BARS):
            raise Skip(f"{law} written with a conditioning bar: a density, not a law's parameters")
        if inner:
            args = tuple(parse_expr(a, variances) for a in split_commas(inner))
    sub_node = parse_expr(tokens(sub), variances) if sub else None
    stmt.law, stmt.args = law_args(law, args, sub_node)


def _matching(toks: list[Tok], open_at: int) -> int:
    """The position of the bracket closing the one at `open_at`."""
    depth = 0
    for k in range(open_at, len(toks)):
        depth = depth_step(toks[k], depth)
        if depth == 0:
            return k
    raise Skip("unbalanced brackets")


def _add_rhs_indices(stmt: Stmt) -> None:
    """A statement ranges over every index its right side uses (`y_i | θ_j` → `y[i, j]`)."""
    indices = list(stmt.indices)
    for sym in stmt.rhs_symbols():
        indices += [i for i in sym.indices if i not in indices]
    stmt.indices = tuple(indices)
