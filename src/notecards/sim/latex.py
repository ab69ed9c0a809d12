"""Read the model a card states in its own LaTeX and write it in the sim language.

A card that says ``\\theta \\sim \\mathcal{N}(0, \\lambda)`` and ``X \\sim \\mathcal{N}(\\theta,
\\sigma^2)`` in display math has stated a runnable model; this module turns those statements into
sim-language text (DESIGN 5) so such a card gets a simulation without a ```sim block.

What is read:
- display math only: ``$$…$$`` (on its own lines or inline in a sentence) and ``\\[…\\]``;
  ``$…$`` and ``\\(…\\)`` are prose math and ignored, as is anything inside code.
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

Laws are translated only when known (the DESIGN table, plus χ² families, Student-t written
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

import re
from dataclasses import dataclass, field, replace

from notecards.sim import distributions
from notecards.sim.expr import GREEK, GREEK_LETTERS
from notecards.sim.lang import DEFAULT_PLATE, DEFAULT_VALUE, parse_sim
from notecards.sim.model import ModelSpec
from notecards.types import CardBlock, Diagnostic

INDEX_LETTERS = frozenset("ijklmnt")

_GREEK = frozenset(GREEK_LETTERS)
_GREEK_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi",
                   "varrho": "rho", "varsigma": "sigma", "varpi": "pi", "varkappa": "kappa",
                   "ell": "l"}
_DECORATIONS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar",
                "tilde": "tilde", "widetilde": "tilde", "dot": "dot"}
_FUNCTIONS = {"exp": "exp", "log": "log", "ln": "log"}
_SPACING = {"\\,", "\\;", "\\:", "\\!", "\\ ", "~", "&"}
_IGNORED_COMMANDS = {"\\left", "\\right", "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigl",
                     "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\displaystyle",
                     "\\textstyle", "\\nonumber", "\\notag", "\\limits"}
_MULTIPLY = {"*", "\\cdot", "\\times", "\\ast", "·", "×"}
_DIVIDE = {"/", "\\div"}
_OTHER_RELATIONS = {"\\propto", "\\approx", "\\neq", "\\ne", "\\leq", "\\le", "\\geq", "\\ge",
                    "<", ">", "\\in", "\\to", "\\rightarrow", "\\Rightarrow", "\\iff",
                    "\\implies", "\\mapsto", "\\simeq", "\\cong", "\\sim", "=", "≈", "∝"}
_BARS = {"|", "\\mid", "\\vert"}
_PROSE_WORDS = {"for", "where", "and", "with", "iid", "i.i.d.", "ind", "indep", "if", "s.t.",
                "all", "each", "otherwise", "independently", "i.i.d"}

_TOKEN = re.compile(r"""
  (?P<word>\\(?:text|mathrm|operatorname\*?|textrm|textsf|mathsf|textit|mathit|mbox|textbf
                |mathbf|boldsymbol|bm|vec)\s*\{(?P<wc>(?:[^{}]|\{[^{}]*\})*)\})
| (?P<cal>\\(?:mathcal|mathscr|mathbb|mathfrak)\s*\{(?P<cc>[^{}]*)\})
| (?P<cmd>\\[A-Za-z]+)
| (?P<esc>\\.)
| (?P<num>\d+(?:\.\d+)?|\.\d+)
| (?P<letter>[A-Za-z])
| (?P<space>\s+)
| (?P<punct>.)
""", re.X | re.S)

_ENVIRONMENT = re.compile(
    r"\\(?:begin|end)\{(?:equation|align|aligned|alignat|split|gather|gathered|multline|eqnarray)"
    r"\*?\}(?:\{\d+\})?")
_LABEL = re.compile(r"\\(?:label|tag\*?)\{[^{}]*\}")
_OVERSET = re.compile(r"\\(?:stackrel|overset|underset)\s*\{(?:[^{}]|\{[^{}]*\})*\}\s*"
                      r"\{\s*(\\sim|=)\s*\}")
_DEFINES = re.compile(r":=|\\coloneqq|\\coloneq|\\triangleq|\\equiv|\\doteq|\\eqqcolon")
_FENCE = re.compile(r"^\s*(?:[-*+>]\s+|\d+[.)]\s+)*(`{3,}|~{3,})")


class _Skip(Exception):
    """A statement this reader will not translate; the message is the reason the user sees."""


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


@dataclass(frozen=True)
class _Num:
    text: str


@dataclass(frozen=True)
class _Sym:
    name: str
    indices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Call:
    fn: str
    args: tuple


@dataclass(frozen=True)
class _Bin:
    op: str
    a: object
    b: object


@dataclass(frozen=True)
class _Neg:
    a: object


@dataclass(frozen=True)
class _Tok:
    kind: str          # word, cal, cmd, esc, num, letter, punct
    text: str          # as written
    value: str         # normalised: word/cal content, Greek name, digit string …
    start: int
    end: int


@dataclass
class _Piece:
    """A candidate statement: its tokens and where it is in the note."""

    line: int
    latex: str
    toks: list[_Tok]
    clean: str          # the row text the token offsets point into


@dataclass
class _Stmt:
    line: int
    latex: str
    name: str | None = None
    indices: tuple[str, ...] = ()
    relation: str = ""
    law: str | None = None
    args: tuple = ()
    expr: object = None
    reason: str | None = None
    translated: bool = False

    def rhs_nodes(self) -> tuple:
        return self.args if self.relation == "~" else (self.expr,)


@dataclass
class _Card:
    statements: list[_Stmt]
    order: list[_Stmt] = field(default_factory=list)
    defaults: dict[str, float] = field(default_factory=dict)
    default_line: dict[str, int] = field(default_factory=dict)
    free: set[str] = field(default_factory=set)
    vectors: dict[str, str] = field(default_factory=dict)   # free vector arguments' defaults


# ---------------------------------------------------------------- finding display math

def _mask_code(text: str) -> str:
    """Blank out fenced code and inline code spans, keeping offsets, so math in code is ignored."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append(" " * len(line))
        elif m:
            fence = m.group(1)
            out.append(" " * len(line))
        else:
            out.append(re.sub(r"`[^`]*`", lambda s: " " * len(s.group(0)), line))
    return "\n".join(out)


