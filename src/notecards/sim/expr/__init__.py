"""Expressions of the sim language: a tokenizer (`tokens`), a recursive-descent parser (`parser`), a
formatter (`format`) and an evaluator (`evaluate`), one module per job; their public names are
imported here.

Nothing a note says ever reaches `eval`/`exec`: text becomes `Expr` trees through the small
grammar below, and trees are evaluated by walking them over numpy arrays.

    expr    := or
    or      := and ("or" and)*              ("|" also)
    and     := not ("and" not)*             ("&" also)
    not     := "not" not | compare
    compare := sum (("<"|">"|"<="|">="|"=="|"!=") sum)?
    sum     := term (("+"|"-") term)*
    term    := unary (("*"|"/") unary)*
    unary   := ("-"|"+") unary | power
    power   := postfix ("^" unary)?         ("**" also; right-associative, -x^2 = -(x^2))
    postfix := atom ("[" expr ("," expr)* "]")*
    atom    := number | name | name "(" args ")" | "(" expr ")" | "[" expr ("," expr)* "]"

Greek letters are spelled out (θ -> theta) and superscripts ² ³ read as ^2 ^3, so a statement
copied from rendered math still parses. Bounds keep a hostile or mistaken note cheap: nesting
depth (`MAX_DEPTH`) and literal exponents (`MAX_EXPONENT`) are limited with a clear message.

Values are `Val`s: a numpy array whose first axis is the draws (length n, or 1 for constants)
and whose other axes are *named*: a plate's size symbol ("J") or an anonymous vector axis
("#1", "#2" for the axes of a literal or data vector). Operations align axes by name, so
`theta[j] + s[j]` inside a statement over plate J lines up element by element, and
`mu[j]` inside `y[i, j]` broadcasts over i. Indexing by a bound index letter renames an axis
to that plate; indexing by a whole number (1-based) or by an integer-valued variable picks
elements (`mu[z]` for a mixture).
"""

from notecards.sim.expr.tokens import GREEK, GREEK_LETTERS, RELATIONS, ParseError, Token, tokenize
from notecards.sim.expr.parser import MAX_DEPTH, MAX_EXPONENT, Parser, names_in, num, parse_expr
from notecards.sim.expr.format import format_expr
from notecards.sim.expr.evaluate import (BUILTIN_CONSTANTS, FUNCTIONS, MAX_ELEMENTS, EvalError, Evaluator, Val, align,
                                         expand)

__all__ = ["BUILTIN_CONSTANTS", "FUNCTIONS", "GREEK", "GREEK_LETTERS", "MAX_DEPTH", "MAX_ELEMENTS", "MAX_EXPONENT",
           "RELATIONS", "EvalError", "Evaluator", "ParseError", "Parser", "Token", "Val", "align", "expand",
           "format_expr", "names_in", "num", "parse_expr", "tokenize"]
