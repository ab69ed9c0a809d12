"""One card's scheduling state, moved on by FSRS (the `fsrs` package) one event at a time.

The `fsrs` scheduler computes stability, difficulty and the next due time; its own interval fuzz
draws from the global `random`, so it is switched off and replaced by a fuzz over the same
ranges (`fsrs.scheduler.FUZZ_RANGES`) seeded from the card id and its review count: replaying a
history always gives the same due dates, on every device. Leeches are Anki's: the 8th lapse (and
every 4th after it) tags the card "leech" and suspends it.

Bury times are kept as moments, not days: which study day they fall on depends on the local day
start, decided by the queue, so a replay never depends on the time zone.
"""

from __future__ import annotations

import zlib
from copy import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State
from fsrs.scheduler import FUZZ_RANGES

from notecards.study.events import Event
from notecards.study.settings import StudySettings

_STATE_NAMES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}
_STATES = {name: state for state, name in _STATE_NAMES.items()}


@dataclass
class CardState:
    """What history says about one card. `queue` is "new", "learning", "review" or "relearning"."""

    queue: str = "new"
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    leech: bool = False
    buried_at: datetime | None = None          # a manual bury, until the next day starts
    first_review: datetime | None = None       # the day the card stopped being new
    last_review_answer: datetime | None = None # last answer given in review state (review limit)
    last_key: tuple[float, str, int] | None = None   # the last event applied (incremental replay)

    def to_dict(self) -> dict:
        return {name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in vars(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "CardState":
        values = dict(data)
        for name in _MOMENTS:
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        if values.get("last_key") is not None:
            values["last_key"] = tuple(values["last_key"])
        return cls(**values)


_MOMENTS = ("due", "last_review", "buried_at", "first_review", "last_review_answer")


class Schedule:
    """FSRS with a study's settings; `fuzz=False` gives the `fsrs` package's exact intervals."""

    def __init__(self, settings: StudySettings, fuzz: bool = True):
        self.settings = settings
        self.fuzz = fuzz
        self.fsrs = Scheduler(desired_retention=settings.desired_retention,
                              learning_steps=settings.learning_deltas(),
                              relearning_steps=settings.relearning_deltas(),
                              maximum_interval=settings.maximum_interval, enable_fuzzing=False,
                              **({"parameters": tuple(settings.parameters)} if settings.parameters else {}))

    def apply(self, state: CardState, event: Event, card: str) -> bool:
        """Move `state` on by one event, in place (a replay touches each state 20 times on
        average); True when this answer made the card a leech. Undo is the replay's business."""
        leech = False
        if event.type == "review":
            leech = self._review(state, event.rating or 3, event.time, card)
        elif event.type == "suspend":
            state.suspended = True
        elif event.type == "unsuspend":
            state.suspended = False
        elif event.type == "bury":
            state.buried_at = event.time
        elif event.type == "reset":
            vars(state).update(vars(CardState(suspended=state.suspended)))
        elif event.type == "set_due" and state.queue != "new":       # a new card has no schedule to move
            state.due = event.due
        state.last_key = (event.time.timestamp(), event.device, event.seq)
        return leech

    def review(self, state: CardState, rating: int, when: datetime, card: str) -> CardState:
        """The state one answer would lead to, leaving `state` as it is."""
        new = copy(state)
        self._review(new, rating, when, card)
        return new

    def _review(self, state: CardState, rating: int, when: datetime, card: str) -> bool:
        before = state.queue
        result, _ = self.fsrs.review_card(self._to_fsrs(state, when), Rating(rating), when)
        due = result.due
        if self.fuzz and result.state == State.Review:
            due = when + self._fuzzed(result.due - when, card, state.reps)
        lapse = before == "review" and rating == 1
        state.lapses += lapse
        threshold = self.settings.leech_threshold
        leech_now = lapse and state.lapses >= threshold and (state.lapses - threshold) % max(1, threshold // 2) == 0
        state.queue, state.step = _STATE_NAMES[result.state], result.step
        state.stability, state.difficulty = result.stability, result.difficulty
        state.due, state.last_review = due, when
        state.reps += 1
        state.first_review = state.first_review or when
        if before == "review":
            state.last_review_answer = when
        if leech_now:
            state.leech = state.suspended = True
        return leech_now

    def preview(self, state: CardState, when: datetime, card: str) -> dict[int, timedelta]:
        """The interval each rating would give now, as the answer buttons show it."""
        return {r: self.review(state, r, when, card).due - when for r in (1, 2, 3, 4)}

    def _to_fsrs(self, state: CardState, when: datetime) -> FsrsCard:
        if state.queue == "new":
            return FsrsCard(card_id=0, state=State.Learning, step=0, due=when)
        return FsrsCard(card_id=0, state=_STATES[state.queue], step=state.step, stability=state.stability,
                        difficulty=state.difficulty, due=state.due or when, last_review=state.last_review)

    def _fuzzed(self, interval: timedelta, card: str, reps: int) -> timedelta:
        """The `fsrs` package's fuzz range, with a draw seeded by (card, review number): CRC-32
        of "card id:reviews so far", over 2^32. A whole
        day is drawn uniformly from [low, high] (fsrs rounds its draw, which can land on high + 1)."""
        days = interval.days
        if days < 2.5:
            return interval
        delta = 1.0
        for r in FUZZ_RANGES:
            delta += r["factor"] * max(min(float(days), r["end"]) - r["start"], 0.0)
        high = min(round(days + delta), self.settings.maximum_interval)
        low = min(max(2, round(days - delta)), high)
        draw = zlib.crc32(f"{card}:{reps}".encode()) / 2 ** 32     # the same on every machine
        return timedelta(days=min(low + int(draw * (high - low + 1)), self.settings.maximum_interval))


def interval_label(span: timedelta) -> str:
    """Anki's answer-button style: 45s, 10m, 3h, 4d, 1.5mo, 2y."""
    seconds = max(0.0, span.total_seconds())
    days = seconds / 86400
    if seconds < 60:
        return f"{round(seconds)}s"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{round(days / 30, 1):g}mo"
    return f"{round(days / 365, 1):g}y"
