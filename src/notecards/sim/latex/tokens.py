"""Cut a row of LaTeX math into tokens, the unit every later stage of the LaTeX reader works on.

LaTeX spells one thing many ways (``\\mathrm{Beta}``, ``\\text{Beta}``; ``\\varepsilon``, ``ε``;
``\\left(``, ``(``), so tokens carry a normalised `value` next to the text as written, and pure
layout (spacing, sizing, environments, labels) is dropped here so no later stage meets it.
Offsets are kept through every cleaning step: a statement's LaTeX is quoted back to the user as
a slice of what they wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.sim.expr import GREEK

GREEK_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi",
                  "varrho": "rho", "varsigma": "sigma", "varpi": "pi", "varkappa": "kappa",
                  "ell": "l"}
_SPACING = {"\\,", "\\;", "\\:", "\\!", "\\ ", "~", "&"}
_IGNORED_COMMANDS = {"\\left", "\\right", "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigl",
                     "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\displaystyle",
                     "\\textstyle", "\\nonumber", "\\notag", "\\limits"}
_OPENERS = ("(", "[", "{", "\\{")
_CLOSERS = (")", "]", "}", "\\}")

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
_NULL_DELIMITER = re.compile(r"\\(?:left|right)\s*\.")
_ROW_BREAK_SPACING = re.compile(r"\\\\\s*\[[^\]]*\]")


@dataclass(frozen=True)
class Tok:
    kind: str          # word, cal, cmd, esc, num, letter, punct
    text: str          # as written
    value: str         # normalised: word/cal content, Greek name, digit string …
    start: int
    end: int


def clean_layout(latex: str) -> str:
    """Remove layout-only markup, keeping every offset so slices of the original still line up.

    ``\\stackrel{iid}{\\sim}`` and ``:=`` become plain ``\\sim`` and ``=`` here as well."""
    latex = _ENVIRONMENT.sub(_blank, latex)
    latex = _LABEL.sub(_blank, latex)
    latex = _OVERSET.sub(lambda m: m.group(1).ljust(len(m.group(0))), latex)
    latex = _DEFINES.sub(lambda m: "=".rjust(len(m.group(0))), latex)
    latex = _NULL_DELIMITER.sub(_blank, latex)
    return _ROW_BREAK_SPACING.sub(lambda m: "\\\\".ljust(len(m.group(0))), latex)


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def tokens(text: str) -> list[Tok]:
    """The meaningful tokens of `text`, with offsets into it; spacing and sizing are dropped."""
    toks: list[Tok] = []
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
            value = GREEK_VARIANTS.get(raw[1:], raw[1:])
        elif kind == "punct" and raw in GREEK:
            kind, value = "letter", GREEK[raw]
        else:
            value = raw
        toks.append(Tok(kind, raw, value, m.start(), m.end()))
    return toks


def depth_step(tok: Tok, depth: int) -> int:
    """The bracket depth after `tok`, for finding what sits at the top level."""
    if tok.text in _OPENERS:
        return depth + 1
    if tok.text in _CLOSERS:
        return depth - 1
    return depth


def top_level(toks: list[Tok], texts: set[str]) -> list[int]:
    """Positions of the tokens written as one of `texts` outside every bracket."""
    found, depth = [], 0
    for k, tok in enumerate(toks):
        depth = depth_step(tok, depth)
        if depth == 0 and tok.text in texts:
            found.append(k)
    return found


def split_at(toks: list[Tok], positions: list[int]) -> list[list[Tok]]:
    """The runs of tokens between `positions`, the tokens at them left out."""
    bounds = [-1, *positions, len(toks)]
    return [toks[a + 1:b] for a, b in zip(bounds, bounds[1:])]


def split_commas(toks: list[Tok]) -> list[list[Tok]]:
    """The comma-separated items of a list, commas inside brackets kept."""
    return split_at(toks, top_level(toks, {","}))
