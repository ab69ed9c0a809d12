"""Finding headings and sections in a note's text, the way Obsidian's links see them.

Headings inside fenced code and front matter are not headings. Both are found by parse's own
rules, so a card's context and an embedded section see the note as the parser does. A section is
a heading line and everything up to the next heading of the same or a higher level (fewer `#`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.parse.fences import Fence, closes_fence, opening_fence
from notecards.parse.frontmatter import front_matter_end

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_LINK_NOISE = re.compile(r"[\[\]|#^:\\]")
_SPACES = re.compile(r"\s+")
_BLOCK_ID = re.compile(r"\s\^([\w-]+)\s*$")


@dataclass(frozen=True)
class Heading:
    line: int      # 0-based line index in the text
    level: int
    text: str


@dataclass(frozen=True)
class Section:
    text: str
    first_line: int   # 1-based line of the section's first line in the note


def headings(lines: list[str], start: int = 0, stop: int | None = None) -> list[Heading]:
    """The headings among lines[start:stop], skipping fenced code."""
    found: list[Heading] = []
    fence: Fence | None = None
    for i in range(start, len(lines) if stop is None else min(stop, len(lines))):
        line = lines[i]
        if fence is not None:
            if closes_fence(line, fence):
                fence = None
            continue
        fence = opening_fence(line)
        if fence is not None:
            continue
        match = _HEADING.match(line)
        if match:
            found.append(Heading(i, len(match.group(1)), match.group(2).strip()))
    return found


def link_key(heading: str) -> str:
    """Obsidian matches `[[note#Heading]]` ignoring case, link syntax characters and spacing."""
    return _SPACES.sub(" ", _LINK_NOISE.sub(" ", heading)).strip().casefold()


def whole_note(text: str) -> Section:
    lines = text.split("\n")
    start = front_matter_end(lines)
    return Section("\n".join(lines[start:]), start + 1)


def find_section(text: str, heading: str) -> Section | None:
    """The section under `heading` (or the paragraph holding block `^id`), or None.

    `A#B` is Obsidian's nested heading link: heading B within the section of heading A (at any
    depth below it), and so on for `A#B#C`."""
    lines = text.split("\n")
    if heading.startswith("^"):
        return _block(lines, heading[1:])
    lo, hi = front_matter_end(lines), len(lines)
    found: Heading | None = None
    for part in (p for p in heading.split("#") if p.strip()):
        within = headings(lines, lo, hi)
        key = link_key(part)
        n = next((n for n, h in enumerate(within) if link_key(h.text) == key), None)
        if n is None:
            return None
        found = within[n]
        hi = next((later.line for later in within[n + 1:] if later.level <= found.level), hi)
        lo = found.line + 1
    if found is None:
        return None
    return Section("\n".join(lines[found.line:hi]).rstrip("\n"), found.line + 1)


def _block(lines: list[str], block_id: str) -> Section | None:
    for i, line in enumerate(lines):
        match = _BLOCK_ID.search(line)
        if match and match.group(1) == block_id:
            first = i
            while first > 0 and lines[first - 1].strip():
                first -= 1
            body = lines[first:i] + [line[:match.start()]]
            return Section("\n".join(body), first + 1)
    return None
