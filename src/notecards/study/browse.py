"""Browse: a search over the vault's study cards, and one card's info.

The search reads like Anki's browser, on a smaller set of terms (all must hold; a term is a word
or a `"quoted phrase"`, a leading `-` negates it):

    word / "a phrase"   in the card's text (every field but the figures, without markup; any case)
    deck:NAME           in that deck or a subdeck of it (`*` matches any run of characters)
    tag:NAME            carries that tag (or a child tag, `tag:stats` finds `stats::bayes`)
    is:new  is:learn  is:review  is:suspended  is:leech  is:due
    due:N               due within N days (0: today, overdue included)

A card's info is its history replayed with the engine's own scheduler (the interval each answer
gave, fuzz included, as the study page showed it), its stability, difficulty and retrievability
now (FSRS's forgetting curve), and where its block is in the notes.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from html import unescape

from fsrs import Card as FsrsCard
from fsrs import State

from notecards.notetypes import SIM_FIELD
from notecards.study.events import Event, split_card_id
from notecards.study.queue import day_bounds
from notecards.study.schedule import CardState, interval_label

LIMIT = 200
_MARKUP = re.compile(r"<[^>]*>|&nbsp;")        # math stays between \( \): the page typesets it
_SPACE = re.compile(r"\s+")
_IS = ("new", "learn", "review", "suspended", "leech", "due")


class BadQuery(ValueError):
    """A search term that means nothing (said to the person, who can fix it)."""


@dataclass(frozen=True)
class Row:
    id: str
    text: str               # the card's front, plain and short
    deck: str
    state: str              # "new" | "learning" | "review" | "relearning"
    due: str | None
    suspended: bool
    leech: bool
    tags: list[str]
    path: str
    line: int

    def to_dict(self) -> dict:
        return dict(self.__dict__, tags=list(self.tags))


@dataclass(frozen=True)
class HistoryRow:
    time: str
    kind: str               # "review", "suspend", "unsuspend", "bury", "reset", "set_due"
    rating: int | None
    interval: str | None    # what the answer (or set due) gave, as the buttons label it

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class CardInfo:
    row: Row
    history: list[HistoryRow] = field(default_factory=list)
    stability: float | None = None      # days
    difficulty: float | None = None     # 1 (easy) .. 10 (hard)
    retrievability: float | None = None # chance of recalling it now
    reviews: int = 0
    lapses: int = 0

    def to_dict(self) -> dict:
        return {"card": self.row.to_dict(), "history": [h.to_dict() for h in self.history],
                "stability": self.stability, "difficulty": self.difficulty,
                "retrievability": self.retrievability, "reviews": self.reviews, "lapses": self.lapses}


class Browser:
    """Search and card info over a `Study`; the cards' plain text is kept per card content."""

    def __init__(self, study) -> None:
        self.study = study
        self._text: dict[tuple[str, str], str] = {}

    def search(self, query: str, limit: int = LIMIT) -> tuple[list[Row], int]:
        """The first `limit` matching cards in vault order, and how many match in all."""
        tests = [_term(t, self) for t in _split(query)]
        now = self.study.clock().astimezone(timezone.utc)
        end = day_bounds(now, self.study.tz, self.study.study_settings.day_start_hour)[1]
        found = [face for face in self.study.faces.values()
                 if all(test(face, self._state(face.id), end) for test in tests)]
        return [self.row(face.id) for face in found[:limit]], len(found)

    def row(self, card_id: str) -> Row:
        face = self.study.faces[card_id]
        state = self._state(card_id)
        front = self.text(card_id, front_only=True)
        return Row(id=card_id, text=front[:160], deck=face.deck, state=state.queue,
                   due=state.due.isoformat() if state.due and state.queue != "new" else None,
                   suspended=state.suspended, leech=state.leech, tags=list(face.tags), path=face.path, line=face.line)

    def info(self, card_id: str) -> CardInfo:
        """The card's row, its history with the interval each answer gave, and its memory now."""
        row = self.row(card_id)
        state = self._state(card_id)
        info = CardInfo(row, self._history(card_id), state.stability, state.difficulty, None, state.reps, state.lapses)
        if state.stability and state.last_review and state.queue != "new":
            card = FsrsCard(card_id=0, state=State.Review, stability=state.stability, difficulty=state.difficulty,
                            due=state.due, last_review=state.last_review)
            info.retrievability = self.study.replay.schedule.fsrs.get_card_retrievability(
                card, max(self.study.clock().astimezone(timezone.utc), state.last_review))
        return info

    def text(self, card_id: str, front_only: bool = False) -> str:
        """The card's fields as plain text (its front alone with `front_only`)."""
        face = self.study.faces[card_id]
        note = face.note
        key = (card_id + (":front" if front_only else ""), note.content_hash if note else "")
        if key not in self._text:
            html = face.sides()[0] if front_only else " ".join(v for k, v in note.fields.items() if k != SIM_FIELD)
            self._text[key] = unescape(_SPACE.sub(" ", _MARKUP.sub(" ", html)).strip())
        return self._text[key]

    def _state(self, card_id: str) -> CardState:
        return self.study.replay.states.get(card_id) or CardState()

    def _history(self, card_id: str) -> list[HistoryRow]:
        guid, ordinal = split_card_id(card_id)
        replay = self.study.replay
        guids = [guid, *(g for g, target in replay.alias.items() if target == guid)]
        events = sorted(replay.store.events_of(guids, ordinal), key=Event.sort_key)
        undone = {e.undoes for e in events if e.type == "undo"}
        state, rows = CardState(), []
        for event in events:
            if event.type == "undo" or event.id in undone:
                continue
            replay.schedule.apply(state, event, card_id)
            moved = event.type == "review" or (event.type == "set_due" and state.queue != "new")
            interval = interval_label(state.due - event.time) if moved and state.due else None
            rows.append(HistoryRow(event.time.isoformat(), event.type, event.rating, interval))
        return rows


