"""Cut a field's display math into candidate statements, each pinned to its note line.

Cards pack several statements into one formula — rows of an ``aligned`` block, or
``\\theta \\sim N(0, 1), \\quad X \\sim N(\\theta, 1)`` on one row — while a comma can just as well
sit inside one statement (``y_i \\mid \\theta_j, \\sigma^2 \\sim …``, ``j = 1, \\ldots, J``). Rows
split at ``\\\\``; a row splits at top-level commas, ``\\quad`` and prose ``\\text{ for }`` only
where both sides state something, so the second kind stays whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from notecards.sim.latex.display import display_math
from notecards.sim.latex.tokens import Tok, clean_layout, depth_step, tokens, top_level

RELATIONS = frozenset({"\\sim", "="})
_SEPARATORS = {",", ";", "\\quad", "\\qquad", "\\forall"}
_PROSE_WORDS = {"for", "where", "and", "with", "iid", "i.i.d.", "ind", "indep", "if", "s.t.",
                "all", "each", "otherwise", "independently", "i.i.d"}


@dataclass
class Piece:
    """A candidate statement: its tokens and where it is in the note."""

    line: int
    latex: str
    toks: list[Tok]
    clean: str          # the row text the token offsets point into


def pieces(text: str, first_line: int, inline: bool = False) -> list[Piece]:
    """Every candidate statement of one field's display math (or, with `inline`, its inline
    math), with its note line."""
    found: list[Piece] = []
    for offset, content in display_math(text, inline):
        clean = clean_layout(content)
        row_start = 0
        for row in re.split(r"\\\\", clean):
            for toks in _split_statements(tokens(row)):
                start, end = toks[0].start, toks[-1].end
                line = first_line + text.count("\n", 0, offset + row_start + start)
                latex = content[row_start + start:row_start + end].strip()
                found.append(Piece(line, latex, _shift(toks, row_start), clean))
            row_start += len(row) + 2
    return found


def has_relation(toks: list[Tok]) -> bool:
    """Whether the tokens state something: a top-level `\\sim` or `=`."""
    return bool(top_level(toks, RELATIONS))


def _split_statements(toks: list[Tok]) -> list[list[Tok]]:
    """Split a row at top-level separators, then glue back parts that state nothing
    (with their separator, so `j = 1, \\ldots, J` stays a range); every part returned states
    something."""
    merged: list[list[Tok]] = []
    pending: list[Tok] = []
    for part in _split_at_separators(toks):
        if merged and not pending and not has_relation(part):
            merged[-1] = merged[-1] + part
            continue
        body = part[1:] if part and _is_separator(part, 0) else part
        pending = pending + (part if pending else body)
        if has_relation(pending):
            merged.append(pending)
            pending = []
    for part in merged:
        while part and (part[-1].text == "." or _is_separator(part, len(part) - 1)):
            part.pop()
    return merged


def _split_at_separators(toks: list[Tok]) -> list[list[Tok]]:
    """The parts between top-level separators, each after the first starting with its separator."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for k, tok in enumerate(toks):
        depth = depth_step(tok, depth)
        if depth == 0 and _is_separator(toks, k):
            parts.append([tok])
        else:
            parts[-1].append(tok)
    return parts


def _is_separator(toks: list[Tok], k: int) -> bool:
    """A top-level comma, `\\quad`, or prose `\\text{ for }` between two statements."""
    tok = toks[k]
    if tok.text in _SEPARATORS:
        return True
    if tok.kind != "word" or not tok.text.startswith(("\\text", "\\mbox")):
        return False
    follows_bracket = k + 1 < len(toks) and toks[k + 1].text in ("(", "[")
    content = tok.value
    return not follows_bracket and (content != content.strip() or " " in content.strip()
                                    or content.strip().lower() in _PROSE_WORDS)


def _shift(toks: list[Tok], by: int) -> list[Tok]:
    """Tokens of a row with offsets moved to index the whole cleaned formula."""
    return [replace(t, start=t.start + by, end=t.end + by) for t in toks]
