"""New notes through AnkiConnect's `importPackage`: the fast way to add a batch to a running Anki.

Used by `AnkiConnectBackend` when Anki runs on this machine (its address is a loopback one: Anki
must read the package from our disk). For each batch: read the note types it needs, write the
package (`import_package.py`), import it, then check with `notesInfo` that each note is where the
package put it, with the card's fields. A note found elsewhere (its id was taken) is found again
by content, as after a lost answer; a card the package could not hold, or that is found nowhere,
is left to `addNotes`. When the add-on has no `importPackage` or refuses it (an old add-on, a
sandboxed Anki that cannot read our temporary folder), the batch, and the rest of the sync, go
through `addNotes`. Any failure once the import may have run is reported as possibly done, so the
sync keeps its journal and the next run finds the notes instead of adding them again.
"""

from __future__ import annotations

import tempfile
import time
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Callable

from notecards.sync.connection import AnkiConnect, AnkiConnectError, Refused
from notecards.sync.import_package import NoteTypeCopy, write_package
from notecards.sync.plan import NewNote
from notecards.sync.sync_state import PendingAdd
from notecards.types import Card

IMPORT_NOTES = 2000            # notes per package: about 0.5 s of Anki's main thread
READ_CHUNK = 1000              # notes per notesInfo request
LOOPBACK = {"localhost", "127.0.0.1", "::1"}

REFLECT = ("apiReflect", {"scopes": ["actions"], "actions": ["importPackage"]})
FindAdded = Callable[[list[PendingAdd], set[int]], dict[str, int]]


def is_local(url: str) -> bool:
    """Whether AnkiConnect's address is this machine, so that Anki can read a file we write."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in LOOPBACK or host.startswith("127.")


def pending(card: Card) -> PendingAdd:
    return PendingAdd(card.guid, card.note_type, card.deck, card.fields)


def same_content(entry: PendingAdd, info: dict) -> bool:
    """Whether a `notesInfo` entry is the journalled card: its note type, and each of the card's
    fields (matched without case, as `addNote` fills them) equal after Unicode normalisation."""
    fields = {k.lower(): unicodedata.normalize("NFC", v["value"]) for k, v in info.get("fields", {}).items()}
    return info.get("modelName") == entry.note_type and all(
        fields.get(k.lower()) == unicodedata.normalize("NFC", v) for k, v in entry.fields.items())


class PackageAdds:
    """Adds by package while the add-on takes them; `available` turns off at the first refusal."""

    def __init__(self, client: AnkiConnect, reflected: object):
        """`reflected`: the add-on's answer to `apiReflect` for `importPackage` (an error from an
        add-on old enough to lack `apiReflect` too)."""
        self.client = client
        actions = reflected.get("actions", []) if isinstance(reflected, dict) else []
        self.available = is_local(client.url) and "importPackage" in actions
        self._position: int | None = None
        self._last_id = 0                            # the highest note id of the packages so far

    def add(self, cards: list[Card], find_added: FindAdded) -> tuple[list[NewNote], list[Card]]:
        """(the notes the import added, the cards left for `addNotes`)."""
        types, first_position = self._read({c.note_type for c in cards})
        held = [c for c in cards if c.note_type in types]
        if not held:
            return [], cards
        with tempfile.TemporaryDirectory(prefix="notecards-import-") as tmp:
            first_id = max(self._last_id + 1, now_ms())
            package = write_package(held, types, Path(tmp), first_position, first_id)
            left = [c for c in cards if c.note_type not in types] + package.left
            if not package.expected:
                return [], left
            try:
                self.client.call("importPackage", path=str(package.path), touches=len(package.expected))
            except Refused:
                self.available = False           # an old add-on, or Anki cannot read our file
                return self._checked(package.expected, find_added, left, refused=True)
        self._position = first_position + len(package.expected)
        self._last_id = max(package.expected)
        return self._checked(package.expected, find_added, left)

    def _checked(self, expected: dict[int, Card], find_added: FindAdded, left: list[Card],
                 refused: bool = False) -> tuple[list[NewNote], list[Card]]:
        """The notes where the package put them; the others found by content, or left. A refused
        import added nothing, unless Anki failed after it (refreshing its window): the check
        tells, and if it finds none of the notes, they all go to `addNotes`."""
        landed, missing = _possibly_done(lambda: self._landed(expected))
        if refused and not landed:
            return [], missing + left
        if missing:
            entries = {c.guid: c for c in missing}
            found = _possibly_done(lambda: find_added([pending(c) for c in missing], {n.nid for n in landed}))
            landed += [NewNote(entries[g], nid) for g, nid in found.items()]
            left += [c for c in missing if c.guid not in found]
        return landed, left

    def _landed(self, expected: dict[int, Card]) -> tuple[list[NewNote], list[Card]]:
        """(the notes at the id the package gave them, with the card's content; the other cards)."""
        ids = sorted(expected)
        infos: list[dict] = []
        for i in range(0, len(ids), READ_CHUNK):
            infos += self.client.call("notesInfo", notes=ids[i:i + READ_CHUNK])
        landed, missing = [], []
        for nid, info in zip(ids, infos):
            card = expected[nid]
            if info and info.get("noteId") == nid and same_content(pending(card), info):
                landed.append(NewNote(card, nid))
            else:
                missing.append(card)
        return landed, missing

    def _read(self, names: set[str]) -> tuple[dict[str, NoteTypeCopy], int]:
        """The collection's note types by these names, and the first new-card position, in one
        request. The types are read afresh for each package: a copy out of date (a field renamed
        in Anki meanwhile) would add its old field back."""
        wanted = sorted(names)
        asks = [("modelNamesAndIds", {})] + [(action, {"modelName": n}) for n in wanted
                                             for action in ("modelFieldNames", "modelTemplates", "modelStyling")]
        if self._position is None:
            asks.append(("findCards", {"query": "is:new"}))
        answers = self.client.multi(asks)
        if isinstance(answers[0], AnkiConnectError):
            raise answers[0]
        types = {}
        for i, name in enumerate(wanted):
            fields, templates, styling = answers[1 + 3 * i:4 + 3 * i]
            if name in answers[0] and not any(isinstance(a, AnkiConnectError) for a in (fields, templates, styling)):
                types[name] = NoteTypeCopy(name, int(answers[0][name]), list(fields),
                                           [(t, v["Front"], v["Back"]) for t, v in templates.items()],
                                           styling["css"])
        if self._position is None:
            self._position = self._after(answers[-1] if isinstance(answers[-1], list) else [])
        return types, self._position

    def _after(self, new_cards: list[int]) -> int:
        """The new-card position after the collection's newest new card, where `addNotes` would
        put the next one (a package's cards keep the positions written in it)."""
        if not new_cards:
            return 1
        [info] = self.client.call("cardsInfo", cards=[max(new_cards)])
        return int(info.get("due", 0)) + 1


def now_ms() -> int:
    """Anki's note ids are creation times in milliseconds."""
    return int(time.time() * 1000)


def _possibly_done(step):
    """Run a step after an import: if it fails, the import may still have added the notes."""
    try:
        return step()
    except AnkiConnectError as exc:
        exc.maybe_done = True
        raise
