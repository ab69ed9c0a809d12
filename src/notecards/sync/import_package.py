"""A batch of new notes as an Anki package that leaves the collection's note types as they are.

AnkiConnect's `addNotes` adds one note at a time on Anki's main thread (5-10 ms a note); its
`importPackage` runs Anki's own importer on a local package (1,000 notes in ~0.1 s).
The add-on calls `anki.importing.AnkiPackageImporter`, which on current Anki (26.9) is the Rust
importer (`rslib/src/import_export/package/apkg/import/`) with "merge note types", "with
scheduling" and "with deck presets" on. What it does with a package, and how this one is made so
that it adds the notes and changes nothing else:
- Note types are matched by id. A match is merged: fields and templates are matched by their
  ids, or by name when one side has none, and the missing ones added; then the package's type
  replaces the collection's only if its `mod` is newer. So each type here is a copy of the
  collection's own (its id, its field names, its template names and formats, its css and kind,
  read through AnkiConnect), with no field or template ids and `mod` 0: every field and template
  matches by name, none is missing, and the collection's type is kept as it is: fields (with
  their ids), templates, css, sort field, kind, and no schema change. Only its `mod` moves on, as
  Anki marks every type it merges as modified (`tests/test_sync_real_anki.py` and
  `tests/test_sync_ankiconnect_import.py` prove it on a collection whose types were customised).
  A kind that differs (cloze against standard) fails the whole import, which then adds nothing.
- Cards are the package's own (the importer generates none), so the package is built with the
  `anki` package's collection: Anki's own card generation, exactly what `--collection` makes.
- Notes keep the package's id unless the collection has it (then it is moved up by 999s); a note
  whose GUID the collection has is not added. The GUID is derived from the card's identity and its
  note type, so a second import of the same notes adds none, and a GUID match is never of a note
  of another type (which the importer would answer by merging the two types).
- Decks are matched by name (a missing one is created); the package's decks use preset 1, which
  every collection has and which the importer then leaves alone. New cards are positioned after
  the collection's last new card, as `addNotes` would put them.
Media are not in the package: the sync stores them by path, as for every other change.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from notecards.identity import stable_hash
from notecards.types import Card

_CLOZE_FILTER = re.compile(r"{{[^}]*cloze:", re.IGNORECASE)


@dataclass
class NoteTypeCopy:
    """What AnkiConnect tells of one of the collection's note types (`modelNamesAndIds`,
    `modelFieldNames`, `modelTemplates`, `modelStyling`): enough to copy it into a package."""

    name: str
    id: int
    fields: list[str]
    templates: list[tuple[str, str, str]]          # (name, front, back), in the type's order
    css: str

    @property
    def cloze(self) -> bool:
        """A cloze type's template reads its text through the `cloze:` filter (Anki requires it)."""
        return any(_CLOZE_FILTER.search(front) for _, front, _ in self.templates)

    def field_of(self, name: str) -> str | None:
        """The type's field a card's field fills: matched without case, as `addNote` does."""
        return next((f for f in self.fields if f.lower() == name.lower()), None)


@dataclass
class Package:
    """A written package: `expected` maps the id each note has in it to its card; `left` are the
    cards it does not hold (Anki would refuse them: `addNotes` tries them and says why)."""

    path: Path
    expected: dict[int, Card] = field(default_factory=dict)
    left: list[Card] = field(default_factory=list)


def import_guid(card: Card) -> str:
    """The package note's GUID: the card's identity within its note type."""
    return stable_hash("ankiconnect-import", card.guid, card.note_type, length=10)


