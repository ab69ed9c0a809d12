"""A loopback imitation of the AnkiConnect add-on (API 6) on top of a real `anki` collection, as
strict as the real add-on where a sync depends on it:
- `addNote(s)` ignores `deckName`: every card lands in `Default`, as on current Anki;
- the body is read 1 KB at a time into a growing buffer, as the add-on reads it (quadratic), and a
  body over `budget` bytes gets no answer at all (the real add-on takes minutes on it);
- `lose_answer_after`: after carrying out that action, the connection is closed unanswered;
- `profile_picker`: no collection open; `key`: the add-on's `apiKey`;
- `importPackage` runs what the add-on runs, `anki.importing.AnkiPackageImporter`, which on Anki
  26.9 is the collection's own importer with merge note types, scheduling and deck presets on;
  `without_import` answers it as an add-on that lacks the action does.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.consts import MODEL_CLOZE


class FakeAnki:
    """AnkiConnect's actions, carried out on a real collection."""

    def __init__(self, col: Collection):
        self.col = col
        self.requests: list[str] = []
        self.actions: list[tuple[str, dict]] = []      # every action, those inside a multi too
        self.bodies: list[int] = []
        self.budget = 1024 * 1024
        self.lose_answer_after: str | None = None
        self.profile_picker = False
        self.key: str | None = None
        self.without_import = False
        self.lock = threading.Lock()

    def handle(self, request: dict) -> dict:
        try:
            if self.key and request.get("key") != self.key:
                raise Exception("valid api key must be provided")
            if self.profile_picker:
                raise Exception("collection is not available")
            return {"result": self.run(request["action"], request.get("params", {})), "error": None}
        except Exception as exc:
            return {"result": None, "error": str(exc)}

    def run(self, action: str, params: dict):
        self.actions.append((action, params))
        method = getattr(self, "do_" + action, None)
        if method is None or (action == "importPackage" and self.without_import):
            raise Exception("unsupported action")
        return method(**params)

    def do_version(self):
        return 6

    def do_deckNames(self):
        return [d.name for d in self.col.decks.all_names_and_ids()]

    def do_multi(self, actions):
        return [self.handle(a) for a in actions]

    def do_notesInfo(self, notes):
        out = []
        for nid in notes:
            try:
                note = self.col.get_note(nid)
            except Exception:
                out.append({})
                continue
            names = self.col.models.field_names(note.note_type())
            out.append({"noteId": nid, "modelName": note.note_type()["name"], "tags": note.tags,
                        "fields": {n: {"value": note[n], "order": i} for i, n in enumerate(names)},
                        "cards": list(note.card_ids())})
        return out

    def do_getDecks(self, cards):
        out: dict[str, list[int]] = {}
        for cid in cards:
            out.setdefault(self.col.decks.name(self.col.get_card(cid).did), []).append(cid)
        return out

    def do_findCards(self, query):
        return list(self.col.find_cards(query))

    def do_findNotes(self, query):
        return list(self.col.find_notes(query))

    def do_modelNames(self):
        return [m.name for m in self.col.models.all_names_and_ids()]

    def do_createModel(self, modelName, inOrderFields, cardTemplates, css=None, isCloze=False):
        """As the add-on does it: a new type, cloze when asked, fields and templates in order."""
        mm = self.col.models
        if mm.by_name(modelName):
            raise Exception("Model name already exists")
        model = mm.new(modelName)
        if isCloze:
            model["type"] = MODEL_CLOZE
        for name in inOrderFields:
            mm.add_field(model, mm.new_field(name))
        if css is not None:
            model["css"] = css
        for i, spec in enumerate(cardTemplates, 1):
            template = mm.new_template(spec.get("Name", f"Card {i}"))
            template["qfmt"], template["afmt"] = spec["Front"], spec["Back"]
            mm.add_template(model, template)
        mm.add(model)
        return model

    def do_createDeck(self, deck):
        return self.col.decks.id(deck, create=True)

    def do_addNotes(self, notes):
        ids = []
        for n in notes:
            try:
                note = self.col.new_note(self.col.models.by_name(n["modelName"]))
                for k, v in n["fields"].items():
                    note[k] = v
                note.tags = n["tags"]
                if not note.fields[0].strip():
                    raise Exception("cannot create note because it is empty")
                self.col.add_note(note, 1)        # deckName ignored, as current Anki does
                ids.append(note.id)
            except Exception:
                ids.append(None)
        return ids

    def do_updateNote(self, note):
        if "fields" not in note and "tags" not in note:
            raise Exception('Must provide a "fields" or "tags" property.')
        n = self.col.get_note(note["id"])
        for k, v in note.get("fields", {}).items():
            n[k] = v
        if "tags" in note:
            n.tags = note["tags"]
        self.col.update_note(n)

    def do_changeDeck(self, cards, deck):
        self.col.set_deck(cards, self.col.decks.id(deck, create=True))

    def do_apiReflect(self, scopes, actions=None):
        known = [a for a in actions or [] if hasattr(self, "do_" + a)
                 and not (a == "importPackage" and self.without_import)]
        return {"scopes": ["actions"], "actions": known}

    def do_importPackage(self, path):
        self.col.import_anki_package(ImportAnkiPackageRequest(
            package_path=path, options=ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=True,
                                                                with_deck_configs=True)))
        return True

    def do_modelNamesAndIds(self):
        return {m.name: m.id for m in self.col.models.all_names_and_ids()}

    def do_modelFieldNames(self, modelName):
        return [f["name"] for f in self._model(modelName)["flds"]]

    def do_modelTemplates(self, modelName):
        return {t["name"]: {"Front": t["qfmt"], "Back": t["afmt"]} for t in self._model(modelName)["tmpls"]}

    def do_modelStyling(self, modelName):
        return {"css": self._model(modelName)["css"]}

    def _model(self, name):
        model = self.col.models.by_name(name)
        if model is None:
            raise Exception(f"model was not found: {name}")
        return model

    def do_cardsInfo(self, cards):
        out = []
        for cid in cards:
            card = self.col.get_card(cid)
            out.append({"cardId": cid, "note": card.nid, "deckName": self.col.decks.name(card.did),
                        "ord": card.ord, "type": card.type, "queue": card.queue, "due": card.due})
        return out

    def do_deleteNotes(self, notes):
        self.col.remove_notes(notes)

    def do_storeMediaFile(self, filename, data=None, path=None):
        if data:
            content = base64.b64decode(data)
        else:
            with open(path, "rb") as fh:
                content = fh.read()
        return self.col.media.write_data(filename, content)


@contextmanager
def running(collection: Path) -> Iterator[FakeAnki]:
    """An imitation on a new collection at this path, answering at `fake.url` until the end."""
    col = Collection(str(collection))
    fake = FakeAnki(col)
    server = serve(fake)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        col.close()


def serve(fake: FakeAnki) -> ThreadingHTTPServer:
    """An HTTP server on a free loopback port, answering one request at a time as the add-on does."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            if length > fake.budget:
                self.connection.shutdown(socket.SHUT_RDWR)   # the add-on would take minutes: no answer
                return
            body = _read_like_the_addon(self.rfile, length)
            request = json.loads(body)
            with fake.lock:
                fake.requests.append(request["action"])
                fake.bodies.append(length)
                reply = fake.handle(request)
                lost = fake.lose_answer_after in _actions(request)
                if lost:
                    fake.lose_answer_after = None
            if lost:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _read_like_the_addon(stream, length: int) -> bytes:
    buffer = b""
    while len(buffer) < length:
        buffer = buffer + stream.read(min(1024, length - len(buffer)))   # a copy per KB, as the add-on
    return buffer


def _actions(request: dict) -> set[str]:
    if request.get("action") == "multi":
        return {a["action"] for a in request["params"]["actions"]}
    return {request.get("action")}
