"""Expressions of the sim language: a tokenizer, a recursive-descent parser and an evaluator.

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

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from notecards.sim.model import Expr

MAX_DEPTH = 60
MAX_EXPONENT = 1000.0
MAX_ELEMENTS = 20_000_000       # values in one array (draws × elements), float64: ≤ 160 MB

GREEK_LETTERS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
# a letter as typed or pasted -> its word; the variant glyphs read as the plain letter
GREEK = {letter: word for word, letter in GREEK_LETTERS.items()} | {"ϵ": "epsilon", "ϑ": "theta",
                                                                     "ϕ": "phi"}
SUPERSCRIPTS = {"²": "2", "³": "3"}
RELATIONS = ("≈", "~=", "<=", ">=", "==", "!=", "≤", "≥", "<", ">")
_SYMBOLS = ("**", "..", "~=", "<=", ">=", "==", "!=", "≈", "≤", "≥",
            "+", "-", "*", "/", "^", "(", ")", "[", "]", ",", "=", "~", "<", ">", ":", "&", "|")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_]")


class ParseError(ValueError):
    """A statement that does not fit the grammar; the message says what was expected."""

    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.col = col


class EvalError(ValueError):
    """An expression that parsed but cannot be evaluated (shapes, unknown function …)."""


@dataclass(frozen=True)
class Token:
    kind: str          # "num", "name", "op", "end"
    text: str
    col: int           # 0-based column in the statement


def tokenize(text: str) -> list[Token]:
    """Split a statement into tokens, spelling out Greek letters and superscripts."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in SUPERSCRIPTS:
            tokens += [Token("op", "^", i), Token("num", SUPERSCRIPTS[ch], i)]
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number and not (ch == "." and text.startswith("..", i)):
            tokens.append(Token("num", number.group(), i))
            i = number.end()
            continue
        if _NAME_CHAR.match(ch) or ch in GREEK:
            start, parts = i, []
            while i < len(text) and (_NAME_CHAR.match(text[i]) or text[i] in GREEK):
                parts.append(GREEK.get(text[i], text[i]))
                i += 1
            tokens.append(Token("name", "".join(parts), start))
            continue
        symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if symbol is None:
            raise ParseError(f"unexpected character {ch!r}", i)
        tokens.append(Token("op", "^" if symbol == "**" else symbol, i))
        i += len(symbol)
    tokens.append(Token("end", "", len(text)))
    return tokens


def num(value: float) -> Expr:
    return Expr("num", value=float(value))