def write_package(cards: list[Card], types: dict[str, NoteTypeCopy], folder: Path,
                  first_position: int, first_id: int) -> Package:
    """Write `cards` as `folder/notes.apkg`, their notes numbered from `first_id` (so that one
    package's ids are not the previous one's: ids count milliseconds, and a batch is numbered
    faster than the clock runs) and their new cards positioned from `first_position`."""
    from anki.collection import AddNoteRequest, Collection

    col = Collection(str(folder / "collection.anki2"))
    package = Package(folder / "notes.apkg")
    try:
        temp_ids = _copy_note_types(col, [types[n] for n in sorted({c.note_type for c in cards})])
        blanks = {name: col.new_note(col.models.by_name(name)) for name in {c.note_type for c in cards}}
        decks = {name: col.decks.id(name, create=True) for name in sorted({c.deck for c in cards})}
        requests = []
        for card in cards:
            note = _note(blanks[card.note_type], card, types[card.note_type])
            if note is None:
                package.left.append(card)
            else:
                requests.append((card, AddNoteRequest(note, decks[card.deck])))
        added = _add_all(col, requests, package.left)
        shift = first_id - min((int(r.note.id) for _, r in added), default=first_id)
        package.expected = {int(r.note.id) + shift: card for card, r in added}
    finally:
        col.close(downgrade=True)                   # the package's collection in the legacy schema
    if package.expected:
        _as_copies(folder / "collection.anki2", temp_ids, first_position, shift)
        with zipfile.ZipFile(package.path, "w", compression=zipfile.ZIP_STORED) as z:
            z.write(folder / "collection.anki2", "collection.anki2")
            z.writestr("media", "{}")
    return package


def _copy_note_types(col, copies: list[NoteTypeCopy]) -> dict[int, int]:
    """Add each copy to the package's collection; the id Anki gave it -> the collection's id. The
    stock types a new collection has are renamed out of the way first and removed at the end."""
    from anki.consts import MODEL_CLOZE

    mm = col.models
    stock = [m.id for m in mm.all_names_and_ids()]
    for ntid in stock:
        model = mm.get(ntid)
        model["name"] = f"stock {ntid}"
        mm.update_dict(model)
    temp_ids = {}
    for nt in copies:
        model = mm.new(nt.name)
        if nt.cloze:
            model["type"] = MODEL_CLOZE
        for name in nt.fields:
            mm.add_field(model, mm.new_field(name))
        for name, front, back in nt.templates:
            template = mm.new_template(name)
            template["qfmt"], template["afmt"] = front, back
            mm.add_template(model, template)
        model["css"] = nt.css
        temp_ids[mm.add_dict(model).id] = nt.id
    for ntid in stock:
        mm.remove(ntid)
    return temp_ids


def _note(blank, card: Card, nt: NoteTypeCopy):
    """The card as a note of the package, or None when `addNote` would not add it as it is (a
    field its type lacks, which it would drop; an empty first field; a cloze problem)."""
    from anki.notes import NoteFieldsCheckResult

    note = copy.copy(blank)                         # a new note of the type, without asking Anki
    note.fields = list(blank.fields)
    for name, value in card.fields.items():
        target = nt.field_of(name)
        if target is None:
            return None
        note[target] = value
    note.tags = list(card.tags)
    note.guid = import_guid(card)
    accepted = (NoteFieldsCheckResult.NORMAL, NoteFieldsCheckResult.DUPLICATE)   # as `addNote` does
    return note if note.fields_check() in accepted else None


def _add_all(col, requests: list, left: list[Card]) -> list:
    """Add the notes in one call; if Anki refuses one, add them one by one and leave the refused."""
    try:
        col.add_notes([r for _, r in requests])
        return requests
    except Exception:                               # which note Anki refused, it does not say
        added = []
        for card, request in requests:
            try:
                col.add_note(request.note, request.deck_id)
                added.append((card, request))
            except Exception:
                left.append(card)
        return added


def _as_copies(path: Path, temp_ids: dict[int, int], first_position: int, shift: int) -> None:
    """Give the package's note types the collection's ids, no field or template ids and `mod` 0;
    move its note ids on by `shift` and its new cards' positions to follow the collection's."""
    db = sqlite3.connect(path)
    try:
        models = json.loads(db.execute("select models from col").fetchone()[0])
        copies = {}
        for key, model in models.items():
            model["id"] = temp_ids[int(key)]
            model["mod"] = 0
            for part in model["flds"] + model["tmpls"]:
                part.pop("id", None)
            copies[str(model["id"])] = model
            db.execute("update notes set mid = ? where mid = ?", (model["id"], int(key)))
        db.execute("update col set models = ?", (json.dumps(copies),))
        db.execute("update cards set due = due + ? where type = 0", (first_position - 1,))
        for table, column in (("notes", "id"), ("cards", "nid")):     # through negatives: ids stay unique
            db.execute(f"update {table} set {column} = -{column}")
            db.execute(f"update {table} set {column} = ? - {column}", (shift,))
        db.commit()
    finally:
        db.close()
