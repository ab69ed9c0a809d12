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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

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


class Answer(NamedTuple):
    """One answer of the history as the stats see it (a tuple: there are 100,000 of them)."""

    card: str
    day: int                                    # its study day, as days since 1970-01-01
    rating: int
    kind: str                                   # "learning" | "young" | "mature"


_EVENTS = """select rowid, guid, ord, kind, id, device, seq,
                    (julianday(json_extract(line, '$.time')) - 2440587.5) * 86400.0,
                    json_extract(line, '$.rating'), json_extract(line, '$.undoes')
             from events where rowid > ? and kind in ('review', 'undo', 'reset', 'alias')"""


class AnswerLog:
    """Every answer that stands (not undone), with its kind, kept between calls: while the
    history only gains answers later than each card's last (a session answering cards), they
    are added on; an undo, a reset, an alias, an earlier-dated line or a removed file reads it all
    again. SQLite reads the JSON lines; a study day is worked out once per UTC hour (a zone's
    offset changes on the hour)."""

    def __init__(self, tz, hour: int) -> None:
        self.shift = _Shift(tz, hour)
        self.answers: list[Answer] = []
        self._last: dict[tuple[str, int], tuple[float, int]] = {}      # card -> last answer (time, day)
        self._rowid = 0
        self._count = 0
        self._alias: dict[str, str] = {}

    def current(self, db, alias: dict[str, str]) -> list[Answer]:
        count = db.execute("select count(*) from events").fetchone()[0]
        rows = db.execute(_EVENTS, (self._rowid,)).fetchall()
        grew = count - self._count == db.execute("select count(*) from events where rowid > ?",
                                                 (self._rowid,)).fetchone()[0]
        if not (grew and alias == self._alias and all(self._follows(r) for r in rows)):
            self.__init__(self.shift.tz, self.shift.hour)            # read everything again
            self._alias = dict(alias)
            rows = db.execute(_EVENTS, (0,)).fetchall()
            rows.sort(key=lambda r: (alias.get(r[1], r[1]), r[2], r[7], r[5], r[6]))
        self._count = count
        self._add(rows)
        return self.answers

    def _follows(self, row: tuple) -> bool:
        last = self._last.get((self._alias.get(row[1], row[1]), row[2]))
        return row[3] == "review" and (last is None or row[7] >= last[0])

    def _add(self, rows: list[tuple]) -> None:
        undone = {row[9] for row in rows if row[3] == "undo"}
        mature = MATURE_DAYS * 86400
        for rowid, guid, ordinal, kind, eid, _device, _seq, stamp, rating, _ in rows:
            self._rowid = max(self._rowid, rowid)
            if kind in ("undo", "alias") or eid in undone:
                continue
            key = (self._alias.get(guid, guid), ordinal)
            if kind == "reset":
                self._last.pop(key, None)
                continue
            day = int((stamp + self.shift[int(stamp // 3600)]) // 86400)
            previous = self._last.get(key)
            if previous is None or previous[1] == day:
                what = "learning"
            else:
                what = "mature" if stamp - previous[0] >= mature else "young"
            self.answers.append(Answer(card_id(*key), day, rating, what))
            self._last[key] = (stamp, day)


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
    log = log or AnswerLog(tz, hour)
    mine = [a for a in log.current(study.replay.store.db, study.replay.alias) if a.card in cards]
    return Stats(deck=deck, today=today.isoformat(), reviews_per_day=_per_day(mine, today_n),
                 forecast=_forecast(study, cards, today, tz, hour), retention=_retention(mine, today_n),
                 counts=_counts(study, cards), buttons=_buttons(mine, today_n), total_reviews=len(mine))


def _per_day(mine: list[Answer], today: int) -> dict[str, int]:
    days: dict[int, int] = defaultdict(int)
    for a in mine:
        if today - a.day < HEATMAP_DAYS:
            days[a.day] += 1
    return {(_EPOCH + timedelta(days=day)).isoformat(): n for day, n in sorted(days.items())}


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


def _retention(mine: list[Answer], today: int) -> list[Retention]:
    periods = [Retention(days) for days in PERIODS]
    for a in mine:
        if a.kind == "learning":
            continue
        age = today - a.day
        for period in periods:
            if age < period.days:
                period.total[a.kind] += 1
                period.passed[a.kind] += a.rating > 1
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


def _buttons(mine: list[Answer], today: int) -> dict[str, list[int]]:
    out = {kind: [0, 0, 0, 0] for kind in KINDS}
    for a in mine:
        if today - a.day < HEATMAP_DAYS:
            out[a.kind][a.rating - 1] += 1
    return out