class Parser:
    """Recursive descent over a token list; `pos` advances as tokens are consumed."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def at(self, *texts: str) -> bool:
        tok = self.peek
        return tok.kind in ("op", "name") and tok.text in texts

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            self.fail(f"expected {what}")
        return self.take()

    def fail(self, message: str) -> None:
        tok = self.peek
        found = "end of line" if tok.kind == "end" else repr(tok.text)
        raise ParseError(f"{message}, found {found}", tok.col)

    def expect_end(self, what: str = "end of statement") -> None:
        if self.peek.kind != "end":
            self.fail(f"expected {what}")

    def expression(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(f"expression nested too deeply (more than {MAX_DEPTH} levels)",
                             self.peek.col)
        try:
            return self._or()
        finally:
            self.depth -= 1

    def _or(self) -> Expr:
        left = self._and()
        while self.at("or", "|"):
            self.take()
            left = Expr("cmp", (left, self._and()), "or")
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self.at("and", "&"):
            self.take()
            left = Expr("cmp", (left, self._not()), "and")
        return left

    def _not(self) -> Expr:
        if self.at("not"):
            self.take()
            return Expr("call", (self._not(),), "not")
        return self._compare()

    def _compare(self) -> Expr:
        left = self._sum()
        if self.at("<", ">", "<=", ">=", "==", "!=", "≤", "≥"):
            op = {"≤": "<=", "≥": ">="}.get(self.peek.text, self.peek.text)
            self.take()
            return Expr("cmp", (left, self._sum()), op)
        return left

    def _sum(self) -> Expr:
        left = self._term()
        while self.at("+", "-"):
            op = self.take().text
            left = Expr(op, (left, self._term()))
        return left

    def _term(self) -> Expr:
        left = self._unary()
        while self.at("*", "/"):
            op = self.take().text
            left = Expr(op, (left, self._unary()))
        return left

    def _unary(self) -> Expr:
        if self.at("-", "+"):
            op = self.take().text
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ParseError(f"expression nested too deeply (more than {MAX_DEPTH} levels)",
                                 self.peek.col)
            try:
                inner = self._unary()
            finally:
                self.depth -= 1
            return Expr("neg", (inner,)) if op == "-" else inner
        return self._power()

    def _power(self) -> Expr:
        base = self._postfix()
        if self.at("^"):
            col = self.take().col
            exponent = self._unary()
            literal = _literal_value(exponent)
            if literal is not None and abs(literal) > MAX_EXPONENT:
                raise ParseError(f"exponent {literal:g} is too large (at most {MAX_EXPONENT:g})",
                                 col)
            return Expr("^", (base, exponent))
        return base

    def _postfix(self) -> Expr:
        node = self._atom()
        while self.at("["):
            self.take()
            indices = [self.expression()]
            while self.at(","):
                self.take()
                indices.append(self.expression())
            self.expect("]", "']' closing the index")
            node = Expr("index", (node, *indices))
        return node

    def _atom(self) -> Expr:
        tok = self.peek
        if tok.kind == "num":
            self.take()
            return num(float(tok.text))
        if tok.kind == "name" and tok.text not in ("and", "or", "not"):
            self.take()
            if self.at("("):
                self.take()
                args = self.call_arguments()
                if any(keyword for keyword, _ in args):
                    raise ParseError(f"{tok.text}() takes no keyword arguments", tok.col)
                return Expr("call", tuple(arg for _, arg in args), tok.text)
            return Expr("name", value=tok.text)
        if self.at("("):
            self.take()
            inner = self.expression()
            self.expect(")", "')'")
            return inner
        if self.at("["):
            self.take()
            items = [self.expression()]
            while self.at(","):
                self.take()
                items.append(self.expression())
            self.expect("]", "']' closing the vector")
            return Expr("vec", tuple(items))
        self.fail("expected a number, a name, '(' or '['")
        raise AssertionError("unreachable")

    def call_arguments(self) -> list[tuple[str | None, Expr]]:
        """Arguments after an opening '(' up to and including ')'; `name=expr` is a keyword."""
        args: list[tuple[str | None, Expr]] = []
        if self.at(")"):
            self.take()
            return args
        while True:
            keyword = None
            if self.peek.kind == "name" and self.tokens[self.pos + 1].text == "=":
                keyword = self.take().text
                self.take()
            args.append((keyword, self.expression()))
            if self.at(","):
                self.take()
                continue
            self.expect(")", "',' or ')' in the argument list")
            return args


def _literal_value(expr: Expr) -> float | None:
    if expr.op == "num":
        return float(expr.value)  # type: ignore[arg-type]
    if expr.op == "neg" and expr.args[0].op == "num":
        return -float(expr.args[0].value)  # type: ignore[arg-type]
    return None


def parse_expr(text: str) -> Expr:
    """Parse a whole string as one expression."""
    parser = Parser(tokenize(text))
    expr = parser.expression()
    parser.expect_end("an operator or end of expression")
    return expr


def names_in(expr: Expr) -> list[str]:
    """Variable names an expression reads, in first-use order (function names excluded)."""
    found: list[str] = []

    def walk(e: Expr) -> None:
        if e.op == "name" and e.value not in found:
            found.append(str(e.value))
        for arg in e.args:
            walk(arg)

    walk(expr)
    return found


_PRECEDENCE = {"or": 1, "and": 2, "cmp": 3, "+": 4, "-": 4, "*": 5, "/": 5, "neg": 6, "^": 7}


def _level(expr: Expr) -> int:
    if expr.op == "cmp" and expr.value in ("and", "or"):
        return _PRECEDENCE[str(expr.value)]
    return _PRECEDENCE.get(expr.op, 9)


def format_expr(expr: Expr) -> str:
    """Canonical text of an expression, with only the parentheses precedence needs."""
    op = expr.op
    if op == "num":
        value = float(expr.value)  # type: ignore[arg-type]
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


# ---------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class Val:
    """An evaluated expression: draws on axis 0 (n or 1), named axes after it."""

    array: np.ndarray
    axes: tuple[str, ...] = ()

    @staticmethod
    def constant(value: float | np.ndarray) -> "Val":
        """A constant or data array; each of its axes is an anonymous vector axis."""
        arr = np.asarray(value, dtype=float)
        return Val(arr[None, ...], tuple(f"#{k + 1}" for k in range(arr.ndim)))

    def sizes(self) -> dict[str, int]:
        return dict(zip(self.axes, self.array.shape[1:]))


def align(vals: list[Val]) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Arrays of `vals` laid out on the union of their axes, ready for numpy broadcasting."""
    axes: list[str] = []
    sizes: dict[str, int] = {}
    for v in vals:
        for name, size in zip(v.axes, v.array.shape[1:]):
            if name not in sizes:
                axes.append(name)
                sizes[name] = size
            elif size != sizes[name] and 1 not in (size, sizes[name]):
                raise EvalError(_mismatch(name, sizes[name], size))
            else:
                sizes[name] = max(size, sizes[name])
    draws = max(v.array.shape[0] for v in vals)
    if draws * math.prod(sizes.values()) > MAX_ELEMENTS:
        raise EvalError(f"too many values ({draws:,} draws × {math.prod(sizes.values()):,} "
                        f"elements exceeds {MAX_ELEMENTS:,}); lower n or the plate sizes")
    return [expand(v, tuple(axes)) for v in vals], tuple(axes)


