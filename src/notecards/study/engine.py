"""`Study`: one person's study session over a vault — the engine behind `notecards study`.

It builds the vault's cards with the same cached pipeline as export (an unchanged file is not
read again), replays the history folder into scheduling states (cached in `.notecards/`), and
answers what the web page asks: decks with counts, the next card, the intervals of the answer
buttons, and answers, each on disk before `answer()` returns. Time comes from `clock`, so tests
run on a fixed clock. Nothing here prints; problems are `Diagnostic`s.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from notecards.config import CONFIG_FILE, Settings, load_settings
from notecards.export_state import STATE_DIR, load_state, save_state
from notecards.study.aliases import renamed_cards
from notecards.study.cards import Face, faces_of
from notecards.study.events import Event, split_card_id
from notecards.study.history import HistoryReadOnly, HistoryWriter, read_only_reason
from notecards.study.queue import DeckCounts, Queue, day_bounds, parents
from notecards.study.replay import Replay
from notecards.study.schedule import CardState, Schedule, interval_label
from notecards.study.settings import StudySettings, load_study_settings, sanitise_device
from notecards.study.store import Store
from notecards.types import Diagnostic, MediaFile
from notecards.vault import SKIP_DIRS

__all__ = ["Study", "StudyCard", "AnswerResult", "SessionSummary", "DeckCounts", "HistoryReadOnly",
           "UnknownCard"]


class UnknownCard(KeyError):
    """A card id that is not a card of the vault (the page asked for something stale)."""


@dataclass(frozen=True)
class StudyCard:
    id: str                 # URL-safe: hex of the GUID, "-", the ordinal
    guid: str
    ordinal: int
    deck: str
    note_type: str
    front_html: str
    back_html: str
    path: str               # vault-relative note file
    line: int               # 1-based line of the card's block
    tags: list[str]
    state: str              # "new" | "learning" | "review" | "relearning"
    suspended: bool = False
    due: str | None = None  # ISO time, None for a new card

    def to_dict(self) -> dict:
        return dict(self.__dict__, tags=list(self.tags))


@dataclass(frozen=True)
class AnswerResult:
    card_id: str
    rating: int
    event_id: str
    state: str
    due: str                 # ISO time of the card's next showing
    interval: str            # its label, as the button showed it
    leech: bool = False      # this answer made the card a leech: tagged "leech" and suspended

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SessionSummary:
    studied: int             # answers this session (undone ones not counted)
    seconds: float           # time spent on them
    again_rate: float        # share of Again answers (0 when nothing was studied)
    due_tomorrow: int        # review and learning cards due by the end of the next study day

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Action:
    event: Event
    card: str


@dataclass
class Study:
    vault: Path
    settings: Settings
    study_settings: StudySettings
    device: str
    clock: Callable[[], datetime]
    tz: tzinfo | None                 # None: this machine's local time (daylight saving included)
    simulate: bool
    progress: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    writable: bool = True
    read_only_reason: str | None = None
    faces: dict[str, Face] = field(default_factory=dict)
    _media: dict[str, MediaFile] = field(default_factory=dict)
    _signature: tuple = ()
    _build_diagnostics: list[Diagnostic] = field(default_factory=list)
    _session: list[_Action] = field(default_factory=list)
    _pinned: str | None = None
    _passed: set[str] = field(default_factory=set)     # skipped this session: in memory only
    _early: list[Diagnostic] = field(default_factory=list)
    _sorted: Queue | None = None
    replay: Replay = field(init=False)
    _writer: HistoryWriter = field(init=False)
    _cache_writable: bool = field(init=False)

    @classmethod
    def open(cls, vault: Path, *, settings: Settings | None = None, device: str | None = None,
             clock: Callable[[], datetime] | None = None, simulate: bool = True,
             extensions: list[str] | None = None, progress: bool = False, tz: tzinfo | None = None,
             fuzz: bool = True) -> "Study":
        """Build the vault's cards and replay its history; problems go to `diagnostics`.
        `tz` is the zone of the 4 am day start (default: this machine's local time); `fuzz=False` only
        for comparing with the `fsrs` package."""
        vault = Path(vault)
        early: list[Diagnostic] = []
        if settings is None:
            settings = load_settings(vault, early)      # it leaves the [study] table to us
        if extensions:
            settings.extensions = sorted({*settings.extensions, *(e if e.startswith(".") else "." + e for e in extensions)})
        study_settings = load_study_settings(vault, early)
        if device:
            study_settings.device = sanitise_device(device) or study_settings.device
        study = cls(vault=vault, settings=settings, study_settings=study_settings, device=study_settings.device,
                    clock=clock or (lambda: datetime.now(timezone.utc)),
                    tz=tz,
                    simulate=simulate, progress=progress, diagnostics=list(early), _early=early)
        study._start(fuzz)
        return study

    # --- set-up

    def _start(self, fuzz: bool) -> None:
        folder = self.vault / self.study_settings.history_folder
        own = folder / f"{self.device}.jsonl"
        self.read_only_reason = read_only_reason(folder, own)
        self.writable = self.read_only_reason is None
        cache_ok = os.access(self.vault, os.W_OK) and (not (self.vault / STATE_DIR).exists()
                                                      or os.access(self.vault / STATE_DIR, os.W_OK))
        self._cache_writable = cache_ok
        store = Store(self.vault / STATE_DIR / "study.sqlite" if cache_ok else None)
        self.replay = Replay(Schedule(self.study_settings, fuzz), store, folder,
                             self.study_settings.history_folder.strip("/"))
        self.replay.load(self._now())
        self._writer = HistoryWriter(folder, self.device, self.replay.last_seq(self.device),
                                     self.replay.known_size(own.name))
        self._rebuild()

    def _now(self) -> datetime:
        """The clock in UTC, to the millisecond: what a history line can hold, so the state
        computed in the session is the state a replay of the file gives."""
        now = self.clock().astimezone(timezone.utc)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def _rebuild(self) -> None:
        """Build the cards (cached per file), follow renamed GUIDs, gather the diagnostics."""
        from notecards.pipeline import BuildOptions, build

        self._signature = self._vault_signature()
        state = load_state(self.vault)
        previous = {path: list(known) for path, known in state.known.items()}
        result = build(self.vault, self.settings, state,
                       BuildOptions(cache=True, simulate=self.simulate, progress=self.progress,
                                    read_only=not self._cache_writable))
        if self._cache_writable and result.parsed:     # no file read: identity state unchanged
            save_state(self.vault, state)
        self._follow_renames(result.cards, previous)
        self.faces = {f.id: f for card in result.cards for f in faces_of(card)}
        self._sorted = None
        self._media = {m.name: m for card in result.cards for m in card.media}
        self._build_diagnostics = result.diagnostics
        if not result.cards:
            self._build_diagnostics = [*result.diagnostics,
                                       Diagnostic(".", 0, "warning", "no cards in this vault (nothing to study)")]
        self._collect_diagnostics()

    def _follow_renames(self, cards, previous) -> None:
        """A card that took an ID line keeps its history: an alias event says so for good (in
        memory only when the history cannot be written)."""
        aliased = set(self.replay.alias) | set(self.replay.alias.values())
        renames = renamed_cards(cards, previous, self.settings.vault_name, self.replay.store.has_guid, aliased)
        for i, (old, new) in enumerate(renames):
            if self.writable:
                self._record(lambda eid, o=old, n=new: Event(eid, "alias", self._now(), guid=o, to=n), card=None)
            else:
                self.replay.add(Event(f"{self.device}-unsaved:{i}", "alias", self._now(), guid=old, to=new), "(unsaved)")

    def _collect_diagnostics(self) -> None:
        """Build, settings and history problems, and one warning per card of the history that
        is not in the vault (at most `_UNUSED_SHOWN`, then a count)."""
        unused = sorted(c for c in self.replay.states if c not in self.faces)
        shown = [d for d in (self.replay.store.unused_card(*split_card_id(c), self.replay.display)
                             for c in unused[:_UNUSED_SHOWN]) if d is not None]
        if len(unused) > _UNUSED_SHOWN:
            shown.append(Diagnostic(self.replay.display, 0, "warning",
                                    f"{len(unused) - _UNUSED_SHOWN} more cards of the history are not in the vault "
                                    "(kept, unused until they come back)"))
        self.diagnostics = sorted([*self._early, *self._build_diagnostics, *self.replay.diagnostics, *shown],
                                  key=lambda d: (d.path, d.line, d.col))

    def _vault_signature(self) -> tuple:
        """Every vault file's name, size and mtime (the folders the build skips, and the history,
        which grows with every answer, left out): when it changes, the vault is built again."""
        history = (self.vault / self.study_settings.history_folder).resolve()
        out = []
        stack = [self.vault]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS and not entry.name.startswith(".") and Path(entry.path) != history:
                        stack.append(Path(entry.path))
                elif entry.name == CONFIG_FILE or not entry.name.startswith("."):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    out.append((entry.path, st.st_mtime_ns, st.st_size))
        return tuple(sorted(out))

    # --- what the page asks

    def refresh(self) -> list[Diagnostic]:
        """Re-build when a vault file changed, re-read history other devices added; cheap otherwise."""
        history_changed = self.replay.load(self._now())
        if self._vault_signature() != self._signature:
            self._rebuild()
        elif history_changed:
            self._sorted = None
            self._collect_diagnostics()
        return self.diagnostics

    def decks(self) -> list[DeckCounts]:
        return self._queue().counts()

    def next_card(self, deck: str | None = None) -> StudyCard | None:
        if self._pinned in self.faces and (deck is None or deck in parents(self.faces[self._pinned].deck)):
            return self.card(self._pinned)
        face = self._queue().next(deck, frozenset(self._passed))
        return self._card_of(face) if face is not None else None

    def skip(self, card_id: str) -> None:
        """Pass over a card for the rest of this session, writing nothing: how a read-only vault is
        still studied (its answers cannot be saved, so they are not taken, but the next card is)."""
        self._face(card_id)
        self._passed.add(card_id)
        if self._pinned == card_id:
            self._pinned = None

    def card(self, card_id: str) -> StudyCard:
        return self._card_of(self._face(card_id))

    def intervals(self, card_id: str) -> dict[int, str]:
        face = self._face(card_id)
        spans = self.replay.schedule.preview(self._state(face.id), self._now(), face.id)
        return {rating: interval_label(span) for rating, span in spans.items()}

    def answer(self, card_id: str, rating: int, duration_ms: int = 0) -> AnswerResult:
        """Record an answer; it is on disk (fsync'd) before this returns."""
        face = self._face(card_id)
        if rating not in (1, 2, 3, 4) or isinstance(rating, bool):
            raise ValueError(f"rating must be 1, 2, 3 or 4, not {rating!r}")
        ms = max(0, int(duration_ms))
        now = self._now()
        leech = self._record(lambda eid: Event(eid, "review", now, face.guid, face.ordinal, rating=rating, ms=ms),
                             card=face.id)
        if self._pinned == face.id:
            self._pinned = None
        state = self._state(face.id)
        due = state.due or now
        return AnswerResult(card_id=face.id, rating=rating, event_id=self._session[-1].event.id, state=state.queue,
                            due=due.isoformat(), interval=interval_label(due - now), leech=leech)

    def undo(self) -> str | None:
        """Cancel this session's last answer, suspend or bury; the card comes back next."""
        if not self._session:
            return None
        action = self._session[-1]
        guid, ordinal = split_card_id(action.card)
        self._record(lambda eid: Event(eid, "undo", self._now(), guid, ordinal, undoes=action.event.id), card=None)
        self._session.pop()
        self._pinned = action.card if action.card in self.faces else None
        return action.card

    def suspend(self, card_id: str) -> None:
        self._card_event(card_id, "suspend")

    def unsuspend(self, card_id: str) -> None:
        self._card_event(card_id, "unsuspend")

    def bury(self, card_id: str) -> None:
        self._card_event(card_id, "bury")

    def reset(self, card_id: str) -> None:
        """Forget the card's scheduling (it becomes new); its past reviews stay in the history."""
        self._card_event(card_id, "reset")

    def set_due(self, card_id: str, days: int) -> None:
        """Make a studied card due at the start of the study day `days` from today (0: now)."""
        face = self._face(card_id)
        if self._state(face.id).queue == "new":
            raise ValueError("a new card has no due date to set: study it once first")
        now = self._now()
        due = now if days == 0 else day_bounds(now + timedelta(days=days), self.tz, self.study_settings.day_start_hour)[0]
        self._record(lambda eid: Event(eid, "set_due", now, face.guid, face.ordinal, due=due), card=face.id)

    def summary(self, deck: str | None = None) -> SessionSummary:
        answers = [a for a in self._session if a.event.type == "review"
                   and (deck is None or deck in parents(self.faces.get(a.card, _NO_FACE).deck))]
        again = sum(1 for a in answers if a.event.rating == 1)
        hour = self.study_settings.day_start_hour
        tomorrow_end = day_bounds(day_bounds(self._now(), self.tz, hour)[1], self.tz, hour)[1]
        due = 0
        for face in self.faces.values():
            state = self._state(face.id)
            if deck is not None and deck not in parents(face.deck):
                continue
            if state.queue != "new" and not state.suspended and state.due is not None and state.due < tomorrow_end:
                due += 1
        return SessionSummary(studied=len(answers), seconds=sum(a.event.ms or 0 for a in answers) / 1000,
                              again_rate=again / len(answers) if answers else 0.0, due_tomorrow=due)

    def media(self, name: str) -> MediaFile | None:
        return self._media.get(name)

    def close(self) -> None:
        self.replay.store.close()

    # --- inside

    def _card_event(self, card_id: str, kind: str) -> None:
        face = self._face(card_id)
        self._record(lambda eid: Event(eid, kind, self._now(), face.guid, face.ordinal), card=face.id)
        if self._pinned == face.id and kind in ("suspend", "bury"):
            self._pinned = None

    def _record(self, make: Callable[[str], Event], card: str | None) -> bool:
        """Append an event to this device's file, then apply it; True when it made a leech.
        HistoryReadOnly when the file cannot be written (nothing is applied then)."""
        if not self.writable:
            raise HistoryReadOnly(self.read_only_reason or "the history folder is read-only")
        written = self._writer.append(make)
        leech = self.replay.add(written.event, self._writer.path.name, written.offset, written.data)
        if card is not None:
            self._session.append(_Action(written.event, card))
        target = card or (written.event.card if written.event.type == "undo" else None)
        if self._sorted is not None:
            if target is None:
                self._sorted = None
            else:
                self._sorted.touch(target, self._now())
        return leech

    def _face(self, card_id: str) -> Face:
        face = self.faces.get(card_id)
        if face is None:
            raise UnknownCard(card_id)
        return face

    def _state(self, card_id: str) -> CardState:
        return self.replay.states.get(card_id) or CardState()

    def _queue(self) -> Queue:
        """The sorted cards, kept between calls while they stay valid (see Queue)."""
        now = self._now()
        if self._sorted is None or not self._sorted.valid_at(now):
            self._sorted = Queue(list(self.faces.values()), self.replay.states, self.study_settings, self.tz, now)
        self._sorted.now = now
        return self._sorted

    def _card_of(self, face: Face) -> StudyCard:
        state = self._state(face.id)
        tags = [*face.tags, "leech"] if state.leech and "leech" not in face.tags else list(face.tags)
        front, back = face.sides()
        return StudyCard(id=face.id, guid=face.guid, ordinal=face.ordinal, deck=face.deck, note_type=face.note_type,
                         front_html=front, back_html=back, path=face.path, line=face.line,
                         tags=tags, state=state.queue, suspended=state.suspended,
                         due=state.due.isoformat() if state.due and state.queue != "new" else None)


_NO_FACE = Face("", "", 0, "", "", "", 0)
_UNUSED_SHOWN = 20
