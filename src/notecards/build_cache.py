"""The per-file cache that makes an unchanged vault cost almost nothing to export again.

A file's finished cards (rendered HTML, media, simulation output) are kept in
`.notecards/cache.sqlite`, keyed by the file's size and mtime, the sizes and mtimes of every file
its cards read (embedded notes, images), and a context key (notecards version, settings, the set of
files in the vault — a new file can make a missing embed resolve). Anything different and the file
is parsed and rendered again. Deleting the folder only costs one slow run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from notecards import __version__
from notecards.export_state import STATE_DIR
from notecards.types import Card, CardBlock, Deletion, Diagnostic, MediaFile, SimStats

_SCHEMA = "create table if not exists files (path text primary key, stamp text not null, data text not null)"


@dataclass
class FileEntry:
    """One file's contribution to a build, as it was last computed."""

    cards: list[Card]
    deletions: list[Deletion]
    diagnostics: list[Diagnostic]
    deps: dict[str, list[int]] = field(default_factory=dict)   # vault-relative path -> [mtime_ns, size]
    sim: SimStats = field(default_factory=SimStats)            # what the file's simulations did

    def to_json(self, vault: Path) -> str:
        return json.dumps({
            "cards": [_card_to_dict(c, vault) for c in self.cards],
            "deletions": [dict(d.__dict__) for d in self.deletions],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "deps": self.deps,
            "sim": self.sim.to_dict(),
        }, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, vault: Path) -> "FileEntry":
        data = json.loads(text)
        return cls(
            cards=[_card_from_dict(c, vault) for c in data["cards"]],
            deletions=[Deletion(**d) for d in data["deletions"]],
            diagnostics=[Diagnostic(**d) for d in data["diagnostics"]],
            deps=data["deps"],
            sim=SimStats.from_dict(data["sim"]),
        )


def _card_to_dict(card: Card, vault: Path) -> dict:
    # a shallow copy is enough (fields hold only str, int, tuples and flat dicts/lists of str);
    # dataclasses.asdict's deep copy was a fifth of a cold run
    block = dict(card.block.__dict__)
    return {
        "block": block, "note_type": card.note_type, "fields": card.fields, "tags": card.tags,
        "deck": card.deck, "guid": card.guid, "content_hash": card.content_hash,
        "media": [[m.name, _vault_relative(m.path, vault)] for m in card.media],
    }


def _vault_relative(path: Path | None, vault: Path) -> str | None:
    """Media paths are stored relative to the vault: the vault may be named by a relative path
    from another working folder next time (or moved), and the cache must still find its files."""
    if path is None:
        return None
    return path.relative_to(vault).as_posix() if path.is_relative_to(vault) else str(path)


def _card_from_dict(data: dict, vault: Path) -> Card:
    block = data["block"]
    if block.get("id_insert") is not None:
        block["id_insert"] = tuple(block["id_insert"])
    return Card(
        block=CardBlock(**block), note_type=data["note_type"], fields=data["fields"], tags=data["tags"],
        deck=data["deck"], guid=data["guid"], content_hash=data["content_hash"],
        media=[MediaFile(name=name, path=vault / path if path else None) for name, path in data["media"]],
    )


def stamp_of(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


class BuildCache:
    """sqlite rows of finished files; only changed rows are written. Read-only for `check`,
    which must write nothing: it still profits from what export stored."""

    def __init__(self, vault: Path, context: str, writable: bool = True):
        self.vault = vault
        self.context = context
        self.writable = writable
        self._path = vault / STATE_DIR / "cache.sqlite"
        self._db: sqlite3.Connection | None = None
        self._rows: dict[str, str] = {}
        if writable:
            self._path.parent.mkdir(exist_ok=True)
        if writable or self._path.exists():
            self._open()

    def _open(self) -> None:
        """Load every row; a damaged cache is dropped (and, when writable, started afresh)."""
        try:
            mode = "rwc" if self.writable else "ro"
            self._db = sqlite3.connect(f"{self._path.resolve().as_uri()}?mode={mode}", uri=True)
            if self.writable:
                self._db.execute(_SCHEMA)
            self._rows = dict(self._db.execute("select path, stamp || char(31) || data from files"))
        except sqlite3.DatabaseError:
            if self._db is not None:
                self._db.close()
            self._db, self._rows = None, {}
            if self.writable:
                self._path.unlink(missing_ok=True)
                self._db = sqlite3.connect(self._path)
                self._db.execute(_SCHEMA)

    def get(self, rel: str) -> FileEntry | None:
        """The entry for `rel` if it and everything it read are unchanged since it was stored."""
        row = self._rows.get(rel)
        if row is None:
            return None
        stamp, _, data = row.partition("\x1f")
        if stamp != self._stamp(rel):
            return None
        try:
            entry = FileEntry.from_json(data, self.vault)
        except (ValueError, KeyError, TypeError):
            return None
        if any(stamp_of(self.vault / dep) != st for dep, st in entry.deps.items()):
            return None
        return entry

    def put(self, rel: str, entry: FileEntry) -> None:
        stamp = self._stamp(rel)
        if stamp is None or self._db is None or not self.writable:
            return
        self._db.execute("insert or replace into files values (?, ?, ?)", (rel, stamp, entry.to_json(self.vault)))

    def forget_missing(self, present: set[str]) -> None:
        if self._db is None or not self.writable:
            return
        gone = [p for p in self._rows if p not in present]
        self._db.executemany("delete from files where path = ?", [(p,) for p in gone])

    def close(self) -> None:
        if self._db is None:
            return
        if self.writable:
            self._db.commit()
        self._db.close()

    def _stamp(self, rel: str) -> str | None:
        st = stamp_of(self.vault / rel)
        return None if st is None else f"{self.context}:{st[0]}:{st[1]}"


# Bumped when what a row holds changes meaning, so rows written by an older notecards are not
# misread (2: media paths relative to the vault; 3: a file's simulation stats summed, not per card).
_FORMAT = "4"


def context_key(settings_repr: str, files: list[str]) -> str:
    h = hashlib.sha256(f"{__version__}:{_FORMAT}".encode())
    h.update(settings_repr.encode())
    h.update("\n".join(files).encode())
    return h.hexdigest()[:16]