def _mismatch(axis: str, a: int, b: int) -> str:
    if axis.startswith("#"):
        return f"vectors of lengths {a} and {b} do not match"
    return f"plate {axis} has {a} elements in one place and {b} in another"


def expand(v: Val, axes: tuple[str, ...]) -> np.ndarray:
    """`v`'s array with axes reordered to `axes` and size-1 axes for those it lacks."""
    if v.axes == axes:
        return v.array
    order = sorted(range(len(v.axes)), key=lambda k: axes.index(v.axes[k]))
    arr = v.array.transpose([0] + [k + 1 for k in order])
    own = v.sizes()
    shape = [arr.shape[0]] + [own.get(a, 1) for a in axes]
    return arr.reshape(shape)


def _reduce(name: str, fn: Callable[..., np.ndarray], v: Val) -> Val:
    """Reduce over every named axis: one value per draw."""
    if not v.axes:
        if name in ("var", "sd"):
            raise EvalError(f"{name}() of a single value per draw: a variance over the draws "
                            "belongs in a check: line")
        return v
    flat = v.array.reshape(v.array.shape[0], -1)
    return Val(fn(flat, axis=1))


def _sample_var(flat: np.ndarray, axis: int) -> np.ndarray:
    return np.var(flat, axis=axis, ddof=1)


def _sample_sd(flat: np.ndarray, axis: int) -> np.ndarray:
    return np.std(flat, axis=axis, ddof=1)


def _special(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """A scipy.special function, imported when a model first calls it: parsing a model must not
    pay scipy's import time."""
    def call(a: np.ndarray) -> np.ndarray:
        from scipy import special
        return getattr(special, name)(a)
    return call


ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "log1p": np.log1p,
    "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
    "floor": np.floor, "ceil": np.ceil, "round": np.round, "log10": np.log10, "log2": np.log2,
    "logit": _special("logit"), "invlogit": _special("expit"), "expit": _special("expit"),
    "logistic": _special("expit"), "Phi": _special("ndtr"),
    "not": lambda a: (a == 0).astype(float),
}
REDUCTIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "min": np.min, "max": np.max,
    "var": _sample_var, "sd": _sample_sd,
}
FUNCTIONS = sorted(set(ELEMENTWISE) | set(REDUCTIONS) | {"pow", "len"})
BUILTIN_CONSTANTS = {"pi": math.pi}

_ARITH: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power,
    "<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
    "and": lambda a, b: (a != 0) & (b != 0), "or": lambda a, b: (a != 0) | (b != 0),
}


