"""Finding headings and sections in a note's text, the way Obsidian's links see them.

Headings inside fenced code and front matter are not headings. A section is a heading line and
everything up to the next heading of the same or a higher level (fewer `#`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
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


def front_matter_end(lines: list[str]) -> int:
    """Index of the first line after a YAML (`---`) or TOML (`+++`) front matter, else 0."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return 0
    marker = lines[0].strip()
    for i in range(1, len(lines)):
        if lines[i].strip() == marker:
            return i + 1
    return 0


def headings(lines: list[str], start: int = 0, stop: int | None = None) -> list[Heading]:
    """The headings among lines[start:stop], skipping fenced code."""
    found: list[Heading] = []
    fence: str | None = None
    for i in range(start, len(lines) if stop is None else min(stop, len(lines))):
        line = lines[i]
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
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
    """The section under `heading` (or the paragraph holding block `^id`), or None."""
    lines = text.split("\n")
    if heading.startswith("^"):
        return _block(lines, heading[1:])
    start = front_matter_end(lines)
    all_headings = headings(lines, start)
    key = link_key(heading)
    for n, h in enumerate(all_headings):
        if link_key(h.text) == key:
            end = next((later.line for later in all_headings[n + 1:] if later.level <= h.level),
                       len(lines))
            return Section("\n".join(lines[h.line:end]).rstrip("\n"), h.line + 1)
    return None


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
