"""The ID line Obsidian_to_Anki writes: `<!--ID: 1566052191670-->`, or bare `ID: 1566052191670`.

Only a line holding nothing but the ID counts (spaces around it are fine), so prose that happens to
mention "ID: 5" is never read as an Anki note id.
"""

from __future__ import annotations

import re

_ID_LINE = re.compile(r"\s*(?:<!--\s*)?ID:\s*(\d+)\s*(?:-->)?\s*")
# inside an inline note the ID is the last thing before ENDI, as Obsidian_to_Anki writes it;
# "Patient ID: 123" earlier in the question is text
INLINE_ID = re.compile(r"(?<!\S)(?:<!--\s*)?ID:\s*(\d+)\s*(?:-->)?\s*$")


def id_of_line(line: str) -> int | None:
    """The note id on an ID line, or None when the line is not an ID line."""
    if "ID:" not in line:
        return None
    match = _ID_LINE.fullmatch(line)
    return int(match.group(1)) if match else None
