"""A file's deck and tags.

Deck, first found wins: the file's first `TARGET DECK` (later ones are warned about and ignored),
front-matter `deck:`, the longest matching folder of FOLDER_DECKS, the default deck.
Tags, all of them, in this order: the default tags, the longest matching folder of FOLDER_TAGS,
`FILE TAGS` and front-matter `tags:` (or `tag:`), each normalised (`#a/b` -> `a::b`).
`TARGET DECK: Name` / `FILE TAGS: a b` on one line, or the keyword alone and the value on the
next line, as in Obsidian_to_Anki.
"""

from __future__ import annotations

from notecards.config import Settings
from notecards.parse.compiled import Compiled, for_folder
from notecards.parse.deletions import is_delete_line
from notecards.parse.frontmatter import FrontMatter
from notecards.parse.keywords import Keywords
from notecards.parse.tags import merge_tags, split_tags, tags_from_value
from notecards.types import Diagnostic


def value_line(lines: list[str], index: int, kw: Keywords) -> int | None:
    """Index of the line holding the value of a bare `TARGET DECK` / `FILE TAGS` at `index`, or None.

    Obsidian_to_Anki reads the next line whatever it is; when that line is card syntax (START, an
    inline note, another keyword) it is kept as such, so a card never becomes a deck name.
    """
    if index + 1 >= len(lines):
        return None
    word = lines[index + 1].rstrip()
    if (word in (kw.begin, kw.end) or kw.names(word, kw.target_deck) or kw.names(word, kw.file_tags)
            or is_delete_line(word, kw.delete) or word.startswith(kw.frozen + " - ") or kw.begin_inline in word):
        return None
    return index + 1


def keyword_value(lines: list[str], index: int, keyword: str, kw: Keywords) -> tuple[str, int]:
    """-> (the value, index of the line it was on)."""
    word = lines[index].rstrip()
    if word == keyword:
        found = value_line(lines, index, kw)
        return (lines[found].strip(), found) if found is not None else ("", index)
    return word[len(keyword) + 1:].strip(), index


class FileSettings:
    """TARGET DECK and FILE TAGS of one file, and the line ranges they take."""

    def __init__(self, path: str, lines: list[str], deck_lines: list[int], tag_lines: list[int],
                 compiled: Compiled):
        self.diagnostics: list[Diagnostic] = []
        self.ranges: list[tuple[int, int]] = []
        kw = compiled.keywords
        self.target_deck = self._first(path, lines, deck_lines, kw.target_deck, kw)
        tags = self._first(path, lines, tag_lines, kw.file_tags, kw)
        self.file_tags = split_tags(tags) if tags else []

    def _first(self, path: str, lines: list[str], indexes: list[int], keyword: str, kw: Keywords) -> str | None:
        found = None
        for index in indexes:
            value, last = keyword_value(lines, index, keyword, kw)
            self.ranges.append((index, last))
            if not value:
                self.diagnostics.append(Diagnostic(path, index + 1, "warning", f"{keyword} without a value; ignored"))
            elif found is None:
                found = (value, index)
            else:
                self.diagnostics.append(Diagnostic(
                    path, index + 1, "warning",
                    f"only the first {keyword} of a file counts (line {found[1] + 1}); this one is ignored"))
        return found[0] if found else None


def file_deck(path: str, target_deck: str | None, front: FrontMatter, compiled: Compiled, settings: Settings) -> str:
    if target_deck:
        return target_deck
    deck = front.data.get("deck")
    if deck is not None and str(deck).strip():
        return str(deck).strip()
    return for_folder(compiled.folder_decks, path) or settings.default_deck


def file_tags(path: str, tags: list[str], front: FrontMatter, compiled: Compiled) -> list[str]:
    folder = for_folder(compiled.folder_tags, path) or []
    front_tags = tags_from_value(front.data.get("tags", front.data.get("tag")))
    return merge_tags(compiled.default_tags, folder, tags, front_tags)
