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


def study_day(moment: datetime, tz: tzinfo | None, hour: int) -> date:
    """The study day a moment belongs to: the day starts at `hour` local time, as in Anki.
    `tz` None is this machine's local time, with its daylight-saving rules."""
    return (moment.astimezone(tz) - timedelta(hours=hour)).date()


def day_bounds(moment: datetime, tz: tzinfo | None, hour: int) -> tuple[datetime, datetime]:
    """When the study day of `moment` starts and ends (a day of a DST change is 23 or 25 hours)."""
    day = study_day(moment, tz, hour)
    start = datetime.combine(day, time(hour), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(hour), tzinfo=tz)
    if tz is None:                       # naive local times: astimezone() applies the local rules
        return start.astimezone().astimezone(timezone.utc), end.astimezone().astimezone(timezone.utc)
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
    """The vault's cards sorted against their states at one moment. It stays valid while no
    state changes and the clock does not pass `valid_until` (the day's end, or the moment a
    learning card enters the learn-ahead window); `touch` re-sorts one note's cards after an
    answer, so a session does not sort the whole vault for every card."""

    def __init__(self, faces: list[Face], states: dict[str, CardState], settings: StudySettings,
                 tz: tzinfo | None, now: datetime):
        self.settings = settings
        self.now = now
        self.start, self.end = day_bounds(now, tz, settings.day_start_hour)
        self.states = states
        self.nodes: dict[str, _Node] = {}
        self.new_done: dict[str, int] = defaultdict(int)
        self.review_done: dict[str, int] = defaultdict(int)
        self.ahead = now + timedelta(minutes=settings.learn_ahead_minutes)
        self.valid_until = self.end
        self._order = {f.id: i for i, f in enumerate(faces)}
        self._notes: dict[str, list[Face]] = defaultdict(list)
        self._placed: dict[str, tuple[str | None, bool, bool]] = {}   # id -> (list, new done, review done)
        self._sort(faces)

    def valid_at(self, now: datetime) -> bool:
        return self.start <= now < self.valid_until and now >= self.now - timedelta(seconds=1)

    def _today(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def _sort(self, faces: list[Face]) -> None:
        """Put each card in its deck's new, learning or review list (or nowhere); the common
        case — a card never studied — is the short path."""
        states = self.states
        self._guid_of = guid_of = {f.id: f.guid for f in faces}
        self._answered = {guid_of.get(cid) for cid, s in states.items() if self._today(s.last_review)}
        for deck in {f.deck for f in faces}:
            for name in parents(deck):
                self.nodes.setdefault(name, _Node())
                parent = name.rpartition("::")[0]
                if parent and name not in self.nodes[parent].children:
                    self.nodes[parent].children.append(name)
        nodes = self.nodes
        for face in faces:
            self._notes[face.guid].append(face)
            state = states.get(face.id)
            if state is None and face.guid not in self._answered:
                nodes[face.deck].new.append(face)
                continue
            self._place(face, state or _NEW, nodes[face.deck])
        for node in nodes.values():
            node.children.sort()
            node.review.sort(key=self._by_due)
            node.learning.sort(key=self._by_due)

    def _place(self, face: Face, state: CardState, node: "_Node") -> None:
        new_done, review_done = self._today(state.first_review), self._today(state.last_review_answer)
        self.new_done[face.deck] += new_done
        self.review_done[face.deck] += review_done
        self._placed[face.id] = (self._kind(face, state), new_done, review_done)
        kind = self._placed[face.id][0]
        if kind is not None:
            getattr(node, kind).append(face)

    def _kind(self, face: Face, state: CardState) -> str | None:
        if state.suspended or self._today(state.buried_at):
            return None
        if state.queue in ("learning", "relearning"):
            if state.due is not None and state.due <= self.ahead:
                return "learning"
            if state.due is not None:
                self.valid_until = min(self.valid_until, state.due - (self.ahead - self.now))
            return None
        if face.guid in self._answered and not self._today(state.last_review):
            return None                                   # a sibling was answered today
        if state.queue == "new":
            return "new"
        if state.due is not None and state.due < self.end:
            return "review"
        return None

    def touch(self, card_id: str, now: datetime) -> None:
        """Re-sort the cards of the note `card_id` belongs to, after its state changed. (Cards
        placed earlier, with an earlier learn-ahead window, stay right: any learning card that
        has entered the window since would have ended `valid_until`.)"""
        self.now = now
        self.ahead = now + timedelta(minutes=self.settings.learn_ahead_minutes)
        guid = self._guid_of.get(card_id)
        if guid is None:
            return
        if any(self._today(self.states.get(f.id, _NEW).last_review) for f in self._notes[guid]):
            self._answered.add(guid)
        else:
            self._answered.discard(guid)
        for face in self._notes[guid]:
            kind, new_done, review_done = self._placed.get(face.id, ("new", False, False))
            node = self.nodes[face.deck]
            if kind is not None and face in getattr(node, kind):
                getattr(node, kind).remove(face)
            self.new_done[face.deck] -= new_done
            self.review_done[face.deck] -= review_done
            self._place(face, self.states.get(face.id, _NEW), node)
            kind = self._placed[face.id][0]
            if kind == "new":
                node.new.sort(key=lambda f: self._order[f.id])
            elif kind is not None:
                getattr(node, kind).sort(key=self._by_due)

    def _by_due(self, face: Face) -> tuple[datetime, int]:
        """Oldest due first; cards due at the same moment in vault order."""
        return self.states[face.id].due, self._order[face.id]

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

    def next(self, deck: str | None, passed: frozenset[str] = frozenset()) -> Face | None:
        """The card to show now; `passed` are the cards skipped this session (never shown again)."""
        new, learning, review = (
            [f for f in group if f.id not in passed] for group in self.lists(deck))
        learning.sort(key=self._by_due)
        due_now = [f for f in learning if self._state(f).due <= self.now]
        if due_now:
            return due_now[0]
        if review:
            return min(review, key=self._by_due)
        if new:
            return new[0]
        return learning[0] if learning else None


_NEW = CardState()
