"""Bring a person's Anki review history into the vault's study history.

Someone who studied in Anki for a year keeps their memory state: the review log (`revlog`) of an
Anki collection is read for the notes this vault made — by their GUID (what export and sync give a
note) or by the note id of an ID line (`<!--ID: n-->`, written by sync or by Obsidian_to_Anki) —
and each Anki card (note + template `ord`) becomes the study card (GUID + `ord + 1`, see cards.py).

Rows become events as Anki's own FSRS reads them (rslib `reviews_for_fsrs`):
- learning, review, relearning rows, and filtered-deck rows that rescheduled, are reviews with
  Anki's time, rating and time taken;
- "Forget" / "Reset" (a manual row with no ease) is a `reset`: the card is new again;
- "Set due date", FSRS "Reschedule" and cramming (a filtered deck that does not reschedule) are
  skipped: they change no memory state, and notecards computes due dates itself.

An imported event's id is `anki.revlog:<revlog id>` (a device name notecards never gives, so it
marks the event as imported): importing again — on this device or on another that already has
the lines — adds nothing, and a cut-short import is completed by running it again. Everything is
read first (the collection is closed before a byte is written) and the lines go to this device's
history file in one write, flushed and fsync'd.
"""

from __future__ import annotations

import fcntl
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from notecards.atomic import fsync_folder
from notecards.identity import keeps_anki_id
from notecards.study.events import FUTURE_SLACK, Event, card_id
from notecards.types import Diagnostic

IMPORT_DEVICE = "anki.revlog"      # not a device name sanitise_device can give: "." is never kept
ANKI_OPEN = ("Anki has this collection open ({path}). Close Anki (or switch to another profile) "
             "and import again; nothing was imported.")

_LEARN, _REVIEW, _RELEARN, _FILTERED, _MANUAL, _RESCHEDULED = range(6)


class CollectionBusy(Exception):
    """Anki (or another program) holds the collection open."""


class ImportFailed(Exception):
    """The collection cannot be read, or the history cannot be written; nothing was imported."""


@dataclass(frozen=True)
class Row:
    """One review log row of a card of this vault, with the study card it belongs to."""

    revlog_id: int          # milliseconds since the epoch: when the answer was given
    guid: str
    ordinal: int
    ease: int               # the button: 1-4, 0 for a row that is not an answer
    kind: int               # Anki's revlog type
    factor: int
    taken_ms: int


@dataclass
class ImportReport:
    """What an import did, for the person to read."""

    reviews: int = 0                  # review events appended
    resets: int = 0                   # Forget rows appended as resets
    already: int = 0                  # rows the history already had (an earlier import)
    skipped: Counter = field(default_factory=Counter)   # reason -> rows
    cards: int = 0                    # study cards that received history
    notes: int = 0                    # notes of the collection that are this vault's
    other_notes: int = 0              # notes of the collection that are not
    file: str = ""                    # the history file written (vault-relative)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(vars(self), skipped=dict(self.skipped), diagnostics=[d.to_dict() for d in self.diagnostics])


def is_imported(event: Event) -> bool:
    """Whether an event came from an Anki review log rather than from studying here."""
    return event.device == IMPORT_DEVICE


def import_anki_history(vault: Path, collection: Path, *, device: str | None = None,
                        now: datetime | None = None) -> ImportReport:
    """Append the collection's reviews of this vault's cards to this device's history.
    CollectionBusy when Anki has it open; ImportFailed when it cannot be read or the
    history cannot be written. In both cases nothing is written."""
    from notecards.study.engine import Study

    study = Study.open(Path(vault), device=device, simulate=False)
    try:
        if not study.writable:
            raise ImportFailed(f"reviews cannot be saved: {study.read_only_reason}")
        faces = set(study.faces)
        by_guid, by_nid = vault_notes(study)
        rows, report = read_reviews(Path(collection), by_guid, by_nid)
        report.diagnostics = [d for d in study.diagnostics if d.severity == "error"]
        known = {eid for (eid,) in study.replay.store.db.execute("select id from events where device = ?",
                                                                  (IMPORT_DEVICE,))}
        events = events_of(rows, faces, known, report, now or datetime.now(timezone.utc))
        path = study.vault / study.study_settings.history_folder / f"{study.device}.jsonl"
        report.file = str(path.relative_to(study.vault))
        if events:
            append_all(path, events)
        return report
    finally:
        study.close()


