"""Apply a sync plan to an Anki collection file with the official `anki` package, Anki closed.

Cards go into the collection's own note types by name (`Basic`, `Cloze`, …), as Obsidian_to_Anki
does; a stock type the collection lacks is created from Anki's stock definition, and a custom one
as a plain front/back type with the card's fields. Adds go in one backend call and keep the card's
GUID, so a sync killed before its ID lines were written finds its notes again instead of adding
duplicates. Updates change the note in place (its cards, and so their review history, stay),
a changed note type too, through Anki's own Change Note Type (cards map by template position).
Anki holds its collection exclusively while it runs: opening it then fails, and we say so.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Iterable, Mapping

from notecards.cloze import is_cloze_type
from notecards.sync.plan import Applied, NewNote, RemoteNote, SyncPlan, Update
from notecards.sync.sync_state import PendingAdd
from notecards.types import Card, Diagnostic

ANKI_RUNNING = ("Anki has this collection open ({path}). Close Anki and sync again, "
                "or keep it open and use --ankiconnect.")


class CollectionLocked(Exception):
    """Another program (normally Anki itself) has the collection open."""


class NotACollection(Exception):
    """The path names no Anki collection (missing, or another kind of file): a usage error."""


class CollectionBackend:
    """An open collection file, for one sync."""

    batch_notes = None                # one call adds them all
    needs_journal = False             # adds keep the card's GUID: `nids_for_guids` finds them

    def __init__(self, path: Path):
        from anki.collection import Collection
        from anki.errors import DBError

        problem = not_a_collection(Path(path))
        if problem:
            raise NotACollection(problem)
        try:
            self.col = Collection(str(path))
        except DBError as exc:
            if "already open" in str(exc):
                raise CollectionLocked(ANKI_RUNNING.format(path=path)) from exc
            raise NotACollection(f"{path} is not an Anki collection ({exc})") from exc
        self.path = Path(path)
        self._deck_names: dict[int, str] = {}

    def close(self) -> None:
        self.col.close()

    def __enter__(self) -> "CollectionBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def decks_of(self, expected: Mapping[int, str],
                 read_next: Mapping[int, str] | None = None) -> dict[int, set[str]]:
        """One SQL query per 500 notes (`read_next` is no help here: `notes` is as cheap)."""
        ids = [int(n) for n in expected]
        out: dict[int, set[str]] = {}
        for chunk in _chunks(ids, 500):
            for nid, did, odid in self.col.db.all(
                    f"select nid, did, odid from cards where nid in ({_ids(chunk)})"):
                out.setdefault(nid, set()).add(self._deck_name(odid or did))
        return out

    def notes(self, nids: Iterable[int], homes: Mapping[int, str] | None = None) -> dict[int, RemoteNote]:
        """The notes, with every card's deck (one SQL query: `homes` is no help here)."""
        ids = sorted({int(n) for n in nids})
        out: dict[int, RemoteNote] = {}
        names = {m.id: m.name for m in self.col.models.all_names_and_ids()}
        field_names: dict[int, list[str]] = {}
        for chunk in _chunks(ids, 500):
            rows = self.col.db.all(f"select id, guid, mid, tags, flds from notes where id in ({_ids(chunk)})")
            for nid, guid, mid, tags, flds in rows:
                if mid not in field_names:
                    field_names[mid] = self.col.models.field_names(self.col.models.get(mid))
                values = flds.split("\x1f")
                out[nid] = RemoteNote(nid, names.get(mid, ""), dict(zip(field_names[mid], values)),
                                      tags.split(), set(), guid)
            for nid, did, odid in self.col.db.all(
                    f"select nid, did, odid from cards where nid in ({_ids(chunk)})"):
                out[nid].decks.add(self._deck_name(odid or did))
        return out

    def nids_for_guids(self, guids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(guids))
        out: dict[str, int] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            for nid, guid in self.col.db.all(f"select id, guid from notes where guid in ({marks})", *chunk):
                out[guid] = nid
        return out

    def find_added(self, pending: list[PendingAdd], known: set[int]) -> dict[str, int]:
        return {}

    def _deck_name(self, did: int) -> str:
        if did not in self._deck_names:
            self._deck_names[did] = self.col.decks.name(did)
        return self._deck_names[did]

    # -- writing ---------------------------------------------------------------------------

    def apply(self, plan: SyncPlan) -> Applied:
        """Carry out the plan (see `plan.Backend.apply`)."""
        from anki.collection import AddNoteRequest

        done = Applied()
        self.col.remove_notes([d.nid for d in plan.deletes])
        requests, cards = [], []
        for add in plan.adds:
            note = self._new_note(add.card, done.diagnostics)
            if note is not None:
                requests.append(AddNoteRequest(note, self._deck_id(add.card.deck)))
                cards.append(add.card)
        if requests:
            self.col.add_notes(requests)
        done.new_notes = [NewNote(card, int(r.note.id)) for card, r in zip(cards, requests)]
        for u in plan.updates:
            if u.changes.note_type and self._change_note_type(u, done.diagnostics):
                done.new_notes.append(NewNote(u.card, u.nid))
        self._update([u for u in plan.updates if not u.changes.note_type], done.diagnostics)
        self._store_media([a.card for a in plan.adds] + [u.card for u in plan.updates])
        return done

    def _update(self, updates: list[Update], diags: list[Diagnostic]) -> None:
        changed = []
        moves: dict[int, list[int]] = defaultdict(list)
        for u in updates:
            if u.changes.content:
                note = self.col.get_note(u.nid)
                if self._fill(note, u.card, diags):
                    changed.append(note)
            if u.changes.deck:
                moves[self._deck_id(u.card.deck)].extend(self.col.card_ids_of_note(u.nid))
        if changed:
            self.col.update_notes(changed)
        for did, cids in moves.items():
            self.col.set_deck(cids, did)

    def _change_note_type(self, u: Update, diags: list[Diagnostic]) -> bool:
        """Anki's own "Change Note Type": the note keeps its id, and cards whose template maps
        across keep their review history."""
        model = self._note_type(u.card)
        if not self._fill(self.col.new_note(model), u.card, diags):
            return False
        request = self.col.models.change_notetype_info(
            old_notetype_id=self.col.get_note(u.nid).mid, new_notetype_id=model["id"]).input
        request.note_ids.append(u.nid)
        self.col.models.change_notetype_of_notes(request)
        note = self.col.get_note(u.nid)
        self._fill(note, u.card, diags)
        self.col.update_note(note)
        self.col.set_deck(self.col.card_ids_of_note(u.nid), self._deck_id(u.card.deck))
        return True

    def _new_note(self, card: Card, diags: list[Diagnostic]):
        model = self._note_type(card)
        note = self.col.new_note(model)
        if card.guid:
            note.guid = card.guid
        return note if self._fill(note, card, diags) else None

    def _fill(self, note, card: Card, diags: list[Diagnostic]) -> bool:
        keys = note.keys()
        missing = [k for k in card.fields if k not in keys]
        if missing:
            diags.append(Diagnostic(card.block.path, card.block.line, "error",
                                    f"note type {card.note_type!r} in this collection has no field "
                                    f"{', '.join(map(repr, missing))} (its fields: {', '.join(keys)}); "
                                    "card not synced"))
            return False
        for k, v in card.fields.items():
            note[k] = v
        note.tags = list(card.tags)
        return True

    def _note_type(self, card: Card):
        model = self.col.models.by_name(card.note_type)
        if model is None:
            model = self._create_note_type(card.note_type, list(card.fields))
        return model

    def _create_note_type(self, name: str, field_names: list[str]):
        from anki.consts import MODEL_CLOZE
        from anki.stdmodels import get_stock_notetypes

        stock = dict(get_stock_notetypes(self.col))
        if name in stock:
            model = stock[name](self.col)
            model["id"] = 0
        else:
            # a custom type: its first field on the front, the rest on the back; a name that says
            # "cloze" makes a cloze type on its first field, as Obsidian_to_Anki reads such names
            mm = self.col.models
            model = mm.new(name)
            names = field_names or ["Front", "Back"]
            for f in names:
                mm.add_field(model, mm.new_field(f))
            first, rest = names[0], names[1:]
            t = mm.new_template("Cloze" if is_cloze_type(name) else "Card 1")
            if is_cloze_type(name):
                model["type"] = MODEL_CLOZE
                model["css"] = stock["Cloze"](self.col)["css"]      # Anki's `.cloze` highlight
                t["qfmt"] = "{{cloze:" + first + "}}"
                t["afmt"] = "{{cloze:" + first + "}}" + "".join("<br>{{" + f + "}}" for f in rest)
            else:
                t["qfmt"] = "{{" + first + "}}"
                t["afmt"] = "{{FrontSide}}<hr id=answer>" + "<br>".join("{{" + f + "}}" for f in rest)
            mm.add_template(model, t)
        self.col.models.add_dict(model)
        return self.col.models.by_name(name)

    def _deck_id(self, name: str) -> int:
        return int(self.col.decks.id(name, create=True))

    def _store_media(self, cards: list[Card]) -> None:
        seen: set[str] = set()
        for card in cards:
            for media in card.media:
                if media.name in seen:
                    continue
                seen.add(media.name)
                if not self.col.media.have(media.name):
                    self.col.media.write_data(media.name, media.read())


def not_a_collection(path: Path) -> str | None:
    """Why `path` is not an Anki collection, or None when it looks like one. Checked before Anki
    opens it, because Anki would turn any SQLite file (or an empty one) into a new collection."""
    import sqlite3
    from contextlib import closing

    if not path.exists():
        return f"no Anki collection at {path} (no such file)"
    if not path.is_file():
        return f"{path} is a folder, not an Anki collection (give its collection.anki2)"
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        return f"{path} is not an Anki collection (not an SQLite database)"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.OperationalError:
        return None                   # locked by Anki: opening it says so
    if not {"col", "notes", "cards"} <= tables:
        return f"{path} is an SQLite database but not an Anki collection (no notes or cards tables)"
    return None


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _ids(chunk: list[int]) -> str:
    return ",".join(str(int(n)) for n in chunk)