def _closing(text: str, marker: str, start: int, same_line: bool = False) -> int:
    """Offset of the next unescaped `marker` from `start`, or -1."""
    pos = start
    while True:
        pos = text.find(marker, pos)
        if pos == -1 or (same_line and "\n" in text[start:pos]):
            return -1
        if pos == 0 or text[pos - 1] != "\\":
            return pos
        pos += 1


def display_math(text: str) -> list[tuple[int, str]]:
    """(offset, content) of every display-math span of a markdown text, in order."""
    masked = _mask_code(text)
    spans: list[tuple[int, str]] = []
    i = 0
    while i < len(masked):
        c = masked[i]
        if c == "\\" and masked.startswith("\\[", i):
            end = _closing(masked, "\\]", i + 2)
            if end == -1:
                break
            spans.append((i + 2, text[i + 2:end]))
            i = end + 2
        elif c == "\\" and masked.startswith("\\(", i):
            end = _closing(masked, "\\)", i + 2)
            i = len(masked) if end == -1 else end + 2
        elif c == "\\":
            i += 2
        elif masked.startswith("$$", i):
            end = _closing(masked, "$$", i + 2)
            if end == -1:
                break
            spans.append((i + 2, text[i + 2:end]))
            i = end + 2
        elif c == "$":
            end = _closing(masked, "$", i + 1, same_line=True)
            i = i + 1 if end == -1 else end + 1
        else:
            i += 1
    return spans


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def _clean(latex: str) -> str:
    """Remove layout-only markup, keeping every offset so slices of the original still line up."""
    latex = _ENVIRONMENT.sub(_blank, latex)
    latex = _LABEL.sub(_blank, latex)
    latex = _OVERSET.sub(lambda m: m.group(1).ljust(len(m.group(0))), latex)
    latex = _DEFINES.sub(lambda m: "=".rjust(len(m.group(0))), latex)
    latex = re.sub(r"\\(?:left|right)\s*\.", _blank, latex)
    return re.sub(r"\\\\\s*\[[^\]]*\]", lambda m: "\\\\".ljust(len(m.group(0))), latex)


def _tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup      # the outer group's name: word, cal, cmd, esc, num, letter, …
        raw = m.group(0)
        if kind == "space" or raw in _SPACING or raw in _IGNORED_COMMANDS:
            continue
        if kind == "word":
            value = m.group("wc")
        elif kind == "cal":
            value = m.group("cc").strip()
        elif kind == "cmd":
            value = _GREEK_VARIANTS.get(raw[1:], raw[1:])
        elif kind == "punct" and raw in GREEK:
            kind, value = "letter", GREEK[raw]
        else:
            value = raw
        toks.append(_Tok(kind, raw, value, m.start(), m.end()))
    return toks


def _depth_step(tok: _Tok, depth: int) -> int:
    if tok.text in ("(", "[", "{", "\\{"):
        return depth + 1
    if tok.text in (")", "]", "}", "\\}"):
        return depth - 1
    return depth


