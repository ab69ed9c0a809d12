"""The expression formatter: an `Expr` back to canonical text, with only the parentheses that
precedence needs (what reports, captions and the cache's canonical model text show)."""

from __future__ import annotations

from notecards.sim.model import Expr

_PRECEDENCE = {"or": 1, "and": 2, "cmp": 3, "+": 4, "-": 4, "*": 5, "/": 5, "neg": 6, "^": 7}


def _level(expr: Expr) -> int:
    if expr.op == "cmp" and expr.value in ("and", "or"):
        return _PRECEDENCE[str(expr.value)]
    return _PRECEDENCE.get(expr.op, 9)


def format_expr(expr: Expr) -> str:
    """Canonical text of an expression, with only the parentheses precedence needs."""
    op = expr.op
    if op == "num":
        value = expr.number
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if op == "name":
        return str(expr.value)
    if op == "vec":
        return "[" + ", ".join(format_expr(a) for a in expr.args) + "]"
    if op == "index":
        return _wrap(expr.args[0], 9) + "[" + ", ".join(format_expr(a) for a in expr.args[1:]) + "]"
    if op == "call":
        return f"{expr.value}(" + ", ".join(format_expr(a) for a in expr.args) + ")"
    if op == "neg":
        return "-" + _wrap(expr.args[0], _PRECEDENCE["neg"])
    level = _level(expr)
    left, right = expr.args
    if op == "cmp":
        return f"{_wrap(left, level + (level == 3))} {expr.value} {_wrap(right, level + 1)}"
    if op == "^":
        return f"{_wrap(left, level + 1)}^{_wrap(right, level)}"
    right_level = level + 1 if op in ("-", "/") else level
    return f"{_wrap(left, level)} {op} {_wrap(right, right_level)}"


def _wrap(expr: Expr, level: int) -> str:
    text = format_expr(expr)
    return f"({text})" if _level(expr) < level else text
