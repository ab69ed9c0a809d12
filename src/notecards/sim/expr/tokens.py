"""The expression tokenizer: a statement's text -> `Token`s, with Greek letters spelled out
(θ -> theta) and superscripts ² ³ read as ^2 ^3, so a statement copied from rendered math still
parses."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