def _is_separator(toks: list[_Tok], k: int) -> bool:
    """A top-level comma, `\\quad`, or prose `\\text{ for }` between two statements."""
    tok = toks[k]
    if tok.text in (",", ";") or tok.text in ("\\quad", "\\qquad", "\\forall"):
        return True
    if tok.kind != "word" or not tok.text.startswith(("\\text", "\\mbox")):
        return False
    follows_bracket = k + 1 < len(toks) and toks[k + 1].text in ("(", "[")
    content = tok.value
    return not follows_bracket and (content != content.strip() or " " in content.strip()
                                    or content.strip().lower() in _PROSE_WORDS)


def _has_relation(toks: list[_Tok]) -> bool:
    return bool(_top_level(toks, {"\\sim", "="}))


def _split_statements(toks: list[_Tok]) -> list[list[_Tok]]:
    """Split a row at top-level separators, then glue back parts that state nothing
    (with their separator, so `j = 1, \\ldots, J` stays a range)."""
    parts: list[list[_Tok]] = [[]]
    depth = 0
    for k, tok in enumerate(toks):
        depth = _depth_step(tok, depth)
        if depth == 0 and _is_separator(toks, k):
            parts.append([tok])
        else:
            parts[-1].append(tok)
    merged: list[list[_Tok]] = []
    pending: list[_Tok] = []
    for part in parts:
        if merged and not pending and not _has_relation(part):
            merged[-1] = merged[-1] + part
            continue
        body = part[1:] if part and _is_separator(part, 0) else part
        pending = pending + (part if pending else body)
        if _has_relation(pending):
            merged.append(pending)
            pending = []
    for part in merged:
        while part and (part[-1].text == "." or _is_separator(part, len(part) - 1)):
            part.pop()
    return merged


def _pieces(text: str, first_line: int) -> list[_Piece]:
    """Every candidate statement of one field's display math, with its note line."""
    pieces: list[_Piece] = []
    for offset, content in display_math(text):
        clean = _clean(content)
        row_start = 0
        for row in re.split(r"\\\\", clean):
            for toks in _split_statements(_tokens(row)):
                start, end = toks[0].start, toks[-1].end
                base = offset + row_start
                line = first_line + text.count("\n", 0, base + start)
                latex = content[row_start + start:row_start + end].strip()
                pieces.append(_Piece(line, latex, _shift(toks, row_start), clean))
            row_start += len(row) + 2
    return pieces


def _shift(toks: list[_Tok], by: int) -> list[_Tok]:
    return [replace(t, start=t.start + by, end=t.end + by) for t in toks]


# ---------------------------------------------------------------- expressions

