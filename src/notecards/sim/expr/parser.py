"""The expression parser: recursive descent over `tokens.tokenize`'s tokens -> `Expr` trees
(the grammar is in the package's docstring). Nesting depth (`MAX_DEPTH`) and literal exponents
(`MAX_EXPONENT`) are bounded so a hostile or mistaken note stays cheap."""

from __future__ import annotations

from notecards.sim.expr.tokens import ParseError, Token, tokenize
from notecards.sim.model import Expr, Op

MAX_DEPTH = 60
MAX_EXPONENT = 1000.0


def num(value: float) -> Expr:
    return Expr(Op.NUM, value=float(value))


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
            left = Expr(Op.CMP, (left, self._and()), "or")
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self.at("and", "&"):
            self.take()
            left = Expr(Op.CMP, (left, self._not()), "and")
        return left

    def _not(self) -> Expr:
        if self.at("not"):
            self.take()
            return Expr(Op.CALL, (self._not(),), "not")
        return self._compare()

    def _compare(self) -> Expr:
        left = self._sum()
        if self.at("<", ">", "<=", ">=", "==", "!=", "≤", "≥"):
            op = {"≤": "<=", "≥": ">="}.get(self.peek.text, self.peek.text)
            self.take()
            return Expr(Op.CMP, (left, self._sum()), op)
        return left

    def _sum(self) -> Expr:
        left = self._term()
        while self.at("+", "-"):
            op = self.take().text
            left = Expr(Op(op), (left, self._term()))
        return left

    def _term(self) -> Expr:
        left = self._unary()
        while self.at("*", "/"):
            op = self.take().text
            left = Expr(Op(op), (left, self._unary()))
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
            return Expr(Op.NEG, (inner,)) if op == "-" else inner
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
            return Expr(Op.POW, (base, exponent))
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
            node = Expr(Op.INDEX, (node, *indices))
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
                return Expr(Op.CALL, tuple(arg for _, arg in args), tok.text)
            return Expr(Op.NAME, value=tok.text)
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
            return Expr(Op.VEC, tuple(items))
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
        return expr.number
    if expr.op == "neg" and expr.args[0].op == "num":
        return -expr.args[0].number
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