def _split(query: str) -> list[str]:
    try:
        return shlex.split(query)
    except ValueError:
        raise BadQuery("a quote is not closed") from None


def _term(term: str, browser: Browser):
    """A test of (face, state, end of today) for one search term."""
    if term.startswith("-") and len(term) > 1:
        inner = _term(term[1:], browser)
        return lambda face, state, end: not inner(face, state, end)
    name, sep, value = term.partition(":")
    name = name.lower()
    if sep and name == "deck":
        pattern = value.lower()
        return lambda face, state, end: any(fnmatch.fnmatchcase(d.lower(), pattern) for d in _decks(face.deck))
    if sep and name == "tag":
        wanted = value.lower()
        return lambda face, state, end: any(t.lower() == wanted or t.lower().startswith(wanted + "::")
                                            or fnmatch.fnmatchcase(t.lower(), wanted) for t in _tags(face, state))
    if sep and name == "is":
        if value not in _IS:
            raise BadQuery(f"is:{value}: expected one of {', '.join('is:' + k for k in _IS)}")
        return _is(value)
    if sep and name == "due":
        if not value.isdigit():
            raise BadQuery(f"due:{value}: expected a number of days, like due:3")
        days = int(value)
        return lambda face, state, end: (state.queue != "new" and state.due is not None
                                         and state.due < end + timedelta(days=days))
    word = term.lower()
    return lambda face, state, end: word in browser.text(face.id).lower()


def _is(value: str):
    if value == "new":
        return lambda face, state, end: state.queue == "new"
    if value == "learn":
        return lambda face, state, end: state.queue in ("learning", "relearning")
    if value == "review":
        return lambda face, state, end: state.queue == "review"
    if value == "suspended":
        return lambda face, state, end: state.suspended
    if value == "leech":
        return lambda face, state, end: state.leech
    return lambda face, state, end: (state.queue != "new" and not state.suspended
                                     and state.due is not None and state.due < end)


def _decks(deck: str) -> list[str]:
    parts = deck.split("::")
    return ["::".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _tags(face, state: CardState) -> list[str]:
    return [*face.tags, "leech"] if state.leech else list(face.tags)

