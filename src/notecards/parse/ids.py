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


MAX_NOTE_ID = 2**63 - 1  # Anki's note ids are signed 64-bit integers


def id_of_line(line: str) -> int | None:
    """The note id on an ID line, or None when the line is not an ID line. An id thousands of
    digits long is read by its first 20 significant digits (already beyond `MAX_NOTE_ID`), never
    converted whole: the pipeline reports any id outside Anki's range at its line."""
    if "ID:" not in line:
        return None
    match = _ID_LINE.fullmatch(line)
    return id_number(match.group(1)) if match else None


def id_number(digits: str) -> int:
    significant = digits.lstrip("0") or "0"
    return int(significant[:20])


def is_note_id(number: int | None) -> bool:
    """Whether Anki can hold this id."""
    return number is not None and 0 < number <= MAX_NOTE_ID