class _Parser:
    """Recursive descent over LaTeX math tokens into a small expression tree."""

    def __init__(self, toks: list[_Tok], variances: set[str]):
        self.toks = toks
        self.pos = 0
        self.variances = variances

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _Skip("formula ends too early")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise _Skip(f"expected '{text}' but found '{tok.text}'")

    def whole(self) -> object:
        node = self.sum()
        if self.peek() is not None:
            raise _Skip(f"cannot read '{self.peek().text}' here")
        return node

    def sum(self) -> object:
        node = self.product()
        while self.peek() is not None and self.peek().text in ("+", "-", "−"):
            op = "-" if self.take().text in ("-", "−") else "+"
            node = _Bin(op, node, self.product())
        return node

    def product(self) -> object:
        node = self.unary()
        while (tok := self.peek()) is not None:
            if tok.text in _MULTIPLY:
                self.take()
                node = _Bin("*", node, self.unary())
            elif tok.text in _DIVIDE:
                self.take()
                node = _Bin("/", node, self.unary())
            elif self.starts_atom(tok):
                node = _Bin("*", node, self.power())
            else:
                break
        return node

    def unary(self) -> object:
        tok = self.peek()
        if tok is not None and tok.text in ("-", "−"):
            self.take()
            return _Neg(self.unary())
        if tok is not None and tok.text == "+":
            self.take()
            return self.unary()
        return self.power()

    def starts_atom(self, tok: _Tok) -> bool:
        if tok.kind in ("num", "letter", "word"):
            return True
        if tok.kind == "cmd":
            return (tok.value in _GREEK or tok.value in _FUNCTIONS or tok.value in _DECORATIONS
                    or tok.value in ("frac", "dfrac", "tfrac", "sqrt"))
        return tok.text in ("(", "{")

    def power(self) -> object:
        node = self.atom()
        while self.peek() is not None and self.peek().text in ("^", "²"):
            node = _Bin("^", node, self.exponent())
        return node

    def exponent(self) -> object:
        if self.take().text == "²":
            return _Num("2")
        return self.group()

    def group(self) -> object:
        """A braced group, or the single token LaTeX takes as an argument (`\\frac12`)."""
        tok = self.peek()
        if tok is not None and tok.text == "{":
            self.take()
            node = self.sum()
            self.expect("}")
            return node
        if tok is not None and tok.kind == "num" and len(tok.text) > 1 and tok.text.isdigit():
            self.toks[self.pos] = replace(tok, text=tok.text[1:], value=tok.text[1:])
            return _Num(tok.text[0])
        return self.atom()

    def atom(self) -> object:
        tok = self.take()
        if tok.kind == "num":
            return _Num(tok.text)
        if tok.kind == "letter":
            if tok.value == "e" and self.peek() is not None and self.peek().text == "^":
                self.take()
                return _Call("exp", (self.group(),))
            return self.symbol(tok.value)
        if tok.text in ("(", "{", "["):
            node = self.sum()
            self.expect({"(": ")", "{": "}", "[": "]"}[tok.text])
            return node
        if tok.kind == "word":
            return self.symbol(_word_symbol(tok))
        if tok.kind == "cmd":
            return self.command(tok)
        raise _Skip(f"'{tok.text}' is not part of a model formula")

    def command(self, tok: _Tok) -> object:
        name = tok.value
        if name in _GREEK:
            return self.symbol(name)
        if name in ("frac", "dfrac", "tfrac"):
            return _Bin("/", self.group(), self.group())
        if name == "sqrt":
            return self.root()
        if name in _FUNCTIONS:
            return _Call(_FUNCTIONS[name], (self.power(),))
        if name in _DECORATIONS:
            inner = self.group()
            if not isinstance(inner, _Sym) or inner.indices:
                raise _Skip(f"\\{name} over something that is not a symbol")
            return self.symbol(inner.name + _DECORATIONS[name])
        raise _Skip(f"'{tok.text}' is not simulated")

    def root(self) -> object:
        degree = None
        if self.peek() is not None and self.peek().text == "[":
            self.take()
            degree = self.sum()
            self.expect("]")
        radicand = self.group()
        if degree is None:
            return _Call("sqrt", (radicand,))
        return _Bin("^", radicand, _Bin("/", _Num("1"), degree))

    def symbol(self, base: str) -> object:
        """A name with its subscript and superscript, in either order."""
        part, indices, sup = "", (), None
        while (tok := self.peek()) is not None and tok.text in ("_", "^", "'", "²"):
            self.take()
            if tok.text == "_":
                part, indices = _subscript(self.script_tokens())
            elif tok.text == "'":
                base += "prime"
            elif tok.text == "²":
                sup = _Num("2")
            else:
                sup = self.superscript()
                if isinstance(sup, str):
                    base, sup = base + sup, None
        name = base + (part if part.isdigit() else f"_{part}" if part else "")
        if sup == _Num("2") and name in self.variances:
            return _Sym(name + "2", indices)
        node = _Sym(name, indices)
        return _Bin("^", node, sup) if sup is not None else node

    def superscript(self) -> object:
        tok = self.peek()
        if tok is not None and tok.text in ("*", "\\ast", "\\star"):
            self.take()
            return "star"
        if tok is not None and tok.text in ("\\prime",):
            self.take()
            return "prime"
        if tok is not None and tok.text in ("T", "\\top", "\\intercal"):
            raise _Skip("transposes are not simulated")
        return self.group()

    def script_tokens(self) -> list[_Tok]:
        tok = self.take()
        if tok.text != "{":
            return [tok]
        inner: list[_Tok] = []
        depth = 1
        while True:
            tok = self.take()
            depth = _depth_step(tok, depth)
            if depth == 0:
                return inner
            inner.append(tok)


def _word_symbol(tok: _Tok) -> str:
    """`\\mathbf{x}` → x, `\\boldsymbol{\\theta}` → theta; a real word is prose, not a symbol."""
    content = tok.value.strip()
    if re.fullmatch(r"[A-Za-z]", content):
        return content
    greek = _GREEK_VARIANTS.get(content[1:], content[1:]) if content.startswith("\\") else ""
    if greek in _GREEK:
        return greek
    raise _Skip(f"'{tok.text}' is text, not a symbol")


