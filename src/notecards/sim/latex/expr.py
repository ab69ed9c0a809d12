"""Read one LaTeX formula into a small expression tree, and write that tree as sim-language text.

The tree is the meeting point of the two spellings: the parser takes in what cards write
(implicit products, ``\\frac12``, ``e^{x}``, subscripts that are indices or part of a name, by
the rule in `notecards.sim.latex`), and the writer gives the sim language only the parentheses its
precedence needs, so a translated statement reads like one a user would type. Anything this
reader does not understand raises `Skip` with the reason the user sees, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from notecards.sim.expr import GREEK_LETTERS
from notecards.sim.latex.tokens import GREEK_VARIANTS, Tok, depth_step

INDEX_LETTERS = frozenset("ijklmnt")

_GREEK = frozenset(GREEK_LETTERS)
_DECORATIONS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar",
                "tilde": "tilde", "widetilde": "tilde", "dot": "dot"}
_FUNCTIONS = {"exp": "exp", "log": "log", "ln": "log"}
_FRACTIONS = ("frac", "dfrac", "tfrac")
_MULTIPLY = {"*", "\\cdot", "\\times", "\\ast", "·", "×"}
_DIVIDE = {"/", "\\div"}
_MINUS = ("-", "−")
_CLOSER = {"(": ")", "{": "}", "[": "]"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


class Skip(Exception):
    """A statement this reader will not translate; the message is the reason the user sees."""


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Sym:
    name: str
    indices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Term, ...]


@dataclass(frozen=True)
class Bin:
    op: str
    a: Term
    b: Term


@dataclass(frozen=True)
class Neg:
    a: Term


Term = Num | Sym | Call | Bin | Neg


def parse_expr(toks: list[Tok], variances: set[str]) -> Term:
    """The whole of `toks` as one expression; `variances` are the names whose square is a
    variable of its own (`\\sigma^2` → `sigma2`)."""
    return _Parser(toks, variances).whole()


def symbols(node: Term) -> list[Sym]:
    """Every symbol of an expression, in writing order, repeats kept."""
    if isinstance(node, Sym):
        return [node]
    if isinstance(node, Bin):
        return symbols(node.a) + symbols(node.b)
    if isinstance(node, Neg):
        return symbols(node.a)
    if isinstance(node, Call):
        return [s for a in node.args for s in symbols(a)]
    return []


def is_square(node: Term) -> bool:
    """Whether the expression is written as something squared."""
    return isinstance(node, Bin) and node.op == "^" and node.b == Num("2")


class _Parser:
    """Recursive descent over LaTeX math tokens into a small expression tree."""

    def __init__(self, toks: list[Tok], variances: set[str]):
        self.toks = list(toks)      # `group` splits `\frac12`'s digits in place
        self.pos = 0
        self.variances = variances

    def peek(self) -> Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def at(self, *texts: str) -> bool:
        """Whether the next token is written as one of `texts`."""
        tok = self.peek()
        return tok is not None and tok.text in texts

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise Skip("formula ends too early")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise Skip(f"expected '{text}' but found '{tok.text}'")

    def whole(self) -> Term:
        node = self.sum()
        if self.peek() is not None:
            raise Skip(f"cannot read '{self.peek().text}' here")
        return node

    def sum(self) -> Term:
        node = self.product()
        while self.at("+", *_MINUS):
            op = "-" if self.take().text in _MINUS else "+"
            node = Bin(op, node, self.product())
        return node

    def product(self) -> Term:
        node = self.unary()
        while (tok := self.peek()) is not None:
            if tok.text in _MULTIPLY:
                self.take()
                node = Bin("*", node, self.unary())
            elif tok.text in _DIVIDE:
                self.take()
                node = Bin("/", node, self.unary())
            elif self.starts_atom(tok):
                node = Bin("*", node, self.power())
            else:
                break
        return node

    def unary(self) -> Term:
        if self.at(*_MINUS):
            self.take()
            return Neg(self.unary())
        if self.at("+"):
            self.take()
            return self.unary()
        return self.power()

    def starts_atom(self, tok: Tok) -> bool:
        """Whether `tok` begins a factor of an implicit product (`2\\theta`, `a b`)."""
        if tok.kind in ("num", "letter", "word"):
            return True
        if tok.kind == "cmd":
            return (tok.value in _GREEK or tok.value in _FUNCTIONS or tok.value in _DECORATIONS
                    or tok.value in (*_FRACTIONS, "sqrt"))
        return tok.text in ("(", "{")

    def power(self) -> Term:
        node = self.atom()
        while self.at("^", "²"):
            node = Bin("^", node, self.exponent())
        return node

    def exponent(self) -> Term:
        if self.take().text == "²":
            return Num("2")
        return self.group()

    def group(self) -> Term:
        """A braced group, or the single token LaTeX takes as an argument (`\\frac12`)."""
        tok = self.peek()
        if tok is not None and tok.kind == "num" and len(tok.text) > 1 and tok.text.isdigit():
            self.toks[self.pos] = replace(tok, text=tok.text[1:], value=tok.text[1:])
            return Num(tok.text[0])
        return self.atom()

    def atom(self) -> Term:
        tok = self.take()
        if tok.kind == "num":
            return Num(tok.text)
        if tok.kind == "letter":
            if tok.value == "e" and self.at("^"):
                self.take()
                return Call("exp", (self.group(),))
            return self.symbol(tok.value)
        if tok.text in _CLOSER:
            node = self.sum()
            self.expect(_CLOSER[tok.text])
            return node
        if tok.kind == "word":
            return self.symbol(_word_symbol(tok))
        if tok.kind == "cmd":
            return self.command(tok)
        raise Skip(f"'{tok.text}' is not part of a model formula")

    def command(self, tok: Tok) -> Term:
        name = tok.value
        if name in _GREEK:
            return self.symbol(name)
        if name in _FRACTIONS:
            return Bin("/", self.group(), self.group())
        if name == "sqrt":
            return self.root()
        if name in _FUNCTIONS:
            return Call(_FUNCTIONS[name], (self.power(),))
        if name in _DECORATIONS:
            inner = self.group()
            if not isinstance(inner, Sym) or inner.indices:
                raise Skip(f"\\{name} over something that is not a symbol")
            return self.symbol(inner.name + _DECORATIONS[name])
        raise Skip(f"'{tok.text}' is not simulated")

    def root(self) -> Term:
        degree = None
        if self.at("["):
            self.take()
            degree = self.sum()
            self.expect("]")
        radicand = self.group()
        if degree is None:
            return Call("sqrt", (radicand,))
        return Bin("^", radicand, Bin("/", Num("1"), degree))

    def symbol(self, base: str) -> Term:
        """A name with its subscript and superscript, in either order."""
        part, indices, sup = "", (), None
        while self.at("_", "^", "'", "²"):
            tok = self.take()
            if tok.text == "_":
                part, indices = _subscript(self.script_tokens())
            elif tok.text == "'":
                base += "prime"
            elif tok.text == "²":
                sup = Num("2")
            else:
                sup = self.superscript()
                if isinstance(sup, str):
                    base, sup = base + sup, None
        name = base + (part if part.isdigit() else f"_{part}" if part else "")
        if sup == Num("2") and name in self.variances:
            return Sym(name + "2", indices)
        node = Sym(name, indices)
        return Bin("^", node, sup) if sup is not None else node

    def superscript(self) -> Term | str:
        """An exponent, or the name suffix a star or prime superscript stands for."""
        if self.at("*", "\\ast", "\\star"):
            self.take()
            return "star"
        if self.at("\\prime"):
            self.take()
            return "prime"
        if self.at("T", "\\top", "\\intercal"):
            raise Skip("transposes are not simulated")
        return self.group()

    def script_tokens(self) -> list[Tok]:
        """The tokens of a subscript: one token, or a braced group without its braces."""
        tok = self.take()
        if tok.text != "{":
            return [tok]
        inner: list[Tok] = []
        depth = 1
        while True:
            tok = self.take()
            depth = depth_step(tok, depth)
            if depth == 0:
                return inner
            inner.append(tok)


def _word_symbol(tok: Tok) -> str:
    """`\\mathbf{x}` → x, `\\boldsymbol{\\theta}` → theta; a real word is prose, not a symbol."""
    content = tok.value.strip()
    if re.fullmatch(r"[A-Za-z]", content):
        return content
    greek = GREEK_VARIANTS.get(content[1:], content[1:]) if content.startswith("\\") else ""
    if greek in _GREEK:
        return greek
    raise Skip(f"'{tok.text}' is text, not a symbol")


def _subscript(toks: list[Tok]) -> tuple[str, tuple[str, ...]]:
    """(name part, indices) of a subscript, by the rule in `notecards.sim.latex`'s docstring."""
    pieces = [_subscript_piece(tok, toks) for tok in toks if tok.text != ","]
    digits = 0
    while digits < len(pieces) and pieces[digits].isdigit():
        digits += 1
    rest = pieces[digits:]
    if rest and all(p in INDEX_LETTERS for p in rest):
        return "".join(pieces[:digits]), tuple(rest)
    return "".join(pieces), ()


