"""Apply a sync plan through a running Anki with the AnkiConnect add-on (API version 6).

For users who keep Anki open. Requests go through `connection.AnkiConnect`, bounded in bytes and
notes (the add-on's limits are measured there). What the add-on does not do is done here:
- adds: when Anki runs on this machine, a batch of new notes goes as one package through
  `importPackage` (`package_adds.py`), ~20x faster than `addNotes`, which takes one note at a
  time; an add-on without it, or refusing it, gets `addNotes`;
- decks: current Anki ignores `addNote`'s `deckName` (every card lands in `Default`), so after each
  batch of adds Anki's search finds the cards outside their deck (`deck_check.py`), which are
  moved (`changeDeck`) and searched for again; `decks_of` lets the sync find a card in the wrong
  deck on any later run, with the same searches, and move it;
- round trips: the add-on answers at its next 25 ms poll, so a sync asks in as few requests as it
  can: the greeting rides with the first one, reads and searches share a `multi`;
- GUIDs: `addNotes` gives each note a random GUID and Anki cannot search by one (nor by the
  package's GUIDs), so a batch whose
  answer was lost is found again by content (`find_added`: note type + exact first field, then
  every field compared) from the journal the sync writes before the batch;
- media: `storeMediaFile` with `path` (Anki runs on this machine and reads the file itself);
  where Anki cannot read our paths (a sandboxed Anki), the bytes go as base64 in bounded requests.
A changed note type is carried out as delete + add (the add-on has no action for it), so that
note's review history starts again and its ID line is rewritten. A note type the collection lacks
is created with `createModel`: a stock name from Anki's own definition, any other name as a
front/back type with the card's fields, or a cloze type (with Anki's `.cloze` style) when the name
says cloze, as Obsidian_to_Anki reads it.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from notecards.cloze import is_cloze_type
from notecards.config import STOCK_FIELDS
from notecards.sync.connection import MAX_NOTES, AnkiConnect, AnkiConnectError, all_answered, bounded
from notecards.sync.deck_check import DeckCheck, by_deck, chunks, nid_term, outside_searches
from notecards.sync.package_adds import IMPORT_NOTES, REFLECT, PackageAdds, same_content
from notecards.sync.plan import Applied, NewNote, RemoteNote, SyncPlan, Update
from notecards.sync.sync_state import PendingAdd
from notecards.types import Card, Diagnostic, MediaFile

READ_CHUNK = 1000              # notes per notesInfo / cards per getDecks request
# asked once, with the first request of a sync: what Anki holds and what the add-on can do
GREETING = [("version", {}), ("deckNames", {}), ("modelNames", {}), REFLECT]

# Anki's stock note types, as `anki.stdmodels` defines them (templates as AnkiConnect names them).
_ANSWER = "{{FrontSide}}\n\n<hr id=answer>\n\n"
_STOCK_TEMPLATES: dict[str, list[dict[str, str]]] = {
    "Basic": [{"Name": "Card 1", "Front": "{{Front}}", "Back": _ANSWER + "{{Back}}"}],
    "Basic (and reversed card)": [
        {"Name": "Card 1", "Front": "{{Front}}", "Back": _ANSWER + "{{Back}}"},
        {"Name": "Card 2", "Front": "{{Back}}", "Back": _ANSWER + "{{Front}}"},
    ],
    "Basic (optional reversed card)": [
        {"Name": "Card 1", "Front": "{{Front}}", "Back": _ANSWER + "{{Back}}"},
        {"Name": "Card 2", "Front": "{{#Add Reverse}}{{Back}}{{/Add Reverse}}",
         "Back": _ANSWER + "{{Front}}"},
    ],
    "Basic (type in the answer)": [
        {"Name": "Card 1", "Front": "{{Front}}\n\n{{type:Back}}",
         "Back": "{{Front}}\n\n<hr id=answer>\n\n{{type:Back}}"},
    ],
    "Cloze": [{"Name": "Cloze", "Front": "{{cloze:Text}}", "Back": "{{cloze:Text}}<br>\n{{Back Extra}}"}],
}
_CLOZE_CSS = """.card {
    font-family: arial;
    font-size: 20px;
    line-height: 1.5;
    text-align: center;
    color: black;
    background-color: white;
}
.cloze {
    font-weight: bold;
    color: blue;
}
.nightMode .cloze {
    color: lightblue;
}
"""


class AnkiConnectBackend:
    """The sync backend over AnkiConnect: same reading and writing as `CollectionBackend`."""

    needs_journal = True

    def __init__(self, url: str | None = None, key: str | None = None):
        self.client = AnkiConnect(url, key)
        self.deck_check = DeckCheck(self._ask)
        self.media_by_path = True
        self._greeted = False
        self.decks: set[str] = set()
        self.models: set[str] = set()
        self.packages = PackageAdds(self.client, None)      # none until the greeting says
        self._read_ahead: dict[int, RemoteNote | None] = {}

    def _ask(self, actions: list[tuple[str, dict]], **kwargs: Any) -> list[Any]:
        """`client.multi`, with `GREETING` sent ahead of the sync's first request: a re-sync
        with nothing to do is then one round trip (the add-on answers every 25 ms at best)."""
        if self._greeted:
            return self.client.multi(actions, **kwargs)
        answers = self.client.multi(GREETING + actions, **kwargs)
        version, decks, models, reflected = answers[:len(GREETING)]
        for answer in (version, decks, models):
            if isinstance(answer, AnkiConnectError):
                raise answer               # plainly, when Anki is at its profile picker
        self.decks, self.models = set(decks), set(models)
        self.packages = PackageAdds(self.client, reflected)
        self._greeted = True
        return answers[len(GREETING):]

    def _greet(self) -> None:
        if not self._greeted:
            self._ask([])

    @property
    def batch_notes(self) -> int:
        """Notes per part of the sync: a package takes many; `addNotes` is bounded per request."""
        self._greet()
        return IMPORT_NOTES if self.packages.available else MAX_NOTES

    def close(self) -> None:
        """Nothing to release: every request stands alone."""

    # -- reading ---------------------------------------------------------------------------

    def decks_of(self, expected: Mapping[int, str],
                 read_next: Mapping[int, str] | None = None) -> dict[int, set[str]]:
        """The notes that exist, each with the decks of its cards (filtered decks left out), in
        one request of searches (`deck_check.py`): a note with no card outside its expected deck
        is in it; only the few notes found elsewhere, or expected in no deck in particular, have
        their cards' decks read. The notes `read_next` (those of the changed files, with the deck
        each was put in) are read in the same request, for `notes` to answer without asking."""
        read_next = read_next or {}
        lookups = [("findNotes", {"query": nid_term(chunk)}) for chunk in chunks(expected)]
        searches = outside_searches(by_deck(expected), "findNotes")
        reads = _reading(read_next, read_next)
        answers = all_answered(self._ask(lookups + searches + reads))
        existing = {n for found in answers[:len(lookups)] for n in found}
        checked = len(lookups) + len(searches)
        outside = existing.intersection(n for found in answers[len(lookups):checked] for n in found)
        self._read_ahead = self._remote_notes(read_next, read_next, answers[checked:])
        unsure = outside | {n for n in existing if not expected[n]}
        out = {n: {expected[n]} for n in existing - unsure}
        out.update(self._decks(self._cards_of(self._notes_info(unsure))))
        return out

    def notes(self, nids: Iterable[int], homes: Mapping[int, str] | None = None) -> dict[int, RemoteNote]:
        """The notes, read with the searches for their cards outside their `homes` in the same
        request (those read ahead by `decks_of` are not asked again)."""
        wanted = {int(n) for n in nids}
        known = {n: self._read_ahead[n] for n in wanted & self._read_ahead.keys()}
        rest = sorted(wanted - known.keys())
        if rest:
            homes = homes or {}
            known.update(self._remote_notes(rest, homes, all_answered(self._ask(_reading(rest, homes)))))
        return {n: note for n, note in known.items() if note is not None}

    def _remote_notes(self, nids: Iterable[int], homes: Mapping[int, str],
                      answers: list[Any]) -> dict[int, RemoteNote | None]:
        """Each note (None: not in Anki) from the answers to `_reading`; a note with a card outside
        its home, or with no home given, has its cards' decks read (`getDecks`) in a second request."""
        ids = chunks(nids, READ_CHUNK)
        infos = [info for chunk in answers[:len(ids)] for info in chunk if info and "noteId" in info]
        outside = {n for found in answers[len(ids):] for n in found}
        found: dict[int, RemoteNote] = {}
        for info in infos:
            nid = info["noteId"]
            fields = {k: v["value"] for k, v in sorted(info["fields"].items(), key=lambda kv: kv[1]["order"])}
            decks = {homes[nid]} if homes.get(nid) and nid not in outside else set()
            found[nid] = RemoteNote(nid, info["modelName"], fields, list(info["tags"]), decks)
        unsure = [info for info in infos if not found[info["noteId"]].decks]
        for nid, decks in self._decks(self._cards_of(unsure)).items():
            found[nid].decks = decks
        return {n: found.get(n) for chunk in ids for n in chunk}

    def nids_for_guids(self, guids: Iterable[str]) -> dict[str, int]:
        """Always empty: a note added through AnkiConnect cannot be found again by our GUID.

        `addNotes` gives every note a fresh random GUID (the add-on has no parameter to set one),
        and Anki's search has no `guid:` key (`rslib/src/search/parser.rs` reads any unknown
        `key:` as a search of a field named `key`), so `findNotes` cannot look one up either.
        The state file and the journal of adds (`find_added`) find these notes again.
        """
        return {}

    def find_added(self, pending: list[PendingAdd], known: set[int]) -> dict[str, int]:
        """guid -> note id for the journalled adds that reached Anki although their answer was
        lost: a note of the same type whose fields are exactly the card's, and no other block's."""
        queries = [("findNotes", {"query": _content_query(p)}) for p in pending]
        answers = self._ask(queries)
        hits = [a if isinstance(a, list) else [] for a in answers]
        infos = {i["noteId"]: i for i in self._notes_info({n for h in hits for n in h} - known)}
        found: dict[str, int] = {}
        taken = set(known)
        for entry, candidates in zip(pending, hits):
            for nid in candidates:
                info = infos.get(nid)
                if nid not in taken and info and same_content(entry, info):
                    found[entry.guid] = nid
                    taken.add(nid)
                    break
        return found

    def _notes_info(self, nids: Iterable[int]) -> list[dict]:
        answers = all_answered(self._ask([("notesInfo", {"notes": chunk}) for chunk in chunks(nids, READ_CHUNK)]))
        return [info for infos in answers for info in infos if info and "noteId" in info]

    @staticmethod
    def _cards_of(infos: list[dict]) -> dict[int, list[int]]:
        return {info["noteId"]: info["cards"] for info in infos}

    def _decks(self, cards_of: dict[int, list[int]]) -> dict[int, set[str]]:
        """Deck names of each note's cards (`getDecks`: one query per card in the add-on, where
        `cardsInfo` renders every card). A card in a filtered deck is left out: the user is
        studying it there, it goes home by itself, and the add-on does not say where home is."""
        out: dict[int, set[str]] = {nid: set() for nid in cards_of}
        if not cards_of:
            return out
        note_of = {c: nid for nid, cards in cards_of.items() for c in cards}
        filtered = [("findCards", {"query": nid_term(chunk) + " deck:filtered"}) for chunk in chunks(cards_of)]
        reads = [("getDecks", {"cards": chunk}) for chunk in chunks(note_of, READ_CHUNK)]
        answers = all_answered(self._ask(filtered + reads))
        skip = {c for a in answers[:len(filtered)] for c in a}
        for decks in answers[len(filtered):]:
            for deck, cards in decks.items():
                for c in cards:
                    if c not in skip:
                        out[note_of[c]].add(deck)
        return out

    # -- writing ---------------------------------------------------------------------------

    def apply(self, plan: SyncPlan) -> Applied:
        """Carry out the plan (see `plan.Backend.apply`): deletes, adds in bounded batches (each
        put in its deck), updates, deck moves, then media."""
        done = Applied()
        retype = [u for u in plan.updates if u.changes.note_type]
        doomed = [d.nid for d in plan.deletes] + [u.nid for u in retype]
        cards = [a.card for a in plan.adds] + [u.card for u in retype]
        try:
            self._greet()
            for i in range(0, len(doomed), READ_CHUNK):
                self.client.call("deleteNotes", notes=doomed[i:i + READ_CHUNK], touches=READ_CHUNK)
            self._prepare(cards + [u.card for u in plan.updates])
            self._add(cards, done)
            self._update([u for u in plan.updates if not u.changes.note_type], done)
            self._store_media(cards + [u.card for u in plan.updates])
        except AnkiConnectError as exc:      # what was done so far is in `done`, to be recorded
            done.stopped = exc
        return done

    def _add(self, cards: list[Card], done: Applied) -> None:
        """By package while Anki takes one (`package_adds.py`), else, and for what a package
        could not hold, with `addNotes` in bounded batches."""
        if cards and self.packages.available:
            imported, cards = self.packages.add(cards, self.find_added)
            done.new_notes += imported
            self._move({n.nid: n.card for n in imported}, done)
        if cards:
            self._add_notes(cards, done)

    def _add_notes(self, cards: list[Card], done: Applied) -> None:
        landing = "Default" if "Default" in self.decks else min(self.decks)
        notes = [_note(c, c.deck if c.deck in self.decks else landing) for c in cards]
        start = 0
        for batch in bounded(notes, MAX_NOTES):
            batch_cards = cards[start:start + len(batch)]
            start += len(batch)
            result = self.client.call("addNotes", notes=batch, touches=len(batch))
            added = []
            for card, nid in zip(batch_cards, result):
                if nid:
                    added.append(NewNote(card, int(nid)))
                else:
                    done.diagnostics.append(Diagnostic(card.block.path, card.block.line, "error",
                                                       "Anki did not add this note (AnkiConnect gave no "
                                                       "reason: an empty first field, or no card to make)"))
            done.new_notes += added
            self._move({n.nid: n.card for n in added}, done)

    def _move(self, cards_of_note: dict[int, Card], done: Applied) -> None:
        """Put each note's cards in its card's deck: search for the cards outside it, move them,
        and search again to be sure (`deck_check.py`); a note still elsewhere is an error."""
        if not cards_of_note:
            return
        targets: dict[str, list[int]] = {}
        for nid, card in cards_of_note.items():
            targets.setdefault(card.deck, []).append(nid)
        wrong = self.deck_check.cards_outside(targets)
        if not wrong:
            return
        self.client.multi([("changeDeck", {"cards": ids, "deck": deck}) for deck, ids in wrong.items()])
        self.decks.update(wrong)
        for deck, nids in self.deck_check.notes_outside({d: targets[d] for d in wrong}).items():
            for nid in nids:
                card = cards_of_note[nid]
                done.diagnostics.append(Diagnostic(card.block.path, card.block.line, "error",
                                                   f"Anki did not move note {nid} into deck "
                                                   f"{card.deck!r}; the next sync tries again"))

    def _update(self, updates: list[Update], done: Applied) -> None:
        edited = [u for u in updates if u.changes.content]
        answers = self.client.multi([("updateNote", {"note": _changed_part(u)}) for u in edited], notes_each=1)
        for u, answer in zip(edited, answers):
            if isinstance(answer, AnkiConnectError):
                done.diagnostics.append(Diagnostic(u.card.block.path, u.card.block.line, "error",
                                                   f"Anki did not update note {u.nid}: {answer}"))
        self._move({u.nid: u.card for u in updates if u.changes.deck}, done)

    def _prepare(self, cards: list[Card]) -> None:
        """Create the note types the cards need. Decks need no creating: `changeDeck` makes a
        missing one (where `createDeck` costs the add-on ~0.2 s each)."""
        for card in cards:
            if card.note_type not in self.models:
                self.client.call("createModel", **model_request(card.note_type, list(card.fields)))
                self.models.add(card.note_type)

    def _store_media(self, cards: list[Card]) -> None:
        """By path where Anki can read it (figures written to a temporary folder first), else
        as base64 in bounded requests."""
        files = dict(sorted({m.name: m for c in cards for m in c.media}.items()))
        if not files:
            return
        with tempfile.TemporaryDirectory(prefix="notecards-media-") as tmp:
            if self.media_by_path:
                answers = self.client.multi([("storeMediaFile", {"filename": name, "path": _on_disk(m, Path(tmp))})
                                             for name, m in files.items()])
                failed = [name for name, a in zip(files, answers) if isinstance(a, AnkiConnectError)]
                if not failed:
                    return
                self.media_by_path = False          # Anki cannot read our files: send the bytes
                files = {name: files[name] for name in failed}
            answers = self.client.multi([("storeMediaFile", {"filename": name,
                                                             "data": base64.b64encode(m.read()).decode("ascii")})
                                         for name, m in files.items()])
            for name, answer in zip(files, answers):
                if isinstance(answer, AnkiConnectError):
                    raise answer


