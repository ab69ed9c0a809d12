"""The numbers of the stats page, for one deck (its subdecks included) or the whole vault.

Read from the engine's public state: the vault's cards (`Study.faces`), their scheduling states
(`Study.replay.states`) and every event of the history (the replay cache's events table, which
holds every device's lines). Only cards of the vault count: a card deleted from the notes keeps
its history, but is not part of any deck.

What each figure means, as Anki's stats mean it where Anki has the same figure:

- reviews per day: answers given on each study day (the day starts at `day_start_hour`) of the
  last 365, undone answers left out;
- due forecast: cards in learning or review (not suspended) due on each of the next 30 days,
  day 0 holding those already overdue;
- true retention: of the answers to cards that were in review — answered before on an earlier
  study day, since their last reset — the share not Again, for the last 7, 30 and 365 days;
  young when the card's previous answer was less than 21 days earlier, mature otherwise. (Anki
  reads the interval from its review log; the history stores answers, so the time since the
  previous answer stands for it: a card studied when due has exactly that interval.)
- card counts: new, learning (relearning included), review, suspended (of any state), and
  leeches;
- answer buttons: the share of Again / Hard / Good / Easy over the last 365 days, for learning,
  young and mature answers, as Anki splits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
import sqlite3
import threading
from urllib.parse import quote

import numpy as np

from notecards.study.events import card_id
from notecards.study.queue import parents, study_day

MATURE_DAYS = 21
PERIODS = (7, 30, 365)
FORECAST_DAYS = 30
HEATMAP_DAYS = 365
KINDS = ("learning", "young", "mature")
_EPOCH = date(1970, 1, 1)


@dataclass
class Retention:
    """Passed / total answers per kind ("young", "mature") for one period of days."""

    days: int
    passed: dict[str, int] = field(default_factory=lambda: {"young": 0, "mature": 0})
    total: dict[str, int] = field(default_factory=lambda: {"young": 0, "mature": 0})

    def to_dict(self) -> dict:
        return {"days": self.days, "passed": dict(self.passed), "total": dict(self.total)}


@dataclass
class Stats:
    deck: str | None
    today: str                                  # ISO date of the current study day
    reviews_per_day: dict[str, int]             # ISO date -> answers, last HEATMAP_DAYS days
    forecast: list[int]                         # cards due on day 0 .. FORECAST_DAYS - 1
    retention: list[Retention]
    counts: dict[str, int]                      # new, learning, review, suspended, leech
    buttons: dict[str, list[int]]               # kind -> answers per rating 1..4
    total_reviews: int = 0

    def to_dict(self) -> dict:
        return {"deck": self.deck, "today": self.today, "reviews_per_day": dict(self.reviews_per_day),
                "forecast": list(self.forecast), "retention": [r.to_dict() for r in self.retention],
                "counts": dict(self.counts), "buttons": {k: list(v) for k, v in self.buttons.items()},
                "total_reviews": self.total_reviews}


_EVENTS = """select rowid, guid, ord, kind, id, device, seq, time, rating, undoes
             from events where rowid > ? and kind in ('review', 'undo', 'reset', 'alias')"""
_STANDING = """select guid, ord, kind = 'review', device, seq, time, coalesce(rating, 0) from events
               where kind in ('review', 'reset')
                 and id not in (select undoes from events where kind = 'undo' and undoes is not null)"""
_KIND_CODES = {"learning": 0, "young": 1, "mature": 2}


class AnswerLog:
    """Every answer that stands (not undone), with its kind, kept between calls as numpy arrays
    (one entry per answer: card index, study day, rating, kind code — 100,000 answers are read in
    one pass of array operations, not a Python loop): while the history only gains answers later
    than each card's last (a session answering cards), they are added on; an undo, a reset, an
    alias, an earlier-dated line or a removed file reads it all again. The store keeps each
    event's time, rating and undone id in columns (no JSON is decoded); a study day is worked out once per UTC hour (a zone's offset changes
    on the hour)."""

    def __init__(self, tz, hour: int) -> None:
        self.shift = _Shift(tz, hour)
        self.names: list[str] = []                  # card ids; `card` holds indexes into it
        self._index: dict[str, int] = {}
        self.card = np.zeros(0, np.int64)
        self.day = np.zeros(0, np.int64)
        self.rating = np.zeros(0, np.int64)
        self.kind = np.zeros(0, np.int64)            # _KIND_CODES
        self._last: dict[tuple[str, int], tuple[float, int]] = {}      # card -> last answer (time, day)
        self._rowid = 0
        self._count = 0
        self._alias: dict[str, str] = {}
        self._pending: threading.Thread | None = None

    def prepare(self, db: sqlite3.Connection, alias: dict[str, str]) -> None:
        """Read the whole history on a thread of its own (its own read-only connection to `db`'s
        file, one read transaction: a consistent snapshot while the engine writes), so that the
        stats page's first opening finds it read; the next `current` waits for it, then adds
        what came after. A cache kept in memory is read on the first opening instead."""
        path = next((row[2] for row in db.execute("pragma database_list") if row[1] == "main"), "")
        if path:
            self._pending = threading.Thread(target=self._read_snapshot, args=(path, dict(alias)), daemon=True)
            self._pending.start()

    def _read_snapshot(self, path: str, alias: dict[str, str]) -> None:
        try:
            db = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
        except sqlite3.Error:
            return
        try:
            db.execute("begin")
            self._refresh(db, alias)
        except sqlite3.Error:            # the first opening reads it all again
            self.__init__(self.shift.tz, self.shift.hour)
        finally:
            db.close()

    def wait(self) -> None:
        """Until the background read (if any) is done."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.join()

    def current(self, db, alias: dict[str, str]) -> "AnswerLog":
        self.wait()
        return self._refresh(db, alias)

    def _refresh(self, db, alias: dict[str, str]) -> "AnswerLog":
        count = db.execute("select count(*) from events").fetchone()[0]
        if self._rowid and alias == self._alias:
            rows = db.execute(_EVENTS, (self._rowid,)).fetchall()
            grew = count - self._count == db.execute("select count(*) from events where rowid > ?",
                                                     (self._rowid,)).fetchone()[0]
            if grew and all(self._follows(r) for r in rows):
                self._add(rows)
                self._count = count
                return self
        self.__init__(self.shift.tz, self.shift.hour)                # read everything again
        self._alias = dict(alias)
        self._read_all(db)
        self._count = count
        return self

    def _follows(self, row: tuple) -> bool:
        last = self._last.get((self._alias.get(row[1], row[1]), row[2]))
        return row[3] == "review" and (last is None or row[7] >= last[0])

    def _card_index(self, key: tuple[str, int]) -> int:
        name = card_id(*key)
        if name not in self._index:
            self._index[name] = len(self.names)
            self.names.append(name)
        return self._index[name]

    def _add(self, rows: list[tuple]) -> None:
        """A session's new answers (each later than its card's last), one at a time."""
        mature = MATURE_DAYS * 86400
        added = []
        for rowid, guid, ordinal, _kind, _eid, _device, _seq, stamp, rating, _ in rows:
            self._rowid = max(self._rowid, rowid)
            key = (self._alias.get(guid, guid), ordinal)
            day = int((stamp + self.shift[int(stamp // 3600)]) // 86400)
            previous = self._last.get(key)
            if previous is None or previous[1] == day:
                what = "learning"
            else:
                what = "mature" if stamp - previous[0] >= mature else "young"
            added.append((self._card_index(key), day, rating, _KIND_CODES[what]))
            self._last[key] = (stamp, day)
        if added:
            columns = np.array(added, np.int64).T
            self.card, self.day, self.rating, self.kind = (
                np.concatenate([old, new]) for old, new in
                zip((self.card, self.day, self.rating, self.kind), columns))

    def _read_all(self, db) -> None:
        """The whole history at once, in array operations: rows put in history order per card
        (numpy's sort: a Python sort of 100,000 tuples costs more than the rest); an answer's kind depends on the card's previous
        standing answer since its last reset."""
        self._rowid = db.execute("select max(rowid) from events").fetchone()[0] or 0
        rows = db.execute(_STANDING).fetchall()
        if not rows:
            return
        guid, ordinal, review, device, seq, stamp, rating = zip(*rows)
        alias = self._alias
        if alias:                       # an aliased card's rows join its new guid's
            guid = tuple(alias.get(g, g) for g in guid)
        ordinal = np.array(ordinal, np.int64)
        note = np.unique(np.array(guid), return_inverse=True)[1].ravel()
        group = note * (int(ordinal.max()) + 1) + ordinal
        _, first, card = np.unique(group, return_index=True, return_inverse=True)
        stamp = np.array(stamp, np.float64)
        order = np.lexsort((np.array(seq), np.unique(np.array(device), return_inverse=True)[1], stamp, card))
        card, stamp = card[order], stamp[order]
        review, rating = np.array(review, bool)[order], np.array(rating, np.int64)[order]
        hours = np.floor(stamp / 3600).astype(np.int64)
        unique_hours, at = np.unique(hours, return_inverse=True)
        shifts = np.array([self.shift[int(h)] for h in unique_hours], np.float64)
        day = np.floor((stamp + shifts[at]) / 86400).astype(np.int64)
        follows = np.zeros(len(rows), bool)           # the row before is this card's standing answer
        follows[1:] = (card[1:] == card[:-1]) & review[:-1]
        gap = np.zeros(len(rows))
        gap[1:] = stamp[1:] - stamp[:-1]
        same_day = np.zeros(len(rows), bool)
        same_day[1:] = day[1:] == day[:-1]
        what = np.where(~follows | same_day, 0, np.where(gap >= MATURE_DAYS * 86400, 2, 1))
        key_of = [(guid[i], int(ordinal[i])) for i in first]
        self.names = [card_id(*key) for key in key_of]
        self._index = {name: i for i, name in enumerate(self.names)}
        self.card, self.day, self.rating, self.kind = card[review], day[review], rating[review], what[review]
        last = np.ones(len(rows), bool)
        last[:-1] = card[1:] != card[:-1]
        for i in np.flatnonzero(last & review):
            self._last[key_of[card[i]]] = (float(stamp[i]), int(day[i]))

    def of(self, cards: set[str]) -> np.ndarray:
        """Which answers are of `cards` (a mask over the arrays)."""
        inside = np.array([name in cards for name in self.names], bool)
        return inside[self.card] if len(self.names) else np.zeros(0, bool)


class _Shift(dict):
    """Seconds to add to a UTC timestamp for its study day: the zone's offset at that UTC hour
    (looked up once per hour) less the day's start hour."""

    def __init__(self, tz, hour: int) -> None:
        super().__init__()
        self.tz, self.hour = tz, hour

    def __missing__(self, key: int) -> int:
        moment = datetime.fromtimestamp(key * 3600, timezone.utc).astimezone(self.tz)
        self[key] = value = int(moment.utcoffset().total_seconds()) - self.hour * 3600
        return value


def compute(study, deck: str | None, log: AnswerLog | None = None) -> Stats:
    """The stats of `deck` (None: the whole vault) at the study's clock; `log` kept between
    calls makes the next one cheap."""
    tz, hour = study.tz, study.study_settings.day_start_hour
    now = study.clock().astimezone(timezone.utc)
    today = study_day(now, tz, hour)
    today_n = (today - _EPOCH).days
    cards = {cid for cid, face in study.faces.items() if deck is None or deck in parents(face.deck)}
    log = (log or AnswerLog(tz, hour)).current(study.replay.store.db, study.replay.alias)
    mine = log.of(cards)
    age, rating, kind = today_n - log.day[mine], log.rating[mine], log.kind[mine]
    return Stats(deck=deck, today=today.isoformat(), reviews_per_day=_per_day(age, today_n),
                 forecast=_forecast(study, cards, today, tz, hour), retention=_retention(age, rating, kind),
                 counts=_counts(study, cards), buttons=_buttons(age, rating, kind), total_reviews=int(mine.sum()))


def _per_day(age: np.ndarray, today: int) -> dict[str, int]:
    days, counts = np.unique(today - age[age < HEATMAP_DAYS], return_counts=True)
    return {(_EPOCH + timedelta(days=int(day))).isoformat(): int(n) for day, n in zip(days, counts)}


def _forecast(study, cards: set[str], today: date, tz, hour: int) -> list[int]:
    out = [0] * FORECAST_DAYS
    for cid in cards:
        state = study.replay.states.get(cid)
        if state is None or state.queue == "new" or state.suspended or state.due is None:
            continue
        ahead = (study_day(state.due, tz, hour) - today).days
        if ahead < FORECAST_DAYS:
            out[max(0, ahead)] += 1
    return out


def _retention(age: np.ndarray, rating: np.ndarray, kind: np.ndarray) -> list[Retention]:
    periods = []
    for days in PERIODS:
        period = Retention(days)
        for name in ("young", "mature"):
            chosen = (kind == _KIND_CODES[name]) & (age < days)
            period.total[name] = int(chosen.sum())
            period.passed[name] = int((chosen & (rating > 1)).sum())
        periods.append(period)
    return periods


def _counts(study, cards: set[str]) -> dict[str, int]:
    counts = {"new": 0, "learning": 0, "review": 0, "suspended": 0, "leech": 0}
    for cid in cards:
        state = study.replay.states.get(cid)
        queue = state.queue if state else "new"
        counts["review" if queue == "review" else "new" if queue == "new" else "learning"] += 1
        if state is not None:
            counts["suspended"] += state.suspended
            counts["leech"] += state.leech
    return counts


def _buttons(age: np.ndarray, rating: np.ndarray, kind: np.ndarray) -> dict[str, list[int]]:
    recent = age < HEATMAP_DAYS
    counts = np.bincount(kind[recent] * 4 + rating[recent] - 1, minlength=4 * len(KINDS))
    return {name: [int(n) for n in counts[4 * i:4 * i + 4]] for i, name in enumerate(KINDS)}
