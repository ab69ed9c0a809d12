"""A note type's field names as the card syntax uses them: `Back:` switches field, `Bakc:` is a typo.

A line starting with `Field:` (case as the note type spells it, at the start of the line) switches
to that field, as in Obsidian_to_Anki. A line whose prefix only *looks like* a field name (same
first letter and close spelling, or a different case) is kept as text of the current field, with a
warning; ordinary prose such as `Example: …` or `Note: …` is far from every field name and is left
alone.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_LABEL = re.compile(r"([A-Za-z][A-Za-z0-9 _()'-]{0,39}):(?:\s|$)")
_SIMILAR = 0.75                      # "Bakc" vs "Back"; "Next" vs "Text" is kept out by the first letter


class FieldSpec:
    """The fields of one note type, with the lookups the parsers need precompiled."""

    def __init__(self, note_type: str, names: list[str]):
        self.note_type = note_type
        self.names = list(names)
        self.prefixes = tuple(f"{name}:" for name in self.names)
        self._by_lower = {name.lower(): name for name in self.names}
        by_length = sorted(self.names, key=len, reverse=True)
        self.inline_marker = re.compile(
            r"(?<!\S)(" + "|".join(re.escape(n) for n in by_length) + r"):(?!\S)")

    def switch(self, line: str) -> tuple[str, str] | None:
        """(field, rest of the line) when the line starts with `Field:`."""
        if not line.startswith(self.prefixes):
            return None
        for name, prefix in zip(self.names, self.prefixes):
            if line.startswith(prefix):
                return name, line[len(prefix):]
        return None

    def lookalike(self, line: str) -> str | None:
        """The field a line's `Label:` was probably meant to name, or None for ordinary text."""
        if ":" not in line[:42]:
            return None
        match = _LABEL.match(line)
        if match is None:
            return None
        label = match.group(1).lower()
        if label in self._by_lower:
            return self._by_lower[label]
        for name in self.names:
            low = name.lower()
            if (low[0] == label[0] and abs(len(low) - len(label)) <= 2
                    and SequenceMatcher(None, label, low).ratio() >= _SIMILAR):
                return name
        return None
