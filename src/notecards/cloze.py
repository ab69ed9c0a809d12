"""What makes a note a cloze note, shared by parse, render and the note types.

Kept free of imports so the parser can ask without loading markdown-it or genanki.
"""

from __future__ import annotations

import re

# Anki's own deletion syntax, `{{c1::text}}` or `{{c1::text::hint}}`
ANKI_CLOZE = re.compile(r"\{\{c\d+::[\s\S]+?\}\}")


def is_cloze_type(note_type: str) -> bool:
    """Obsidian_to_Anki treats a note type as cloze when its name says so; so does notecards."""
    return "cloze" in note_type.lower()
