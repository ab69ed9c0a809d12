"""The card syntax's keywords for one vault (Obsidian_to_Anki lets a vault rename all eight)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.config import Syntax


@dataclass(frozen=True)
class Keywords:
    begin: str
    end: str
    begin_inline: str
    end_inline: str
    target_deck: str
    file_tags: str
    delete: str
    frozen: str

    @classmethod
    def from_syntax(cls, syntax: Syntax) -> "Keywords":
        return cls(*(getattr(syntax, name).strip() for name in
                     ("begin_note", "end_note", "begin_inline", "end_inline",
                      "target_deck", "file_tags", "delete", "frozen")))

    def line_keywords(self) -> tuple[str, ...]:
        """Keywords that only count at the start of a line."""
        return (self.begin, self.end, self.target_deck, self.file_tags, self.delete, self.frozen)

    def first_chars(self) -> frozenset[str]:
        """First characters of keyword and fence lines: any other line is prose, skipped at once."""
        return frozenset(k[0] for k in self.line_keywords() if k) | frozenset("`~ \t")

    def inline_pattern(self) -> re.Pattern:
        """`STARTI … ENDI` on one line; keywords made of letters must stand as whole words."""
        before = r"(?<!\w)" if self.begin_inline[:1].isalnum() else ""
        after_end = r"(?!\w)" if self.end_inline[-1:].isalnum() else ""
        before_end = r"(?<!\w)" if self.end_inline[:1].isalnum() else ""
        return re.compile(before + re.escape(self.begin_inline) + r"(.*?)" + before_end
                          + re.escape(self.end_inline) + after_end)

    def names(self, line_word: str, keyword: str) -> bool:
        """Whether a (right-stripped) line is `KEYWORD` or `KEYWORD: value`."""
        return line_word == keyword or line_word.startswith(keyword + ":")
