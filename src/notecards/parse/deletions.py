"""`DELETE` + an ID line: the user asks for that Anki note to be deleted.

As in Obsidian_to_Anki the ID goes on the line after `DELETE` (or right after it on the same line).
A `DELETE` with no ID is a warning: there is nothing to delete, and the line stays prose.
"""

from __future__ import annotations

from notecards.parse.context import FileContext
from notecards.parse.ids import id_of_line
from notecards.types import Deletion


def is_delete_line(word: str, keyword: str) -> bool:
    """`DELETE` alone, or `DELETE` followed by an ID on the same line."""
    if not word.startswith(keyword):
        return False
    return word == keyword or id_of_line(word[len(keyword):]) is not None


def read_deletion(ctx: FileContext, lines: list[str], index: int, keyword: str) -> tuple[Deletion | None, int]:
    """-> (the deletion or None, index of the last line it uses)."""
    same_line = id_of_line(lines[index].rstrip()[len(keyword):])
    if same_line is not None:
        return Deletion(ctx.path, index + 1, same_line), index
    anki_id = id_of_line(lines[index + 1]) if index + 1 < len(lines) else None
    if anki_id is None:
        ctx.report(index + 1, "warning", f"{keyword} needs the ID line of the note to delete right below it; ignored")
        return None, index
    return Deletion(ctx.path, index + 1, anki_id), index + 1