def _subscript_piece(tok: Tok, toks: list[Tok]) -> str:
    """The name text one token of the subscript `toks` contributes."""
    if tok.kind == "letter":
        return tok.value
    if tok.kind == "num" and tok.text.isdigit():
        return tok.text
    if tok.kind == "cmd" and tok.value in _GREEK:
        return tok.value
    if tok.kind == "word" and re.fullmatch(r"\s*\w+\s*", tok.value):
        return tok.value.strip()
    text = "".join(t.text for t in toks)
    raise Skip(f"subscript '{text}' is neither an index nor part of a name")


# ---------------------------------------------------------------- writing sim text

def indexed(name: str, indices: tuple[str, ...]) -> str:
    """`name[i, j]`, or the bare name when it has no index."""
    return f"{name}[{', '.join(indices)}]" if indices else name


def expr_text(node: Term, free: set[str]) -> str:
    """Sim-language text with only the parentheses the precedence needs; a `free` symbol is one
    constant for every index, so it is written without them."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Sym):
        return node.name if node.name in free else indexed(node.name, node.indices)
    if isinstance(node, Call):
        return f"{node.fn}({', '.join(expr_text(a, free) for a in node.args)})"
    if isinstance(node, Neg):
        inner = expr_text(node.a, free)
        return f"-({inner})" if _precedence(node.a) <= 4 else f"-{inner}"
    p = _PRECEDENCE[node.op]
    left, right = expr_text(node.a, free), expr_text(node.b, free)
    if _precedence(node.a) < p or (node.op == "^" and _precedence(node.a) <= p):
        left = f"({left})"
    if _precedence(node.b) < p or (_precedence(node.b) == p and node.op in "-/^"):
        right = f"({right})"
    return f"{left} {node.op} {right}" if p == 1 else f"{left}{node.op}{right}"


def _precedence(node: Term) -> int:
    if isinstance(node, Bin):
        return _PRECEDENCE[node.op]
    return 3 if isinstance(node, Neg) else 5