def _subscript(toks: list[_Tok]) -> tuple[str, tuple[str, ...]]:
    """(name part, indices) of a subscript, by the rule in the module docstring."""
    pieces: list[str] = []
    for tok in toks:
        if tok.text == ",":
            continue
        if tok.kind == "letter":
            pieces.append(tok.value)
        elif tok.kind == "num" and tok.text.isdigit():
            pieces.append(tok.text)
        elif tok.kind == "cmd" and tok.value in _GREEK:
            pieces.append(tok.value)
        elif tok.kind == "word" and re.fullmatch(r"\s*\w+\s*", tok.value):
            pieces.append(tok.value.strip())
        else:
            text = "".join(t.text for t in toks)
            raise _Skip(f"subscript '{text}' is neither an index nor part of a name")
    digits = 0
    while digits < len(pieces) and pieces[digits].isdigit():
        digits += 1
    rest = pieces[digits:]
    if rest and all(p in INDEX_LETTERS for p in rest):
        return "".join(pieces[:digits]), tuple(rest)
    return "".join(pieces), ()


# ---------------------------------------------------------------- laws

# How cards write laws beyond the sim language's own names and aliases (which
# `distributions.lookup` knows, so every name of the DESIGN table reads here too), and the χ²
# families, which become Gamma, InverseGamma or ScaledInvChiSquare in `_law_args`.
_LATEX_LAW_NAMES = {
    "Normal": ("gauss",),
    "HalfNormal": ("halfn", "n^+", "n+"),
    "LogNormal": ("lnn", "lognorm"),
    "HalfCauchy": ("c^+",),
    "Exponential": ("expo",),
    "InverseGamma": ("invgam", "inversegam", "gamma^1", "gamma^{1}"),
    "ChiSquare": ("chi^2", "chisq", "chi2", "chisquared", "chisquare"),
    "InvChiSquare": ("invchi^2", "inversechi^2", "invchisq", "scaledinvchi^2",
                     "scaledinversechi^2", "scaledinvchisq", "invchi2"),
    "Beta": ("be",),
    "Bernoulli": ("ber",),
    "Poisson": ("po",),
}
_LATEX_LAWS = {alias: law for law, aliases in _LATEX_LAW_NAMES.items() for alias in aliases}
_HALF = {"HalfNormal", "HalfCauchy"}
_VECTOR_ARGUMENT = {"Dirichlet": 0, "Categorical": 0, "Multinomial": 1}
_SUBSCRIPTED = {"StudentT", "ChiSquare", "InvChiSquare"}
_WRAPPERS = re.compile(r"\\(?:text|mathrm|operatorname\*?|mathcal|mathscr|mathsf|textrm|textsf"
                       r"|mbox|mathit|textit|mathbb|mathbf)\b")


def _law_name(head: str) -> tuple[str | None, str | None]:
    """(canonical law, subscript text) of a law as written, e.g. `t_\\nu` → (StudentT, \\nu)."""
    h = _WRAPPERS.sub("", head)
    h = re.sub(r"[{}\s]", "", h)
    sub = None
    m = re.search(r"_(\\[A-Za-z]+|[A-Za-z0-9]+)", h)
    if m:
        sub = m.group(1)
        h = h[:m.start()] + h[m.end():]
    key = re.sub(r"[\\\-_ ]", "", h).lower()
    registered = distributions.lookup(key)
    law = _LATEX_LAWS.get(key) or (registered.name if registered else None)
    if law is not None and sub is not None and law not in _SUBSCRIPTED:
        return None, sub
    return law, sub


def _half(law: str, args: tuple) -> tuple[str, tuple]:
    if len(args) == 2 and args[0] == _Num("0"):
        args = args[1:]
    if len(args) != 1:
        raise _Skip(f"{law} takes a scale (or 0 and a scale)")
    return law, args


def _unsquare(node: object) -> object:
    """sqrt(σ²) written as σ when σ² is literally a square."""
    if isinstance(node, _Bin) and node.op == "^" and node.b == _Num("2"):
        return node.a
    return _Call("sqrt", (node,))


def _half_of(node: object) -> object:
    return _Bin("/", node, _Num("2"))


def _law_args(law: str, args: tuple, sub: object) -> tuple[str, tuple]:
    """The law and arguments in the sim language's parameterisation (DESIGN 5 table)."""
    if law in _HALF:
        return _half(law, args)
    if law == "StudentT":
        if sub is not None and not args:
            return law, (sub, _Num("0"), _Num("1"))
        if sub is not None and len(args) == 2:
            return law, (sub, args[0], _unsquare(args[1]))
        if sub is None and len(args) == 1:
            return law, (args[0], _Num("0"), _Num("1"))
        if sub is None and len(args) == 3:
            return law, args
        raise _Skip("a Student-t needs t_ν, t_ν(μ, σ²), t(ν) or StudentT(ν, μ, σ)")
    if law == "ChiSquare":
        (df,) = _one_df(sub, args)
        return "Gamma", (_half_of(df), _Bin("/", _Num("1"), _Num("2")))
    if law == "InvChiSquare":
        if len(args) == 2 and sub is None:
            return "ScaledInvChiSquare", args
        if sub is not None and len(args) == 1:
            return "ScaledInvChiSquare", (sub, args[0])
        (df,) = _one_df(sub, args)
        return "InverseGamma", (_half_of(df), _Bin("/", _Num("1"), _Num("2")))
    if sub is not None:
        raise _Skip(f"{law} takes no subscript")
    arity = len(distributions.REGISTRY[law].params)
    if len(args) != arity:
        raise _Skip(f"{law} takes {arity} argument(s), found {len(args)}")
    return law, args


