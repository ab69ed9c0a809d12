"""Translate an Obsidian_to_Anki custom regex (JavaScript syntax, flags "gm") to Python.

Patterns are compiled with the `regex` package rather than `re`: it takes a `timeout=` on every
search, so a setting with catastrophic backtracking (`(a|aa)+$`) gives up after
`SEARCH_TIMEOUT` seconds instead of hanging the tool, and it has JavaScript's variable-width
lookbehind, which `re` lacks. Its default (VERSION0) syntax is `re`'s.

Most of the syntax is shared; what differs and is translated here:
- `\\d`, `\\w` (and `\\D`, `\\W` outside classes) are ASCII-only in JavaScript, Unicode in Python;
- named groups `(?<name>…)` and `\\k<name>` are `(?P<name>…)` and `(?P=name)` in Python;
- `[^]` (any character) and `[]` (nothing) exist only in JavaScript;
- an escaped letter JavaScript does not know (`\\e`, `\\A`, `\\Z`) is that letter, while Python
  either rejects it or gives it a meaning;
- a `{` that does not start a quantifier is a literal (Python 3.11 would read `{,3}` as one);
- inside a class, `[` and doubled `&&`, `||`, `~~`, `--` are literals (Python warns about them).
What still fails to compile is reported against the settings file by config.py.
"""

from __future__ import annotations

import re

import regex

SEARCH_TIMEOUT = 2.0          # seconds one custom regex may search one file


def compile_js(pattern: str, suffix: str = "") -> regex.Pattern:
    """`pattern` (JavaScript) + `suffix` (already Python) as a multi-line pattern.

    Raises ValueError (a lone backslash) or regex.error (anything else that does not compile)."""
    return regex.compile(to_python(pattern) + suffix, regex.MULTILINE)

_QUANTIFIER = re.compile(r"\{\d+(?:,\d*)?\}")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_NAME = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")
_KEPT_ESCAPES = set("sSbBnrtvf")
_ASCII_WORD = "a-zA-Z0-9_"


def to_python(pattern: str) -> str:
    """The Python pattern (to compile multi-line) matching what `pattern` matches in JavaScript."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            piece, i = _escape(pattern, i, in_class)
            out.append(piece)
        elif in_class:
            piece, in_class = _class_char(pattern, i)
            out.append(piece)
            i += 1
        elif ch == "[":
            piece, i, in_class = _open_class(pattern, i)
            out.append(piece)
        elif pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
        elif ch == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            out.append(quantifier.group() if quantifier else r"\{")
            i = quantifier.end() if quantifier else i + 1
        elif ch == "}":
            out.append(r"\}")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """One `\\x` escape at `i` -> (Python text, index after it)."""
    if i + 1 >= len(pattern):
        raise ValueError("the pattern ends with a lone backslash")
    nxt = pattern[i + 1]
    if nxt == "d":
        return ("0-9" if in_class else "[0-9]"), i + 2
    if nxt == "w":
        return (_ASCII_WORD if in_class else f"[{_ASCII_WORD}]"), i + 2
    if nxt == "D" and not in_class:
        return "[^0-9]", i + 2
    if nxt == "W" and not in_class:
        return f"[^{_ASCII_WORD}]", i + 2
    if nxt == "k":
        name = _NAME.match(pattern, i + 2)
        if name:
            return f"(?P={name.group(1)})", name.end()
        return "k", i + 2
    if nxt == "c" and i + 2 < len(pattern) and pattern[i + 2].isalpha():
        return f"\\x{ord(pattern[i + 2].upper()) % 32:02x}", i + 3
    if nxt in "xu":
        width = 2 if nxt == "x" else 4
        digits = pattern[i + 2:i + 2 + width]
        if len(digits) == width and _HEX.fullmatch(digits):
            return pattern[i:i + 2 + width], i + 2 + width
        return nxt, i + 2                 # JS reads a malformed \x / \u as the letter
    if nxt == "0" and not pattern[i + 2:i + 3].isdigit():
        return r"\x00", i + 2
    if nxt.isdigit() or nxt in _KEPT_ESCAPES or nxt in "DW":
        return pattern[i:i + 2], i + 2
    if nxt.isalpha():
        return nxt, i + 2                 # identity escape of a letter JS has no meaning for
    return pattern[i:i + 2], i + 2


def _open_class(pattern: str, i: int) -> tuple[str, int, bool]:
    """A `[` outside a class -> (Python text, next index, whether a class is now open)."""
    if pattern.startswith("[^]", i):
        return r"[\s\S]", i + 3, False
    if pattern.startswith("[]", i):
        return "(?!)", i + 2, False
    if pattern.startswith("[^", i):
        return "[^", i + 2, True
    return "[", i + 1, True


def _class_char(pattern: str, i: int) -> tuple[str, bool]:
    """One character inside a class -> (Python text, whether the class is still open)."""
    ch = pattern[i]
    if ch == "]":
        return "]", False
    if ch == "[":
        return r"\[", True
    if ch in "&|~-" and i > 0 and pattern[i - 1] == ch:
        return "\\" + ch, True
    return ch, True