def _reading(nids: Iterable[int], homes: Mapping[int, str]) -> list[tuple[str, dict]]:
    """The actions that read these notes: `notesInfo`, then the searches for the cards of those
    with a home that are outside it (answers parsed by `_remote_notes`)."""
    reads = [("notesInfo", {"notes": chunk}) for chunk in chunks(nids, READ_CHUNK)]
    homed = {n: homes[n] for chunk in chunks(nids, READ_CHUNK) for n in chunk if homes.get(n)}
    return reads + outside_searches(by_deck(homed), "findNotes")


def _changed_part(update: Update) -> dict:
    """`updateNote`'s note: only what changed, since the add-on rewrites tags one at a time (each
    old tag removed, each new one added, every step refreshing Anki's window)."""
    note: dict[str, Any] = {"id": update.nid}
    if update.changes.fields:
        note["fields"] = update.card.fields
    if update.changes.tags:
        note["tags"] = update.card.tags
    return note


def _on_disk(media: MediaFile, tmp: Path) -> str:
    if media.path is not None and media.data is None:
        return str(Path(media.path).resolve())
    out = tmp / media.name
    out.write_bytes(media.read())
    return str(out)


def _note(card: Card, deck: str) -> dict:
    """`addNote`'s note. `deck` must exist (the add-on refuses a missing one, and then, on current
    Anki, puts the card in `Default` anyway): the card's own deck, or an existing one it leaves."""
    return {"deckName": deck, "modelName": card.note_type, "fields": card.fields,
            "tags": card.tags, "options": {"allowDuplicate": True}}