def _one_df(sub: object, args: tuple) -> tuple:
    if not ((sub is not None and not args) or (sub is None and len(args) == 1)):
        raise _Skip("a χ² law needs its degrees of freedom once, as χ²_ν or χ²(ν)")
    return (sub,) if sub is not None else args


# ---------------------------------------------------------------- statements

def _top_level(toks: list[_Tok], texts: set[str]) -> list[int]:
    found, depth = [], 0
    for k, tok in enumerate(toks):
        depth = _depth_step(tok, depth)
        if depth == 0 and tok.text in texts:
            found.append(k)
    return found


def _split_at(toks: list[_Tok], positions: list[int]) -> list[list[_Tok]]:
    bounds = [-1, *positions, len(toks)]
    return [toks[a + 1:b] for a, b in zip(bounds, bounds[1:])]


def _lhs_tokens(toks: list[_Tok]) -> list[_Tok]:
    if not toks:
        raise _Skip("nothing on the left side")
    if toks[0].text == "(" and _top_level(toks[1:-1], {","}):
        raise _Skip("the left side is a tuple, not one variable")
    if any(t.text in ("(", "[") for t in toks[1:]):
        raise _Skip("the left side is a function or a product, not a variable")
    bars = _top_level(toks, _BARS)
    return toks[:bars[0]] if bars else toks


def _squared_name(piece: _Piece) -> str | None:
    """The variable of a left side written as a square (`\\sigma^2 \\sim …`), if any."""
    rels = _top_level(piece.toks, {"\\sim", "="})
    if not rels:
        return None
    try:
        lhs = _Parser(_lhs_tokens(piece.toks[:rels[0]]), set()).whole()
    except _Skip:
        return None
    if isinstance(lhs, _Bin) and lhs.op == "^" and lhs.b == _Num("2") and isinstance(lhs.a, _Sym):
        return lhs.a.name
    return None


def _statement(piece: _Piece, variances: set[str]) -> _Stmt:
    stmt = _Stmt(piece.line, piece.latex)
    toks = piece.toks
    rels = _top_level(toks, _OTHER_RELATIONS)
    try:
        if len(rels) != 1:
            raise _Skip("more than one relation in one statement")
        stmt.relation = "~" if toks[rels[0]].text == "\\sim" else "="
        lhs_toks, rhs_toks = _lhs_tokens(toks[:rels[0]]), toks[rels[0] + 1:]
        if not rhs_toks:
            raise _Skip("nothing on the right side")
        if _is_range(lhs_toks, rhs_toks, stmt):
            return stmt
        lhs = _Parser(lhs_toks, variances).whole()
        if not isinstance(lhs, _Sym):
            raise _Skip("the left side is not a variable")
        stmt.name, stmt.indices = lhs.name, lhs.indices
        if stmt.relation == "~":
            _read_law(rhs_toks, piece, variances, stmt)
        else:
            stmt.expr = _Parser(rhs_toks, variances).whole()
        _add_rhs_indices(stmt)
        stmt.translated = True
    except _Skip as why:
        stmt.reason = str(why)
    return stmt


def _is_range(lhs: list[_Tok], rhs: list[_Tok], stmt: _Stmt) -> bool:
    """`j = 1, \\ldots, J`: the range of an index, which gives a plate size when it is a number."""
    if stmt.relation != "=" or len(lhs) != 1 or lhs[0].value not in INDEX_LETTERS:
        return False
    if not _top_level(rhs, {",", "\\ldots", "\\dots", "\\cdots"}):
        return False
    last = _split_at(rhs, _top_level(rhs, {","}))[-1]
    if len(last) == 1 and last[0].kind == "num" and last[0].text.isdigit():
        stmt.name, stmt.expr, stmt.translated = lhs[0].value.upper(), _Num(last[0].text), True
    else:
        stmt.reason = f"range of the index {lhs[0].value}"
    return True