def vault_notes(study) -> tuple[dict[str, str], dict[int, str]]:
    """How an Anki note is recognised as one of the vault's: its GUID (including GUIDs a card
    had before sync wrote its ID line, from the history's aliases), or the note id of an ID line.
    Both map to the card's GUID now."""
    by_guid: dict[str, str] = {}
    by_nid: dict[int, str] = {}
    for face in study.faces.values():
        by_guid[face.guid] = face.guid
        block = face.note.block if face.note is not None else None
        if block is not None and keeps_anki_id(block, face.guid):
            by_nid[block.anki_id] = face.guid
    for old, current in study.replay.alias.items():
        if current in by_guid:
            by_guid.setdefault(old, current)
    return by_guid, by_nid


def read_reviews(collection: Path, by_guid: dict[str, str], by_nid: dict[int, str]) -> tuple[list[Row], ImportReport]:
    """Every revlog row of the vault's notes, oldest first; the collection is closed on return."""
    from anki.collection import Collection
    from anki.errors import DBError

    if not collection.is_file():
        raise ImportFailed(f"no Anki collection at {collection}")
    try:
        col = Collection(str(collection))
    except DBError as exc:
        raise CollectionBusy(ANKI_OPEN.format(path=collection)) from exc
    except Exception as exc:         # not a collection, a newer schema …: the backend says why
        raise ImportFailed(f"{collection}: cannot be opened as an Anki collection ({exc})") from exc
    try:
        notes = col.db.all("select id, guid from notes")
        raw = col.db.all("select r.id, c.nid, c.ord, r.ease, r.type, r.factor, r.time "
                         "from revlog r join cards c on c.id = r.cid order by r.id")
    finally:
        col.close()
    report = ImportReport()
    ours: dict[int, str] = {}
    for nid, guid in notes:
        target = by_nid.get(nid) or by_guid.get(guid)
        if target is None:
            report.other_notes += 1
        else:
            ours[nid] = target
    report.notes = len(ours)
    rows = [Row(rid, ours[nid], ord_ + 1, ease, kind, factor, max(0, taken))
            for rid, nid, ord_, ease, kind, factor, taken in raw if nid in ours]
    return rows, report


def events_of(rows: list[Row], faces: set[str], known: set[str], report: ImportReport,
              now: datetime) -> list[Event]:
    """The events to append: one per row that carries memory, not already in the history."""
    out: list[Event] = []
    cards: set[str] = set()
    for row in rows:
        kind = _event_kind(row)
        if kind not in ("review", "reset"):
            report.skipped[kind] += 1
            continue
        cid = card_id(row.guid, row.ordinal)
        if cid not in faces:
            report.skipped["card no longer in the vault"] += 1
            continue
        eid = f"{IMPORT_DEVICE}:{row.revlog_id}"
        if eid in known:
            report.already += 1
            continue
        moment = datetime.fromtimestamp(row.revlog_id / 1000, timezone.utc)
        if moment > now + FUTURE_SLACK:
            report.skipped["dated in the future"] += 1
            continue
        rating, ms = (row.ease, row.taken_ms) if kind == "review" else (None, None)
        out.append(Event(eid, kind, moment, row.guid, row.ordinal, rating=rating, ms=ms,
                         device=IMPORT_DEVICE, seq=row.revlog_id))
        report.reviews += kind == "review"
        report.resets += kind == "reset"
        cards.add(cid)
    report.cards = len(cards)
    return out


def _event_kind(row: Row) -> str:
    """"review", "reset", or why the row is skipped — as Anki's FSRS treats each row."""
    if row.kind == _MANUAL:
        return "reset" if row.factor == 0 and row.ease == 0 else "set due date"
    if row.kind == _RESCHEDULED:
        return "rescheduled"
    if row.kind == _FILTERED and row.factor == 0:
        return "cramming"
    if row.kind in (_LEARN, _REVIEW, _RELEARN, _FILTERED) and row.ease in (1, 2, 3, 4):
        return "review"
    return "not an answer"


def append_all(path: Path, events: list[Event]) -> None:
    """All the lines in one write at the end of the file, flushed and fsync'd (the folder too
    when the file is new). A torn last line is ended first, so it never swallows ours."""
    data = "".join(e.to_line() for e in events).encode("utf-8")
    created = not path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)          # a study server of this device waits its turn
            size = f.seek(0, os.SEEK_END)
            if size:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    data = b"\n" + data
                f.seek(0, os.SEEK_END)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if created:
            fsync_folder(path.parent)
    except OSError as exc:
        raise ImportFailed(f"cannot save to {path}: {exc.strerror or exc}") from exc
