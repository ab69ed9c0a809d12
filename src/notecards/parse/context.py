"""What every card of one file shares: its path, deck, file tags and frozen fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from notecards.parse.tags import merge_tags
from notecards.types import CardBlock, Diagnostic, Severity, SourceFile


@dataclass
class FileContext:
    source: SourceFile
    deck: str
    tags: list[str]
    frozen: dict[str, dict[str, str]] = field(default_factory=dict)    # note type -> field -> text
    diagnostics: list[Diagnostic] = field(default_factory=list)
    found: list[tuple[int, int, CardBlock]] = field(default_factory=list)   # (line, col, card)

    @property
    def path(self) -> str:
        return self.source.path

    def report(self, line: int, severity: Severity, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.path, line, severity, message))

    def add_card(self, col: int, card: CardBlock) -> None:
        """Keep a card; its ordinal is given once every kind of note has been found."""
        self.found.append((card.line, col, card))

    def card_tags(self, own: list[str]) -> list[str]:
        """File tags first (as Obsidian_to_Anki adds them), then the card's own."""
        return merge_tags(self.tags, own)

    def frozen_for(self, note_type: str) -> dict[str, str]:
        return dict(self.frozen.get(note_type, {}))
