"""Reading a sim block's statements, one line at a time, into definitions, checks and options
(`Statements`); `resolve` turns them into a model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from notecards.sim import distributions
from notecards.sim.expr import RELATIONS, Parser, ParseError, Token, format_expr, names_in, tokenize
from notecards.sim.lang.nodes import OPTIONS
from notecards.sim.model import Check, Expr, Node, Origin
from notecards.types import Diagnostic

_CHECK = re.compile(r"^\s*check\s*:\s*(.*)$", re.IGNORECASE)
_SHOW = re.compile(r"^\s*show\s*[=:]\s*(.*)$", re.IGNORECASE)


@dataclass
class Statements:
    """A block read one statement at a time: the definitions, checks and options as written.
    The graph is built only afterwards (`resolve`), so a statement may use a name defined further
    down, and every mistake in the block is reported at its own line in one pass instead of
    stopping at the first."""

    path: str
    first_line: int
    origin: Origin
    defs: dict[str, list[Node]] = field(default_factory=dict)
    observed_exprs: dict[str, Expr] = field(default_factory=dict)
    index_plates: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    options: dict[str, tuple[Expr, int]] = field(default_factory=dict)
    show: tuple[list[str], int] | None = None
    broken: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    canonical: list[str] = field(default_factory=list)

    def error(self, line: int, message: str, col: int = 0) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, "error", message, col))

    # ---- statements ------------------------------------------------------------------------

    def statement(self, raw: str, line: int) -> None:
        text = raw.split("#", 1)[0].strip()
        if not text:
            return
        try:
            self._statement(text, line)
        except ParseError as exc:
            self.error(line, f"{exc} in `{text}`", exc.col)
            lhs = re.match(r"\s*([A-Za-z_]\w*)", text)
            if lhs:
                self.broken.add(lhs.group(1))

    def _statement(self, text: str, line: int) -> None:
        check = _CHECK.match(text)
        if check:
            self.checks.append(self._check(check.group(1).strip(), line))
            self.canonical.append(f"check: {check.group(1).strip()}")
            return
        show = _SHOW.match(text)
        if show and self.origin == "sim":
            names = [s.strip() for s in show.group(1).split(",") if s.strip()]
            if not names or not all(re.fullmatch(r"[A-Za-z_]\w*", s) for s in names):
                raise ParseError("expected names separated by commas after `show =`")
            self.show = (names, line)
            self.canonical.append("show = " + ", ".join(names))
            return
        parser = Parser(tokenize(text))
        name_tok = parser.peek
        if name_tok.kind != "name":
            parser.fail("expected a name at the start of the statement")
        parser.take()
        plates, letters = self._lhs_indices(parser) if parser.at("[") else ([], [])
        if not parser.at("=", "~"):
            parser.fail("expected '=' or '~' after the name")
        relation = parser.take().text
        name = name_tok.text
        if relation == "=" and not plates and self.origin == "sim" and name in OPTIONS:
            expr = parser.expression()
            parser.expect_end()
            self.options["n" if name == "draws" else name] = (expr, line)
            self.canonical.append(f"{name} = {format_expr(expr)}")
            return
        node = Node(name=name, kind="deterministic", line=line, source=text,
                    plates=tuple(plates), indices=tuple(letters))
        if relation == "=":
            node.expr = parser.expression()
            parser.expect_end()
        else:
            self._distribution(parser, node)
        self._define(node)

    def _lhs_indices(self, parser: Parser) -> tuple[list[str], list[str]]:
        parser.take()
        plates: list[str] = []
        letters: list[str] = []
        while True:
            tok = parser.peek
            if tok.kind == "num":
                if float(tok.text) != 1:
                    raise ParseError("ranges start at 1 (write 1..J)", tok.col)
                parser.take()
                parser.expect("..", "'..' in a range such as 1..J")
                size = parser.peek
                if size.kind != "name":
                    parser.fail("expected a size name after '..' (set it first, e.g. J = 8)")
                parser.take()
                letter = size.text.lower()
                if letter == size.text:
                    raise ParseError(f"a plate size is a capitalised name (1..{size.text.upper()},"
                                     f" with index {letter})", size.col)
                self.index_plates[letter] = size.text
                plates.append(size.text)
                letters.append(letter)
            elif tok.kind == "name":
                parser.take()
                if tok.text != tok.text.lower():
                    raise ParseError(f"write the index in lower case ([{tok.text.lower()}]) "
                                     f"or as a range ([1..{tok.text}])", tok.col)
                plates.append(self.index_plates.get(tok.text, tok.text.upper()))
                letters.append(tok.text)
            else:
                parser.fail("expected an index letter or a range 1..J")
            if parser.at(","):
                parser.take()
                continue
            parser.expect("]", "']' after the index")
            break
        if len(plates) > 2:
            raise ParseError("at most two indices (nested plates) are supported")
        if len(set(letters)) != len(letters):
            raise ParseError("the same index is used twice")
        return plates, letters

    def _distribution(self, parser: Parser, node: Node) -> None:
        start = parser.peek
        if start.kind != "name":
            parser.fail("expected a distribution such as Normal(0, 1) after '~'")
        words = [parser.take().text]
        while parser.at("-") and parser.tokens[parser.pos + 1].kind == "name":
            parser.take()
            words.append(parser.take().text)
        written = "-".join(words)
        dist = distributions.lookup(written)
        if dist is None:
            known = ", ".join(distributions.REGISTRY)
            raise ParseError(f"unknown distribution '{written}' (expected one of {known})",
                             start.col)
        parser.expect("(", f"'(' and the arguments of {dist.name}")
        arguments = parser.call_arguments()
        parser.expect_end()
        positional = [e for k, e in arguments if k is None]
        keywords = [(k, e) for k, e in arguments if k is not None]
        if any(k is None for k, _ in arguments[len(positional):]):
            raise ParseError("positional arguments must come before keyword arguments")
        try:
            node.args = distributions.resolve_args(dist, positional, keywords)
        except ValueError as exc:
            raise ParseError(str(exc), start.col) from None
        node.dist = dist.name
        node.kind = "stochastic"

    def _check(self, text: str, line: int) -> Check:
        tokens = tokenize(text)
        depth, splits = 0, []
        for k, tok in enumerate(tokens):
            if tok.text in ("(", "["):
                depth += 1
            elif tok.text in (")", "]"):
                depth -= 1
            elif depth == 0 and tok.kind == "op" and (tok.text in RELATIONS or tok.text == "="):
                splits.append(k)
        if len(splits) != 1:
            raise ParseError("expected one relation (≈, ~=, <, >, <=, >=) in a check, "
                             "e.g. check: var(X) ≈ lambda + sigma^2")
        k = splits[0]
        end = Token("end", "", len(text))
        sides = []
        for part in (tokens[:k] + [end], tokens[k + 1:]):
            parser = Parser(part)
            sides.append(parser.expression())
            parser.expect_end("an operator or the end of the check")
        relation = {"~=": "≈", "==": "≈", "=": "≈", "≤": "<=", "≥": ">="}.get(
            tokens[k].text, tokens[k].text)
        return Check(line=line, text=text, lhs=sides[0], rhs=sides[1], relation=relation)

    def _define(self, node: Node) -> None:
        self.canonical.append(node.source)
        earlier = self.defs.get(node.name)
        if earlier is None:
            self.defs[node.name] = [node]
            return
        first = earlier[0]
        if (len(earlier) == 1 and node.kind == "stochastic" and first.expr is not None
                and not names_in(first.expr) and node.name not in self.observed_exprs):
            self.observed_exprs[node.name] = first.expr
            self.defs[node.name] = [node]
            return
        if self.origin == "latex":
            earlier.append(node)
            return
        self.error(node.line, f"{node.name} is already defined at line {first.line}; "
                              "give the new variable another name")
