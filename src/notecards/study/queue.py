"""What is due now, deck by deck, within the day's limits — and which card comes next.

Anki's rules (v3 scheduler, default options), on a study day that starts at `day_start_hour`
local time:
- review cards are due on the day of their due time; learning and relearning cards at their
  exact due time, and one due within the learn-ahead window (20 min) is shown when nothing else
  is left;
- each deck introduces at most `new_per_day` new cards and answers at most `reviews_per_day`
  review cards a day; a parent deck's limit also caps the sum over its subdecks ("A::B" is a
  subdeck of "A"), and applies when a subdeck is studied;
- suspended cards never show; buried ones not until the next day; answering a card buries its
  new and review siblings (the other cards of its note) until the next day.
Order: learning cards due now, then reviews (oldest due first), then new cards (in vault order),
then learning cards due within the learn-ahead window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

from notecards.study.cards import Face
from notecards.study.schedule import CardState
from notecards.study.settings import StudySettings


@dataclass(frozen=True)
class DeckCounts:
    """Cards left today in a deck and its subdecks, after the day's limits."""

    name: str
    new: int
    learning: int
    review: int

    def to_dict(self) -> dict:
        return {"name": self.name, "new": self.new, "learning": self.learning, "review": self.review}


def study_day(moment: datetime, tz: tzinfo, hour: int) -> date:
    """The study day a moment belongs to: the day starts at `hour` local time, as in Anki."""
    return (moment.astimezone(tz) - timedelta(hours=hour)).date()


def day_bounds(moment: datetime, tz: tzinfo, hour: int) -> tuple[datetime, datetime]:
    """When the study day of `moment` starts and ends (a day of a DST change is 23 or 25 hours)."""
    day = study_day(moment, tz, hour)
    start = datetime.combine(day, time(hour), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(hour), tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


@lru_cache(maxsize=4096)
def parents(deck: str) -> list[str]:
    """"A::B::C" -> ["A", "A::B", "A::B::C"]."""
    parts = deck.split("::")
    return ["::".join(parts[:i]) for i in range(1, len(parts) + 1)]


@dataclass
class _Node:
    new: list[Face] = field(default_factory=list)
    review: list[Face] = field(default_factory=list)
    learning: list[Face] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


class Queue:
    """A snapshot of the vault's cards against their states at one moment."""

    def __init__(self, faces: list[Face], states: dict[str, CardState], settings: StudySettings,
                 tz: tzinfo, now: datetime):
        self.settings = settings
        self.now = now
        self.start, self.end = day_bounds(now, tz, settings.day_start_hour)
        self.states = states
        self.nodes: dict[str, _Node] = {}
        self.new_done: dict[str, int] = defaultdict(int)
        self.review_done: dict[str, int] = defaultdict(int)
        self.ahead = now + timedelta(minutes=settings.learn_ahead_minutes)
        self._sort(faces)

    def _today(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def _sort(self, faces: list[Face]) -> None:
        states = [(face, self._state(face)) for face in faces]
        answered_today = {f.guid for f, s in states if self._today(s.last_review)}
        for deck in {f.deck for f in faces}:
            for name in parents(deck):
                self.nodes.setdefault(name, _Node())
                parent = name.rpartition("::")[0]
                if parent and name not in self.nodes[parent].children:
                    self.nodes[parent].children.append(name)
        for face, state in states:
            if state.queue == "new" and not state.suspended and state.buried_at is None \
                    and face.guid not in answered_today:
                self.nodes[face.deck].new.append(face)        # most cards: the short way
                continue
            if self._today(state.first_review):
                self.new_done[face.deck] += 1
            if self._today(state.last_review_answer):
                self.review_done[face.deck] += 1
            if state.suspended or self._today(state.buried_at):
                continue
            node = self.nodes[face.deck]
            if state.queue in ("learning", "relearning"):
                if state.due is not None and state.due <= self.ahead:
                    node.learning.append(face)
                continue
            if face.guid in answered_today and not self._today(state.last_review):
                continue                                      # a sibling was answered today
            if state.queue == "new":
                node.new.append(face)
            elif state.due is not None and state.due < self.end:
                node.review.append(face)
        for node in self.nodes.values():
            node.children.sort()
            node.review.sort(key=lambda f: self._state(f).due)
            node.learning.sort(key=lambda f: self._state(f).due)

    def _state(self, face: Face) -> CardState:
        return self.states.get(face.id) or _NEW

    def _done(self, deck: str, done: dict[str, int]) -> int:
        return sum(n for name, n in done.items() if name == deck or name.startswith(deck + "::"))

    def _eligible(self, deck: str, kind: str, cap: int) -> list[Face]:
        """The cards of `kind` ("new"/"review") a deck offers today, own first, then subdecks'."""
        node = self.nodes[deck]
        limit, done = ((self.settings.new_per_day, self.new_done) if kind == "new"
                       else (self.settings.reviews_per_day, self.review_done))
        cap = min(cap, max(0, limit - self._done(deck, done)))
        out = list(getattr(node, kind)[:cap])
        for child in node.children:
            if len(out) >= cap:
                break
            out.extend(self._eligible(child, kind, cap - len(out)))
        return out[:cap]

    def _ancestor_cap(self, deck: str, kind: str) -> int:
        limit, done = ((self.settings.new_per_day, self.new_done) if kind == "new"
                       else (self.settings.reviews_per_day, self.review_done))
        return min([max(0, limit - self._done(p, done)) for p in parents(deck)[:-1]], default=1 << 30)

    def _learning(self, deck: str) -> list[Face]:
        out = list(self.nodes[deck].learning)
        for child in self.nodes[deck].children:
            out.extend(self._learning(child))
        return out

    def _tops(self, deck: str | None) -> list[str]:
        if deck is None:
            return sorted(n for n in self.nodes if "::" not in n)
        return [deck] if deck in self.nodes else []

    def lists(self, deck: str | None) -> tuple[list[Face], list[Face], list[Face]]:
        """(new, learning, review) cards a session over `deck` (None: every deck) has today."""
        new, learning, review = [], [], []
        for top in self._tops(deck):
            new += self._eligible(top, "new", self._ancestor_cap(top, "new"))
            review += self._eligible(top, "review", self._ancestor_cap(top, "review"))
            learning += self._learning(top)
        return new, learning, review

    def counts(self) -> list[DeckCounts]:
        """Every deck and parent deck, by name."""
        out = []
        for name in sorted(self.nodes):
            new, learning, review = self.lists(name)
            out.append(DeckCounts(name, len(new), len(learning), len(review)))
        return out

    def next(self, deck: str | None) -> Face | None:
        new, learning, review = self.lists(deck)
        learning.sort(key=lambda f: self._state(f).due)
        due_now = [f for f in learning if self._state(f).due <= self.now]
        if due_now:
            return due_now[0]
        if review:
            return min(review, key=lambda f: self._state(f).due)
        if new:
            return new[0]
        return learning[0] if learning else None


_NEW = CardState()
