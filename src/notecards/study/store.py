"""The replay cache, `.notecards/study.sqlite`: derived from the history files, never the truth.

It holds every valid event read so far (so one card can be replayed alone), each card's replayed
state, and for each history file the size, mtime and sha256 of the prefix already read, so a
warm start reads only what the files gained. Deleting it only costs one full replay; a damaged
or foreign database is dropped and rebuilt. When `.notecards/` cannot be written the same cache
lives in memory for the session.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from notecards.study.events import Event, card_id
from notecards.study.schedule import CardState
from notecards.types import Diagnostic

FORMAT = "1"
_SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists files (name text primary key, size int, mtime int, consumed int, lines int,
                                  sha text, diagnostics text);
create table if not exists events (id text primary key, file text, lineno int, guid text, ord int, kind text,
                                   device text, seq int, line text);
create index if not exists events_card on events (guid, ord);
create index if not exists events_device on events (device, seq);
create table if not exists states (card text primary key, data text not null);
"""


@dataclass
class FileRow:
    size: int
    mtime: int
    consumed: int
    lines: int
    sha: str
    diagnostics: list[Diagnostic]


class Store:
    def __init__(self, path: Path | None):
        """`path` None keeps the cache in memory (a read-only `.notecards/`)."""
        self.path = path
        self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self.path is None:
            return self._init(sqlite3.connect(":memory:"))
        try:
            self.path.parent.mkdir(exist_ok=True)
            return self._init(sqlite3.connect(self.path))
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)
        except OSError:
            return self._init(sqlite3.connect(":memory:"))
        try:
            return self._init(sqlite3.connect(self.path))
        except (sqlite3.DatabaseError, OSError):
            return self._init(sqlite3.connect(":memory:"))

    @staticmethod
    def _init(db: sqlite3.Connection) -> sqlite3.Connection:
        db.execute("pragma journal_mode=wal")
        db.execute("pragma synchronous=off")        # a cache: a lost commit is re-read from the files
        db.executescript(_SCHEMA)
        return db

    def meta(self, key: str) -> str | None:
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("insert or replace into meta values (?, ?)", (key, value))

    def clear(self) -> None:
        for table in ("meta", "files", "events", "states"):
            self.db.execute(f"delete from {table}")

    def file(self, name: str) -> FileRow | None:
        row = self.db.execute("select size, mtime, consumed, lines, sha, diagnostics from files where name = ?",
                              (name,)).fetchone()
        if row is None:
            return None
        return FileRow(*row[:5], [Diagnostic(**d) for d in json.loads(row[5])])

    def file_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("select name from files")]

    def put_file(self, name: str, row: FileRow) -> None:
        self.db.execute("insert or replace into files values (?, ?, ?, ?, ?, ?, ?)",
                        (name, row.size, row.mtime, row.consumed, row.lines, row.sha,
                         json.dumps([d.to_dict() for d in row.diagnostics])))

    def forget_file(self, name: str) -> set[tuple[str, int]]:
        """Drop a file's events (it vanished or was rewritten); the cards they touched."""
        cards = {(g, o) for g, o in self.db.execute("select guid, ord from events where file = ?", (name,))}
        self.db.execute("delete from events where file = ?", (name,))
        self.db.execute("delete from files where name = ?", (name,))
        return cards

    def add_events(self, file: str, events: Iterable[Event], line_of: dict[str, int] | None = None) -> list[Event]:
        """Store the events not already known (by id); the new ones, in the order given."""
        new = []
        for event in events:
            cur = self.db.execute("insert or ignore into events values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                  (event.id, file, (line_of or {}).get(event.id, 0), event.guid, event.ord,
                                   event.type, event.device, event.seq, event.to_line()))
            if cur.rowcount:
                new.append(event)
        return new

    def events_of(self, guids: Iterable[str], ordinal: int) -> list[Event]:
        guids = list(guids)
        marks = ",".join("?" * len(guids))
        rows = self.db.execute(f"select line from events where guid in ({marks}) and ord = ?", (*guids, ordinal))
        return [Event.from_dict(json.loads(line)) for (line,) in rows]

    def has_guid(self, guid: str) -> bool:
        return self.db.execute("select 1 from events where guid = ? and kind != 'alias' limit 1",
                               (guid,)).fetchone() is not None

    def unused_cards(self, present: set[str], alias: dict[str, str], folder: str) -> list[Diagnostic]:
        """A warning at the first line of each card the history has and the vault does not."""
        rows = self.db.execute("select guid, ord, file, min(lineno), count(*) from events "
                               "where kind not in ('alias') group by guid, ord")
        out = []
        for guid, ordinal, file, line, count in rows:
            if card_id(alias.get(guid, guid), ordinal) in present:
                continue
            out.append(Diagnostic(f"{folder}/{file}", line, "warning",
                                  f"card {guid} (card {ordinal} of its note) is not in the vault; its {count} "
                                  "events are kept, unused until it comes back"))
        return out

    def max_seq(self, device: str) -> int:
        row = self.db.execute("select max(seq) from events where device = ?", (device,)).fetchone()
        return row[0] or 0

    def aliases(self) -> list[Event]:
        return [Event.from_dict(json.loads(line))
                for (line,) in self.db.execute("select line from events where kind = 'alias'")]

    def card_keys(self) -> set[tuple[str, int]]:
        return {(g, o) for g, o in self.db.execute("select distinct guid, ord from events where kind != 'alias'")}

    def states(self) -> dict[str, CardState]:
        return {card: CardState.from_dict(json.loads(data))
                for card, data in self.db.execute("select card, data from states")}

    def put_states(self, states: dict[str, CardState]) -> None:
        self.db.executemany("insert or replace into states values (?, ?)",
                            [(card, json.dumps(s.to_dict())) for card, s in states.items()])

    def drop_states(self, cards: Iterable[str]) -> None:
        self.db.executemany("delete from states where card = ?", [(c,) for c in cards])

    def commit(self) -> None:
        try:
            self.db.commit()
        except sqlite3.DatabaseError:
            self.db.rollback()

    def close(self) -> None:
        self.commit()
        self.db.close()