def _read_law(rhs: list[_Tok], piece: _Piece, variances: set[str], stmt: _Stmt) -> None:
    opens = [k for k, t in enumerate(rhs) if t.text in ("(", "[")]
    head_end = opens[0] if opens else len(rhs)
    head = piece.clean[rhs[0].start:rhs[head_end - 1].end] if head_end else ""
    law, sub = _law_name(head)
    if law is None:
        raise _Skip(f"unknown law '{head.strip()}' (not guessed)")
    args: tuple = ()
    if opens:
        close = _matching(rhs, head_end)
        if close != len(rhs) - 1:
            raise _Skip("the right side is more than one law")
        inner = rhs[head_end + 1:close]
        if _top_level(inner, _BARS):
            raise _Skip(f"{law} written with a conditioning bar: a density, not a law's parameters")
        if inner:
            args = tuple(_Parser(a, variances).whole()
                         for a in _split_at(inner, _top_level(inner, {","})))
    sub_node = _Parser(_tokens(sub), variances).whole() if sub else None
    stmt.law, stmt.args = _law_args(law, args, sub_node)


def _matching(toks: list[_Tok], open_at: int) -> int:
    depth = 0
    for k in range(open_at, len(toks)):
        depth = _depth_step(toks[k], depth)
        if depth == 0:
            return k
    raise _Skip("unbalanced brackets")


def _symbols(node: object) -> list[_Sym]:
    if isinstance(node, _Sym):
        return [node]
    if isinstance(node, _Bin):
        return _symbols(node.a) + _symbols(node.b)
    if isinstance(node, _Neg):
        return _symbols(node.a)
    if isinstance(node, _Call):
        return [s for a in node.args for s in _symbols(a)]
    return []


def _add_rhs_indices(stmt: _Stmt) -> None:
    indices = list(stmt.indices)
    for node in stmt.rhs_nodes():
        for sym in _symbols(node):
            indices += [i for i in sym.indices if i not in indices]
    stmt.indices = tuple(indices)


# ---------------------------------------------------------------- the card as a whole

def _translate(fields: dict[str, str], field_lines: dict[str, int]) -> _Card:
    pieces = [p for name, text in fields.items()
              for p in _pieces(text, field_lines.get(name, 1))]
    pieces = [p for p in pieces if _has_relation(p.toks)]
    variances = {name for p in pieces if (name := _squared_name(p))}
    card = _Card([_statement(p, variances) for p in pieces])
    _drop_repeats(card)
    _order(card)
    _find_defaults(card)
    return card


def _drop_repeats(card: _Card) -> None:
    seen: dict[str, int] = {}
    for stmt in card.statements:
        if not stmt.translated:
            continue
        text = _statement_text(stmt, set())
        if text in seen:
            stmt.translated, stmt.reason = False, f"same as line {seen[text]}"
        else:
            seen[text] = stmt.line


def _order(card: _Card) -> None:
    """Order statements so every symbol is defined before it is used, else keep card order."""
    stmts = [s for s in card.statements if s.translated]
    first: dict[str, _Stmt] = {}
    for stmt in stmts:
        first.setdefault(stmt.name, stmt)
    needs: dict[int, set[int]] = {}
    for stmt in stmts:
        used = {s.name for node in stmt.rhs_nodes() for s in _symbols(node)}
        if stmt.name in used:
            stmt.translated, stmt.reason = False, f"{stmt.name} is defined in terms of itself"
            continue
        deps = {id(first[u]) for u in used if u in first}
        if first[stmt.name] is not stmt:
            deps.add(id(first[stmt.name]))
        needs[id(stmt)] = deps
    placed: set[int] = set()
    pending = [s for s in stmts if s.translated]
    while pending:
        ready = next((s for s in pending if needs[id(s)] <= placed), None)
        if ready is None:
            for stmt in pending:
                stmt.translated, stmt.reason = False, "circular definitions"
            break
        card.order.append(ready)
        placed.add(id(ready))
        pending.remove(ready)


def _find_defaults(card: _Card) -> None:
    """Symbols no statement defines: a plate size for every index (J for j), 1 for the rest."""
    defined = {s.name for s in card.order}
    sizes: dict[str, float] = {}
    for stmt in card.order:
        for index in stmt.indices:
            size = index.upper()
            if size not in defined and size not in sizes:
                sizes[size] = float(DEFAULT_PLATE)
                card.default_line[size] = stmt.line
        for node in stmt.rhs_nodes():
            for sym in _symbols(node):
                if sym.name in defined or sym.name in card.free or sym.name == "pi":
                    continue
                card.free.add(sym.name)
                card.defaults[sym.name] = DEFAULT_VALUE
                card.default_line[sym.name] = stmt.line
    card.defaults = {**sizes, **card.defaults}
    _vector_defaults(card)


