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

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from notecards.study.events import Event, card_id, split_card_id
from notecards.study.history import FileRead, history_files, prefix_sha, read_history_file
from notecards.study.schedule import CardState, Outcome, Schedule
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
    replayed_events: int = 0                             # events applied by the last load (benchmarks)

    def load(self, now: datetime) -> None:
        """Bring every card's state up to date with the files; warnings for lines skipped."""
        self.replayed_events = 0
        key = f"{FORMAT}|{self.schedule.settings.schedule_key()}|fuzz={self.schedule.fuzz}"
        dirty: set[tuple[str, int]] = set()
        if self.store.meta("schedule") != key:     # new settings: every card is replayed
            self.store.db.execute("delete from states")
            self.store.set_meta("schedule", key)
            dirty = self.store.card_keys()
        self.states = self.store.states()
        self.alias = _alias_map(self.store.aliases())
        fresh: list[Event] = []
        self.diagnostics = []
        present = {p.name: p for p in history_files(self.folder)}
        for name in self.store.file_names():
            if name not in present:
                dirty |= self.store.forget_file(name)
        for name, path in present.items():
            fresh.extend(self._read_file(name, path, now, dirty))
        self._absorb(fresh, dirty)
        for row_name in present:
            row = self.store.file(row_name)
            if row is not None:
                self.diagnostics.extend(row.diagnostics)
        self.diagnostics.sort(key=lambda d: (d.path, d.line))
        self.store.commit()

    def last_seq(self, device: str) -> int:
        return self.store.max_seq(device)

    def add(self, event: Event, file: str) -> Outcome | None:
        """One event this session wrote: stored and applied at once."""
        new = self.store.add_events(file, [event])
        outcome = self._absorb(new, set()) if new else None
        self.store.commit()
        return outcome

    def known_size(self, name: str) -> int | None:
        row = self.store.file(name)
        return row.consumed if row is not None else None

    def _read_file(self, name: str, path: Path, now: datetime, dirty: set[tuple[str, int]]) -> list[Event]:
        try:
            st = os.stat(path)
        except OSError:
            return []
        row = self.store.file(name)
        if row is not None and (row.size, row.mtime) == (st.st_size, st.st_mtime_ns) and row.consumed == row.size:
            return []
        start = prefix_sha(path, row.consumed) if row is not None else None
        if row is not None and (start is None or start.hexdigest() != row.sha):
            dirty |= self.store.forget_file(name)      # rewritten, not appended to: read it again
            row, start = None, None
        offset, lines = (row.consumed, row.lines) if row is not None else (0, 0)
        read = read_history_file(path, f"{self.display}/{name}", now, offset, lines, start)
        kept = [d for d in (row.diagnostics if row else []) if d.line <= lines]
        self.store.put_file(name, FileRow(st.st_size, st.st_mtime_ns, read.consumed, read.consumed_lines,
                                          read.sha, kept + _until(read, read.consumed_lines)))
        # lines not consumed (torn, dated in the future) are read, and warned about, every load
        self.diagnostics.extend(d for d in read.diagnostics if d.line > read.consumed_lines)
        return self.store.add_events(name, read.events, read.line_of)

    def _absorb(self, events: list[Event], dirty: set[tuple[str, int]]) -> Outcome | None:
        """Apply new events card by card; cards that cannot be brought forward are replayed."""
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
        outcome = None
        for card, new in by_card.items():
            new.sort(key=Event.sort_key)
            state = self.states.get(card)
            first = _key(new[0])
            if card in replay or any(e.type == "undo" for e in new) or (
                    state is not None and state.last_key is not None and tuple(state.last_key) >= first):
                replay.add(card)
                continue
            state = state or CardState()
            for event in new:
                outcome = self.schedule.apply(state, event, card)
                state = outcome.state
                self.replayed_events += 1
            self.states[card] = state
            self.store.put_states({card: state})
        for card in replay:
            outcome = self._replay_card(card) or outcome
        return outcome

    def _replay_card(self, card: str) -> Outcome | None:
        guid, ordinal = split_card_id(card)
        guids = [guid, *(g for g, target in self.alias.items() if target == guid)]
        events = sorted(self.store.events_of(guids, ordinal), key=Event.sort_key)
        undone = {e.undoes for e in events if e.type == "undo"}
        state, outcome = CardState(), None
        for event in events:
            if event.type == "undo" or event.id in undone:
                continue
            outcome = self.schedule.apply(state, event, card)
            state = outcome.state
            self.replayed_events += 1
        if outcome is None:
            self.states.pop(card, None)
            self.store.drop_states([card])
        else:
            self.states[card] = state
            self.store.put_states({card: state})
        return outcome

    def _current(self, guid: str) -> str:
        return self.alias.get(guid, guid)


def _key(event: Event) -> tuple[float, str, int]:
    return (event.time.timestamp(), event.device, event.seq)


def _until(read: FileRead, lines: int) -> list[Diagnostic]:
    return [d for d in read.diagnostics if d.line <= lines]


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
