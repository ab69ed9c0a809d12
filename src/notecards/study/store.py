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

from notecards.study.events import Event
from notecards.study.schedule import CardState
from notecards.types import Diagnostic

FORMAT = "1"
_SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists files (name text primary key, size int, mtime int, consumed int, lines int,
                                  sha text, diagnostics text);
create table if not exists events (id text primary key, file text, lineno int, guid text, ord int, kind text,
                                   device text, seq int, line text, time real, rating int, undoes text);
create index if not exists events_card on events (guid, ord);
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
        columns = [row[1] for row in db.execute("pragma table_info(events)")]
        if columns and "undoes" not in columns:      # an older cache: read the files again
            db.executescript("drop table events; drop table files; drop table states; drop table meta;")
        db.executescript(_SCHEMA)
        return db

    def meta(self, key: str) -> str | None:
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("insert or replace into meta values (?, ?)", (key, value))

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

    def add_events(self, file: str, events: list[Event], line_of: dict[str, int],
                   text_of: dict[str, str] | None = None) -> list[Event]:
        """Store the events not already known (by id); the new ones, in the order given.
        `line_of`/`text_of`: each event's line number and text in its file."""
        known = self._known_ids([e.id for e in events])
        new, seen = [], set()
        for event in events:
            if event.id not in known and event.id not in seen:
                seen.add(event.id)
                new.append(event)
        text_of = text_of or {}
        top: dict[str, int] = {}
        for e in new:
            top[e.device] = max(top.get(e.device, 0), e.seq)
        for device, seq in top.items():
            if seq > self.max_seq(device):
                self.set_meta(f"seq:{device}", str(seq))
        self.db.executemany("insert into events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [(e.id, file, line_of.get(e.id, 0), e.guid, e.ord, e.type, e.device, e.seq,
                              text_of.get(e.id) or e.to_line(), e.time.timestamp(), e.rating, e.undoes)
                             for e in new])
        return new

    def _known_ids(self, ids: list[str]) -> set[str]:
        if not ids or self.db.execute("select 1 from events limit 1").fetchone() is None:
            return set()
        out: set[str] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            out.update(r[0] for r in self.db.execute(f"select id from events where id in ({marks})", chunk))
        return out

    def events_of(self, guids: Iterable[str], ordinal: int) -> list[Event]:
        guids = list(guids)
        marks = ",".join("?" * len(guids))
        rows = self.db.execute(f"select line from events where guid in ({marks}) and ord = ?", (*guids, ordinal))
        return [Event.from_dict(json.loads(line)) for (line,) in rows]

    def has_guid(self, guid: str) -> bool:
        return self.db.execute("select 1 from events where guid = ? and kind != 'alias' limit 1",
                               (guid,)).fetchone() is not None

    def unused_card(self, guid: str, ordinal: int, folder: str) -> Diagnostic | None:
        """A warning at the first line of a card's history, for a card the vault no longer has."""
        rows = self.db.execute("select file, lineno from events where guid = ? and ord = ? order by file, lineno",
                               (guid, ordinal)).fetchall()
        if not rows:
            return None
        file, line = rows[0]
        return Diagnostic(f"{folder}/{file}", line, "warning",
                          f"card {guid} (card {ordinal} of its note) is not in the vault; its {len(rows)} "
                          "events are kept, unused until it comes back")

    def max_seq(self, device: str) -> int:
        """The highest sequence number stored for a device (kept in meta: no index needed)."""
        return int(self.meta(f"seq:{device}") or 0)

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