def _vector_defaults(card: _Card) -> None:
    """A free concentration or probability vector gets DEFAULT_PLATE equal entries, since a
    scalar cannot be drawn from; `defaults` records the entry."""
    for stmt in card.order:
        position = _VECTOR_ARGUMENT.get(stmt.law or "")
        arg = stmt.args[position] if position is not None else None
        if not isinstance(arg, _Sym) or arg.name not in card.free or arg.name in card.vectors:
            continue
        entry = "1" if stmt.law == "Dirichlet" else f"1/{DEFAULT_PLATE}"
        card.vectors[arg.name] = "[" + ", ".join([entry] * DEFAULT_PLATE) + "]"
        card.defaults[arg.name] = 1.0 if stmt.law == "Dirichlet" else 1.0 / DEFAULT_PLATE


# ---------------------------------------------------------------- writing sim text

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def _precedence(node: object) -> int:
    if isinstance(node, _Bin):
        return _PRECEDENCE[node.op]
    return 3 if isinstance(node, _Neg) else 5


def _emit(node: object, free: set[str]) -> str:
    """Sim-language text with only the parentheses the precedence needs."""
    if isinstance(node, _Num):
        return node.text
    if isinstance(node, _Sym):
        if node.indices and node.name not in free:
            return f"{node.name}[{', '.join(node.indices)}]"
        return node.name
    if isinstance(node, _Call):
        return f"{node.fn}({', '.join(_emit(a, free) for a in node.args)})"
    if isinstance(node, _Neg):
        inner = _emit(node.a, free)
        return f"-({inner})" if _precedence(node.a) <= 4 else f"-{inner}"
    p = _PRECEDENCE[node.op]
    left, right = _emit(node.a, free), _emit(node.b, free)
    if _precedence(node.a) < p or (node.op == "^" and _precedence(node.a) <= p):
        left = f"({left})"
    if _precedence(node.b) < p or (_precedence(node.b) == p and node.op in "-/^"):
        right = f"({right})"
    return f"{left} {node.op} {right}" if p == 1 else f"{left}{node.op}{right}"


def _lhs_text(stmt: _Stmt) -> str:
    if not stmt.indices:
        return stmt.name
    return f"{stmt.name}[{', '.join(stmt.indices)}]"


def _statement_text(stmt: _Stmt, free: set[str]) -> str:
    if stmt.relation == "~":
        args = ", ".join(_emit(a, free) for a in stmt.args)
        return f"{_lhs_text(stmt)} ~ {stmt.law}({args})"
    return f"{_lhs_text(stmt)} = {_emit(stmt.expr, free)}"


def _sim_lines(card: _Card) -> list[tuple[str, int]]:
    """(sim text, note line) of the whole model: plate sizes, defaults, then the statements."""
    lines = [(f"{name} = {card.vectors.get(name) or _format_value(value)}",
              card.default_line[name]) for name, value in card.defaults.items()]
    lines += [(_statement_text(s, card.free), s.line) for s in card.order]
    return lines


def _format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


# ---------------------------------------------------------------- public API

def latex_statements(fields: dict[str, str], field_lines: dict[str, int]) -> list[LatexStatement]:
    """Every `\\sim` / `=` statement of a card's display math, translated or with the reason not."""
    card = _translate(fields, field_lines)
    return [LatexStatement(s.line, s.latex,
                           _statement_text(s, card.free) if s.law or s.expr is not None else None,
                           s.reason, s.name, s.law)
            for s in card.statements]


def model_from_latex(block: CardBlock) -> tuple[ModelSpec | None, list[Diagnostic]]:
    """The model a card states in LaTeX, or None when it states no known-law draw."""
    card = _translate(block.fields, block.field_lines)
    if not any(s.relation == "~" for s in card.order):
        return None, []
    lines = _sim_lines(card)
    text = "\n".join(t for t, _ in lines)
    spec, diagnostics = parse_sim(text, block.path, 1, origin="latex")
    note_line = [line for _, line in lines]
    diagnostics = [replace(d, line=_note_line(note_line, d.line),
                           severity="warning" if d.severity == "error" else d.severity,
                           message=f"{d.message}; the card's math is not simulated "
                                   "(a ```sim block can state the model)")
                   for d in diagnostics]
    if spec is None:
        return None, diagnostics
    for node in [*spec.nodes.values(), *(n for alt in spec.alternatives for n in alt)]:
        node.line = _note_line(note_line, node.line)
    spec.line = min(s.line for s in card.order)
    spec.defaults = dict(card.defaults)
    return spec, diagnostics


def _note_line(note_line: list[int], text_line: int) -> int:
    return note_line[min(max(text_line, 1), len(note_line)) - 1]
