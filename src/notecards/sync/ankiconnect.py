"""Apply a sync plan through a running Anki with the AnkiConnect add-on (API version 6).

For users who keep Anki open. Requests are batched with `multi` (one HTTP round trip per kind of
change), so a large vault costs a handful of requests rather than one per note. AnkiConnect cannot
set a note's GUID and Anki cannot search by one, so a sync killed between adding notes and writing
ID lines is recovered from the state file (written right after the adds) rather than from the
collection; killed in the moment between the adds and that state write, the next sync adds those
notes again. A changed note type is carried out as delete + add (the add-on's older versions have no
action for it), so that note's review history starts again and its ID line is rewritten.
A note type the collection lacks is created with `createModel`: one of Anki's stock types from
Anki's own definition (fields, templates, and for `Cloze` a cloze type with its `.cloze` style, so
each `{{cN::…}}` number becomes its own card); any other name as a front/back type with the card's
fields, or as a cloze type on its first field when the name says cloze (as Obsidian_to_Anki reads it).
Actions used: version, notesInfo, cardsInfo, modelNames, createModel, createDeck, addNotes,
updateNote, changeDeck, deleteNotes, storeMediaFile, multi.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any, Iterable

from notecards.cloze import is_cloze_type
from notecards.config import STOCK_FIELDS
from notecards.sync.plan import RemoteNote, SyncPlan
from notecards.types import Card, Diagnostic

DEFAULT_URL = "http://127.0.0.1:8765"
BATCH = 500

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


class AnkiConnectError(Exception):
    """AnkiConnect answered with an error, or could not be reached."""


class AnkiConnect:
    """A minimal AnkiConnect client: one method per request, `multi` for batches."""

    def __init__(self, url: str = DEFAULT_URL, timeout: float = 30.0):
        self.url = url
        self.timeout = timeout

    def call(self, action: str, **params: Any) -> Any:
        body = json.dumps({"action": action, "version": 6, "params": params}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AnkiConnectError(f"cannot reach AnkiConnect at {self.url} ({exc}); is Anki running "
                                   "with the AnkiConnect add-on?") from exc
        if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
            raise AnkiConnectError(f"unexpected answer from {self.url}: {str(reply)[:200]}")
        if reply["error"] is not None:
            raise AnkiConnectError(f"AnkiConnect {action}: {reply['error']}")
        return reply["result"]

    def multi(self, actions: list[tuple[str, dict]]) -> list[Any]:
        """Run many actions in few requests; each answer is its result, or an AnkiConnectError."""
        out: list[Any] = []
        for i in range(0, len(actions), BATCH):
            chunk = [{"action": a, "version": 6, "params": p} for a, p in actions[i:i + BATCH]]
            for reply in self.call("multi", actions=chunk):
                if isinstance(reply, dict) and set(reply) == {"result", "error"}:
                    out.append(AnkiConnectError(reply["error"]) if reply["error"] else reply["result"])
                else:
                    out.append(reply)
        return out


class AnkiConnectBackend:
    """The sync backend over AnkiConnect: same reading and writing as `CollectionBackend`."""

    def __init__(self, url: str = DEFAULT_URL):
        self.client = AnkiConnect(url)
        self.client.call("version")

    def close(self) -> None:
        """Nothing to release: every request stands alone."""

    def existing(self, nids: Iterable[int]) -> set[int]:
        """Asked on every sync for all unchanged notes, so without the per-card deck lookup."""
        infos = self.client.call("notesInfo", notes=sorted({int(n) for n in nids}))
        return {info["noteId"] for info in infos if info and "noteId" in info}

    def notes(self, nids: Iterable[int]) -> dict[int, RemoteNote]:
        ids = sorted({int(n) for n in nids})
        out: dict[int, RemoteNote] = {}
        infos = self.client.call("notesInfo", notes=ids) if ids else []
        card_ids = []
        for info in infos:
            if not info or "noteId" not in info:
                continue
            fields = {k: v["value"] for k, v in sorted(info["fields"].items(), key=lambda kv: kv[1]["order"])}
            out[info["noteId"]] = RemoteNote(info["noteId"], info["modelName"], fields, list(info["tags"]), set())
            card_ids.extend(info.get("cards", []))
        if card_ids:
            for card in self.client.call("cardsInfo", cards=card_ids):
                if card and card.get("note") in out:
                    out[card["note"]].decks.add(card["deckName"])
        return out

    def nids_for_guids(self, guids: Iterable[str]) -> dict[str, int]:
        """Always empty: a note added through AnkiConnect cannot be found again by our GUID.

        `addNotes` gives every note a fresh random GUID (the add-on has no parameter to set one),
        and Anki's search has no `guid:` key (`rslib/src/search/parser.rs` reads any unknown
        `key:` as a search of a field named `key`), so `findNotes` cannot look one up either.
        The state file, written right after the adds, is what finds these notes again.
        """
        return {}

    def apply(self, plan: SyncPlan) -> tuple[dict[int, int], list[Diagnostic]]:
        """Carry out the plan (see `plan.Backend.apply`): one request per kind of change."""
        diags: list[Diagnostic] = []
        retype = [(j, u) for j, u in enumerate(plan.updates) if "note type" in u.changes]
        doomed = [d.nid for d in plan.deletes] + [u.nid for _, u in retype]
        if doomed:
            self.client.call("deleteNotes", notes=doomed)
        cards = [(i, a.card) for i, a in enumerate(plan.adds)] + [(-1 - j, u.card) for j, u in retype]
        self._prepare([c for _, c in cards] + [u.card for u in plan.updates])
        new_ids: dict[int, int] = {}
        if cards:
            result = self.client.call("addNotes", notes=[self._note(c) for _, c in cards])
            for (i, card), nid in zip(cards, result):
                if nid:
                    new_ids[i] = int(nid)
                else:
                    diags.append(Diagnostic(card.block.path, card.block.line, "error",
                                            "AnkiConnect did not add this note (empty first field or no cloze?)"))
        edited, moves = [], {}
        for u in plan.updates:
            if "note type" in u.changes:
                continue
            if "fields" in u.changes or "tags" in u.changes:
                edited.append(u)
            if "deck" in u.changes:
                moves.setdefault(u.card.deck, []).append(u.nid)
        answers = self.client.multi([("updateNote", {"note": {"id": u.nid, "fields": u.card.fields,
                                                               "tags": u.card.tags}}) for u in edited])
        for u, answer in zip(edited, answers):
            if isinstance(answer, AnkiConnectError):
                diags.append(Diagnostic(u.card.block.path, u.card.block.line, "error",
                                        f"Anki did not update note {u.nid}: {answer}"))
        if moves:
            info = self.client.call("notesInfo", notes=[n for ns in moves.values() for n in ns])
            cards_of = {i["noteId"]: i["cards"] for i in info if i}
            self.client.multi([("changeDeck", {"cards": [c for n in ns for c in cards_of.get(n, [])],
                                               "deck": deck}) for deck, ns in moves.items()])
        self._store_media([c for _, c in cards] + [u.card for u in plan.updates])
        return new_ids, diags

    def _note(self, card: Card) -> dict:
        return {"deckName": card.deck, "modelName": card.note_type, "fields": card.fields,
                "tags": card.tags, "options": {"allowDuplicate": True, "duplicateScope": "deck"}}

    def _prepare(self, cards: list[Card]) -> None:
        """Create the decks and note types the cards need."""
        decks = sorted({c.deck for c in cards})
        if decks:
            self.client.multi([("createDeck", {"deck": d}) for d in decks])
        have = set(self.client.call("modelNames"))
        for card in cards:
            if card.note_type not in have:
                self.client.call("createModel", **model_request(card.note_type, list(card.fields)))
                have.add(card.note_type)

    def _store_media(self, cards: list[Card]) -> None:
        files = {m.name: m for c in cards for m in c.media}
        if files:
            self.client.multi([("storeMediaFile", {"filename": name,
                                                   "data": base64.b64encode(m.read()).decode("ascii")})
                               for name, m in sorted(files.items())])


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