class Evaluator:
    """Evaluates `Expr`s over named values; `indices` binds index letters to plate symbols."""

    def __init__(self, values: dict[str, Val], indices: dict[str, str] | None = None,
                 sizes: dict[str, int] | None = None):
        self.values = values
        self.indices = indices or {}
        self.sizes = sizes or {}

    def eval(self, expr: Expr) -> Val:
        op = expr.op
        if op == "num":
            return Val(np.array([float(expr.value)]))  # type: ignore[arg-type]
        if op == "name":
            return self._name(str(expr.value))
        if op == "neg":
            inner = self.eval(expr.args[0])
            return Val(-inner.array, inner.axes)
        if op == "vec":
            return self._vector(expr)
        if op == "index":
            return self._index(expr)
        if op == "call":
            return self._call(expr)
        fn = _ARITH[str(expr.value) if op == "cmp" else op]
        (a, b), axes = align([self.eval(expr.args[0]), self.eval(expr.args[1])])
        return Val(np.asarray(fn(a, b), dtype=float), axes)

    def _name(self, name: str) -> Val:
        if name in self.values:
            return self.values[name]
        if name in self.indices:
            plate = self.indices[name]
            size = self.sizes[plate]
            return Val(np.arange(1, size + 1, dtype=float)[None, :], (plate,))
        if name in BUILTIN_CONSTANTS:
            return Val(np.array([BUILTIN_CONSTANTS[name]]))
        raise EvalError(f"unknown name '{name}'")

    def _vector(self, expr: Expr) -> Val:
        items = [self.eval(item) for item in expr.args]
        shifted = [Val(v.array, tuple(_shift_anonymous(a) for a in v.axes)) for v in items]
        arrays, axes = align(shifted)
        draws = max(a.shape[0] for a in arrays)
        shape = np.broadcast_shapes(*(a.shape[1:] for a in arrays))
        stacked = np.stack([np.broadcast_to(a, (draws, *shape)) for a in arrays], axis=1)
        return Val(stacked, ("#1", *axes))

    def _index(self, expr: Expr) -> Val:
        base = self.eval(expr.args[0])
        positions = list(expr.args[1:])
        if len(positions) > len(base.axes):
            raise EvalError(f"{format_expr(expr.args[0])} has {len(base.axes)} "
                            f"dimension(s) but {len(positions)} indices were given")
        targets = base.axes[:len(positions)]
        result = base
        for axis, position in zip(targets, positions):
            result = self._index_axis(result, axis, position)
        return result

    def _index_axis(self, base: Val, axis: str, position: Expr) -> Val:
        size = base.sizes()[axis]
        if position.op == "name" and position.value in self.indices:
            plate = self.indices[str(position.value)]
            if self.sizes[plate] != size:
                raise EvalError(f"index {position.value} runs over 1..{plate} = "
                                f"{self.sizes[plate]} but the vector has {size} elements")
            if plate != axis and plate in base.axes:
                raise EvalError(f"index {position.value} is used twice on one variable")
            return Val(base.array, tuple(plate if a == axis else a for a in base.axes))
        where = self.eval(position)
        k = base.axes.index(axis)
        moved = Val(np.moveaxis(base.array, k + 1, -1),
                    tuple(a for a in base.axes if a != axis) + (axis,))
        idx = where.array
        if np.any(idx != np.round(idx)) or np.any(idx < 1) or np.any(idx > size):
            raise EvalError(f"index {format_expr(position)} must be a whole number "
                            f"from 1 to {size}")
        rest = Val(moved.array[..., 0], moved.axes[:-1])
        (_, idx_arr), axes = align([rest, where])
        values = expand(Val(moved.array, moved.axes), axes + (axis,))
        draws = max(values.shape[0], idx_arr.shape[0])
        shape = np.broadcast_shapes(values.shape[1:-1], idx_arr.shape[1:])
        values = np.broadcast_to(values, (draws, *shape, size))
        picks = np.broadcast_to(idx_arr.astype(np.intp) - 1, (draws, *shape))[..., None]
        return Val(np.take_along_axis(values, picks, axis=-1)[..., 0], axes)

    def _call(self, expr: Expr) -> Val:
        name = str(expr.value)
        args = [self.eval(a) for a in expr.args]
        if name in ELEMENTWISE and len(args) == 1:
            return Val(np.asarray(ELEMENTWISE[name](args[0].array), dtype=float), args[0].axes)
        if name in ("min", "max") and len(args) == 2:
            (a, b), axes = align(args)
            return Val((np.minimum if name == "min" else np.maximum)(a, b), axes)
        if name == "pow" and len(args) == 2:
            (a, b), axes = align(args)
            return Val(np.power(a, b), axes)
        if name in REDUCTIONS and len(args) == 1:
            return _reduce(name, REDUCTIONS[name], args[0])
        if name == "len" and len(args) == 1:
            return Val(np.array([float(np.prod(args[0].array.shape[1:]))]))
        if name in ELEMENTWISE or name in REDUCTIONS or name in ("pow", "len"):
            raise EvalError(f"{name}() does not take {len(args)} argument(s)")
        raise EvalError(f"unknown function '{name}' (known: {', '.join(FUNCTIONS)})")


def _shift_anonymous(axis: str) -> str:
    return f"#{int(axis[1:]) + 1}" if axis.startswith("#") else axis
