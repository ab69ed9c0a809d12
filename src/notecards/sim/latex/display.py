"""Find the display math of a markdown field: the only place a card states a model.

A card's prose math (``$…$``, ``\\(…\\)``) names things in passing, and math inside code is an
example rather than a statement, so only ``$$…$$`` and ``\\[…\\]`` outside code are read. Offsets
index the original text, so a statement found later can be pinned to its note line.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(?:[-*+>]\s+|\d+[.)]\s+)*(`{3,}|~{3,})")

# (opener, closer, is display math) of the paired delimiters; an unclosed one ends the search.
_PAIRED = (("\\[", "\\]", True), ("\\(", "\\)", False), ("$$", "$$", True))


def display_math(text: str, inline: bool = False) -> list[tuple[int, str]]:
    """(offset, content) of every display-math span of a markdown text, in order; with `inline`,
    of every inline-math span (``$…$``, ``\\(…\\)``) instead."""
    masked = _mask_code(text)
    spans: list[tuple[int, str]] = []
    i = 0
    while i < len(masked):
        pair = next((p for p in _PAIRED if masked.startswith(p[0], i)), None)
        if pair is not None:
            opener, closer, is_display = pair
            start = i + len(opener)
            end = _closing(masked, closer, start)
            if end == -1:
                break
            if is_display != inline:
                spans.append((start, text[start:end]))
            i = end + len(closer)
        elif masked[i] == "\\":
            i += 2
        elif masked[i] == "$":
            end = _closing(masked, "$", i + 1, same_line=True)
            if inline and end != -1:
                spans.append((i + 1, text[i + 1:end]))
            i = i + 1 if end == -1 else end + 1
        else:
            i += 1
    return spans


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