def _quoted(text: str) -> str:
    """A term of Anki's search syntax matching `text` literally (wildcards and quotes escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*").replace("_", "\\_")
    return f'"{escaped}"'


def _content_query(entry: PendingAdd) -> str:
    first, value = next(iter(entry.fields.items()))
    return f"{_quoted('note:' + entry.note_type)} {_quoted(first + ':' + value)}"


def model_request(note_type: str, fields: list[str]) -> dict[str, Any]:
    """`createModel`'s parameters for a note type the collection lacks.

    A stock name with its stock fields gets Anki's own definition, so the type is the one a fresh
    Anki would have made; a cloze type must be created as one (`isCloze`), or Anki makes a single
    card per note and shows the `{{c1::…}}` markup instead of one card per cloze number.
    """
    fields = fields or ["Front", "Back"]
    cloze = is_cloze_type(note_type)
    if STOCK_FIELDS.get(note_type) == fields:
        templates = _STOCK_TEMPLATES[note_type]
    else:
        templates = _cloze_template(fields) if cloze else _front_back_template(fields)
    request: dict[str, Any] = {"modelName": note_type, "inOrderFields": fields, "cardTemplates": templates}
    if cloze:
        request.update(isCloze=True, css=_CLOZE_CSS)
    return request


def _cloze_template(fields: list[str]) -> list[dict[str, str]]:
    """Clozes in the first field; the others under it on the answer side, as `Back Extra` is."""
    text = "{{cloze:" + fields[0] + "}}"
    extra = "".join("<br>\n{{" + f + "}}" for f in fields[1:])
    return [{"Name": "Cloze", "Front": text, "Back": text + extra}]


def _front_back_template(fields: list[str]) -> list[dict[str, str]]:
    return [{"Name": "Card 1", "Front": "{{" + fields[0] + "}}",
             "Back": _ANSWER + "<br>\n".join("{{" + f + "}}" for f in fields[1:])}]
