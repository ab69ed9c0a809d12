"""Scheduling state as a replay of the union of every device's history, kept up to date cheaply.

Each card is replayed on its own, in history order (time, device, sequence), so the result does
not depend on the order files are read in: two devices merged either way give one schedule.
A warm start reads only the lines the files gained since the cache was written; a new event that
is later than everything its card has seen is applied on top of the cached state, anything else
(an event of another device dated earlier, an undo, an alias, a file rewritten or removed) makes
that card — only that card — replay from its first event.

Aliases: when sync writes an ID line into a block, the card's GUID becomes the one derived from
the Anki note id; an alias event (old GUID -> new GUID) keeps its history with it.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from notecards.study.events import Event, card_id, split_card_id
from notecards.study.history import history_files, prefix_sha, read_history_file
from notecards.study.schedule import CardState, Schedule
from notecards.study.store import FORMAT, FileRow, Store
from notecards.types import Diagnostic


@dataclass
class Replay:
    """Every card's state, and what the history files said about themselves."""

    schedule: Schedule
    store: Store
    folder: Path
    display: str                                       # the folder as diagnostics name it
    states: dict[str, CardState] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    alias: dict[str, str] = field(default_factory=dict)   # old guid -> current guid
    replayed_events: int = 0                           # events applied by the last load (benchmarks)
    _digests: dict[str, "hashlib._Hash"] = field(default_factory=dict)
    _loaded: bool = False

    def load(self, now: datetime) -> bool:
        """Bring every card's state up to date with the files; True when anything changed."""
        self.replayed_events = 0
        dirty: set[tuple[str, int]] = set()
        if not self._loaded:
            key = f"{FORMAT}|{self.schedule.settings.schedule_key()}|fuzz={self.schedule.fuzz}"
            if self.store.meta("schedule") != key:     # new settings: every card is replayed
                self.store.db.execute("delete from states")
                self.store.set_meta("schedule", key)
                dirty = self.store.card_keys()
            self.states = self.store.states()
            self.alias = _alias_map(self.store.aliases())
            self._loaded = True
        present = {p.name: p for p in history_files(self.folder)}
        for name in self.store.file_names():
            if name not in present:
                dirty |= self.store.forget_file(name)
                self._digests.pop(name, None)
        fresh: list[Event] = []
        pending: list[Diagnostic] = []
        for name, path in present.items():
            fresh.extend(self._read_file(name, path, now, dirty, pending))
        changed = bool(fresh or dirty)
        self._absorb(fresh, dirty)
        rows = [self.store.file(name) for name in present]
        diagnostics = sorted(pending + [d for row in rows if row for d in row.diagnostics],
                             key=lambda d: (d.path, d.line))
        changed = changed or diagnostics != self.diagnostics
        self.diagnostics = diagnostics
        self.store.commit()
        return changed

    def add(self, event: Event, file: str, offset: int = -1, data: bytes = b"") -> bool:
        """An event this session appended at `offset` of `file`: stored and applied at once.
        True when it made its card a leech."""
        new = self.store.add_events(file, [event], {event.id: 0}, {event.id: data.decode("utf-8")} if data else None)
        leech = self._absorb(new, set()) if new else False
        if data:
            self._advance(file, offset, data)
        self.store.commit()
        return leech

    def last_seq(self, device: str) -> int:
        return self.store.max_seq(device)

    def known_size(self, name: str) -> int | None:
        row = self.store.file(name)
        return row.consumed if row is not None else None

    def _advance(self, name: str, offset: int, data: bytes) -> None:
        """Move the file's consumed prefix over a line we wrote, so the next load need not read it."""
        row = self.store.file(name)
        if row is None or row.consumed != offset:
            return                         # a torn line or another writer came between: load reads it
        digest = self._digests.get(name)
        if digest is None:
            digest = prefix_sha(self.folder / name, offset)
            if digest is None or digest.hexdigest() != row.sha:
                return
        digest.update(data)
        self._digests[name] = digest
        st = os.stat(self.folder / name)
        self.store.put_file(name, FileRow(st.st_size, st.st_mtime_ns, offset + len(data), row.lines + 1,
                                          digest.hexdigest(), row.diagnostics))

    def _read_file(self, name: str, path: Path, now: datetime, dirty: set[tuple[str, int]],
                   pending: list[Diagnostic]) -> list[Event]:
        try:
            st = os.stat(path)
        except OSError:
            return []
        row = self.store.file(name)
        if row is not None and (row.size, row.mtime) == (st.st_size, st.st_mtime_ns) and row.consumed == row.size:
            return []
        start = self._digests.get(name)
        if row is not None and start is None:
            start = prefix_sha(path, row.consumed)
        if row is not None and (start is None or start.hexdigest() != row.sha):
            dirty |= self.store.forget_file(name)      # rewritten, not appended to: read it again
            row, start = None, None
        offset, lines = (row.consumed, row.lines) if row is not None else (0, 0)
        read = read_history_file(path, f"{self.display}/{name}", now, offset, lines, start)
        self._digests[name] = read.digest
        kept = [d for d in (row.diagnostics if row else []) if d.line <= lines]
        self.store.put_file(name, FileRow(st.st_size, st.st_mtime_ns, read.consumed, read.consumed_lines,
                                          read.sha, kept + [d for d in read.diagnostics if d.line <= read.consumed_lines]))
        # lines not consumed (torn, dated in the future) are read, and warned about, every load
        pending.extend(d for d in read.diagnostics if d.line > read.consumed_lines)
        return self.store.add_events(name, read.events, read.line_of, read.text_of)

    def _absorb(self, events: list[Event], dirty: set[tuple[str, int]]) -> bool:
        """Apply new events card by card; cards that cannot be brought forward are replayed.
        True when the last event applied made its card a leech."""
        aliases = [e for e in events if e.type == "alias"]
        if aliases:
            self.alias = _alias_map(self.store.aliases())
            moved = set(self.alias) | set(self.alias.values())
            dirty |= {(g, o) for g, o in self.store.card_keys() if g in moved}
            gone = [c for c in self.states if split_card_id(c)[0] in self.alias]
            for card in gone:
                del self.states[card]
            self.store.drop_states(gone)
        by_card: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            if event.type != "alias":
                by_card[card_id(self._current(event.guid), event.ord)].append(event)
        replay = {card_id(self._current(g), o) for g, o in dirty}
        changed: dict[str, CardState] = {}
        leech = False
        for card, new in by_card.items():
            new.sort(key=Event.sort_key)
            state = self.states.get(card)
            first = (new[0].time.timestamp(), new[0].device, new[0].seq)
            if card in replay or any(e.type == "undo" for e in new) or (
                    state is not None and state.last_key is not None and tuple(state.last_key) >= first):
                replay.add(card)
                continue
            state = state or CardState()
            for event in new:
                leech = self.schedule.apply(state, event, card)
            self.replayed_events += len(new)
            self.states[card] = changed[card] = state
        for card in replay:
            leech = self._replay_card(card, changed) or leech
        self.store.put_states(changed)
        return leech

    def _replay_card(self, card: str, changed: dict[str, CardState]) -> bool:
        guid, ordinal = split_card_id(card)
        guids = [guid, *(g for g, target in self.alias.items() if target == guid)]
        events = sorted(self.store.events_of(guids, ordinal), key=Event.sort_key)
        undone = {e.undoes for e in events if e.type == "undo"}
        state, leech, applied = CardState(), False, 0
        for event in events:
            if event.type == "undo" or event.id in undone:
                continue
            leech = self.schedule.apply(state, event, card)
            applied += 1
        self.replayed_events += applied
        if applied:
            self.states[card] = changed[card] = state
        else:
            self.states.pop(card, None)
            changed.pop(card, None)
            self.store.drop_states([card])
        return leech

    def _current(self, guid: str) -> str:
        return self.alias.get(guid, guid)


def _alias_map(aliases: list[Event]) -> dict[str, str]:
    """old guid -> the guid it is known by now, following chains (a -> b -> c), in history order."""
    direct: dict[str, str] = {}
    for a in sorted(aliases, key=Event.sort_key):
        if a.to and a.to != a.guid:
            direct[a.guid] = a.to
    out = {}
    for start in direct:
        seen, guid = {start}, direct[start]
        while guid in direct and direct[guid] not in seen:
            seen.add(guid)
            guid = direct[guid]
        out[start] = guid
    return out
