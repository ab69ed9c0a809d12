"""The plain dataclasses that pass between the pipeline's stages.

Every stage takes and returns these, never each other's internals, so a stage can be read,
tested and replaced on its own (vault -> parse -> render -> package/sync; model -> simulate).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Diagnostic:
    """A problem in the user's input, pinned to the line where the user can fix it."""

    path: str
    line: int
    severity: Severity
    message: str
    col: int = 0

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "col": self.col,
                "severity": self.severity, "message": self.message}


def exit_status(diagnostics: list[Diagnostic], strict: bool = False) -> int:
    """The exit status of every command for its diagnostics: 1 when one is an error (or, with
    --strict, a warning), else 0. Usage errors (2) and interrupts (130) are the CLI's own."""
    failing = ("error", "warning") if strict else ("error",)
    return 1 if any(d.severity in failing for d in diagnostics) else 0


@dataclass
class SourceFile:
    """One note file as read from disk.

    `text` has its line endings normalised to ``\\n`` so the parser never has to care about CRLF;
    `newline` remembers what the file used, so writing an ID line back keeps every other byte.
    """

    path: str                    # vault-relative, POSIX separators: the name in diagnostics
    abspath: Path
    text: str
    newline: str = "\n"          # "\n" or "\r\n", as found in the file
    encoding: str = "utf-8"      # "utf-8" or "utf-8-sig" (a BOM is kept on write-back)
    mtime_ns: int = 0
    size: int = 0
    _line_starts: list[int] | None = field(default=None, repr=False, compare=False)

    @property
    def stem(self) -> str:
        """The note's name as Obsidian shows it: file name without extension."""
        return Path(self.path).stem

    def line_starts(self) -> list[int]:
        """Offset in `text` of each line's first character, computed once.

        Summed by `accumulate` over the lines' lengths rather than a find loop: regex notes and
        diagnostics ask for it on every file, and big files have tens of thousands of lines.
        """
        if self._line_starts is None:
            self._line_starts = [0, *accumulate(len(line) + 1 for line in self.text.split("\n"))][:-1]
        return self._line_starts

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset in `text`."""
        return bisect.bisect_right(self.line_starts(), offset)

    def lines(self) -> list[str]:
        return self.text.split("\n")


@dataclass
class CardBlock:
    """A card as the user wrote it: raw markdown fields, before any rendering.

    `fields` maps field name -> raw markdown, in the note type's field order; `field_lines` gives
    the 1-based line where each field's text starts, so render can pin diagnostics.
    `id_insert` is where sync writes an ID line: (1-based line, 0-based column) in `text`;
    for a block note it is the start of the END line (the ID line goes just before it),
    for an inline note the column of ENDI on its line, for a regex note the end of the match.
    """

    path: str
    line: int
    end_line: int
    kind: Literal["block", "inline", "regex"]
    note_type: str
    fields: dict[str, str]
    field_lines: dict[str, int]
    tags: list[str]
    deck: str
    ordinal: int                      # index among this file's cards: part of a card's identity
    anki_id: int | None = None        # from an existing `<!--ID: n-->` / `ID: n` line
    id_line: int | None = None        # where that ID line is
    id_insert: tuple[int, int] | None = None
    frozen: dict[str, str] = field(default_factory=dict)


@dataclass
class Deletion:
    """A `DELETE` + ID request: the user asks for that Anki note to go."""

    path: str
    line: int
    anki_id: int


@dataclass
class ParsedFile:
    """Everything parse learned from one file."""

    source: SourceFile
    blocks: list[CardBlock] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    front_matter: dict = field(default_factory=dict)
    deck: str | None = None           # the file's deck (TARGET DECK / front matter / folder)
    tags: list[str] = field(default_factory=list)   # tags every card of the file gets


@dataclass
class MediaFile:
    """A file shipped with the cards, named by a hash of its content so names never collide."""

    name: str                         # name inside the package / collection media folder
    path: Path | None = None          # read lazily from disk …
    data: bytes | None = None         # … or already in memory (figures)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


@dataclass
class Card:
    """A card ready for Anki: HTML fields, media, tags, deck and a stable identity."""

    block: CardBlock
    note_type: str                    # the user's note type name (e.g. "Basic", "Cloze")
    fields: dict[str, str]            # field name -> HTML
    tags: list[str]
    deck: str
    guid: str
    media: list[MediaFile] = field(default_factory=list)
    content_hash: str = ""            # hash of everything that shapes the note in Anki


@dataclass
class SimStats:
    """What a build's simulations did, summed over cards and files (the export's summary line).
    A file's own stats are cached with its cards; taken from the cache, its figures count as reused."""

    model_cards: int = 0
    figures_rendered: int = 0
    figures_reused: int = 0
    checks_passed: int = 0
    checks_failed: int = 0

    def __add__(self, other: "SimStats") -> "SimStats":
        return SimStats(**{name: getattr(self, name) + getattr(other, name) for name in self.to_dict()})

    def reused(self) -> "SimStats":
        """The same stats with every figure counted as reused, as when the file comes from the cache."""
        return SimStats(self.model_cards, 0, self.figures_reused + self.figures_rendered,
                        self.checks_passed, self.checks_failed)

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> "SimStats":
        return cls(**data)
