"""New notes through AnkiConnect's `importPackage`, against the loopback imitation of the add-on,
whose `importPackage` runs Anki's own importer as the add-on does (`ankiconnect_fake.py`).

What the user must be able to count on: their note types (fields, templates, styling, sort field,
kind), deck presets, decks and schema are as they were (Anki's importer only moves the
modification time of a type it merged on); the notes are exactly what
`--collection` makes; a note the importer put somewhere else is found, not added twice; an Anki
that cannot import gets the notes one by one, with nothing alarming said."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402
from ankiconnect_fake import running  # noqa: E402

from notecards.sync import sync_vault  # noqa: E402
from notecards.sync.package_adds import is_local  # noqa: E402

ID_RE = re.compile(r"<!--ID: (\d+)-->")
VAULT = {
    "basics.md": "TARGET DECK: Existing\n\n" + "".join(
        f"START\nBasic\nQuestion {i}?\nBack: Answer {i}.\nEND\n\n" for i in range(6)),
    "both ways.md": "TARGET DECK: Fresh::Sub\n\nSTART\nBasic (and reversed card)\nfront\nBack: back\nEND\n",
    "clozes.md": "TARGET DECK: Fresh\n\nSTART\nCloze\n{{c1::Paris}} is in {{c2::France}}.\n"
                 "Back Extra: since 987\nEND\n\nSTART\nCloze\nOnly {{c1::one}}.\nEND\n",
}


@pytest.fixture
def anki(tmp_path):
    with running(tmp_path / "collection.anki2") as fake:
        yield fake


def _vault(root: Path) -> Path:
    for name, text in VAULT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _ids(vault: Path) -> list[int]:
    return [int(n) for p in sorted(vault.glob("*.md")) for n in ID_RE.findall(p.read_text())]


def _customise(col: Collection) -> None:
    """A user who restyled Basic, changed its front, added a field; restyled Cloze; set their own
    daily limit; described a deck; and has a new card of their own waiting."""
    mm = col.models
    basic = mm.by_name("Basic")
    basic["css"] += "\n.card { font-family: Georgia; color: #333; }\n"
    basic["tmpls"][0]["qfmt"] = '<div class="mine">{{Front}}</div>'
    mm.add_field(basic, mm.new_field("Source"))
    mm.update_dict(basic)
    cloze = mm.by_name("Cloze")
    cloze["css"] += "\n.cloze { color: purple; }\n"
    mm.update_dict(cloze)
    conf = col.decks.get_config(1)
    conf["new"]["perDay"] = 7
    col.decks.update_config(conf)
    existing = col.decks.get(col.decks.id("Existing", create=True))
    existing["desc"] = "my own deck"
    col.decks.save(existing)
    note = col.new_note(mm.by_name("Basic"))
    note["Front"] = "a note of my own"
    col.add_note(note, existing["id"])


def _snapshot(col: Collection) -> dict:
    return {"models": {m["name"]: copy.deepcopy(m) for m in col.models.all()},
            "configs": json.dumps(col.decks.all_config(), sort_keys=True),
            "existing": {k: v for k, v in col.decks.by_name("Existing").items() if k not in ("mod", "usn")},
            "schema": col.db.scalar("select scm from col")}


def _but_time(model: dict) -> dict:
    """A note type as the user sees and syncs it: everything but when it was last modified."""
    return {k: v for k, v in model.items() if k not in ("mod", "usn")}


def _notes(col: Collection, nids: list[int]) -> list[tuple]:
    out = []
    for nid in nids:
        note = col.get_note(nid)
        cards = sorted(note.cards(), key=lambda c: c.ord)
        out.append((note.note_type()["name"], dict(note.items()), note.tags,
                    [(c.ord, col.decks.name(c.did)) for c in cards], [c.question() for c in cards]))
    return out


def test_import_leaves_the_users_note_types_presets_and_decks_as_they_were(tmp_path, anki):
    _customise(anki.col)
    before = _snapshot(anki.col)
    own_position = max(c.due for c in (anki.col.get_card(i) for i in anki.col.find_cards("is:new")))
    vault = _vault(tmp_path / "via-anki")
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and not report.diagnostics, report.summary()
    assert "importPackage" in anki.requests and "addNotes" not in anki.requests
    after = _snapshot(anki.col)
    for name, model in before["models"].items():
        assert _but_time(after["models"][name]) == _but_time(model), name
        assert after["models"][name]["mod"] >= model["mod"]
    assert {k: v for k, v in after.items() if k != "models"} == {k: v for k, v in before.items() if k != "models"}

    reference_col = tmp_path / "direct.anki2"
    reference = Collection(str(reference_col))
    _customise(reference)
    reference.close()
    direct = _vault(tmp_path / "direct")
    assert sync_vault(direct, collection=reference_col).exit_code() == 0
    reference = Collection(str(reference_col))
    try:
        assert _notes(anki.col, _ids(vault)) == _notes(reference, _ids(direct))
    finally:
        reference.close()
    new_cards = [anki.col.get_card(c) for n in _ids(vault) for c in anki.col.card_ids_of_note(n)]
    assert min(c.due for c in new_cards) > own_position      # after the user's own new cards
    assert sync_vault(vault, ankiconnect=anki.url).plan.is_empty()


def test_a_note_whose_id_anki_has_is_found_where_the_importer_put_it(tmp_path, anki):
    """The collection already has a note with one of the package's ids (made in the same
    millisecond): Anki moves the imported note to another id; the sync finds it by content,
    adds it no second time, and leaves the other note alone."""
    imported = anki.do_importPackage

    def with_an_id_taken(path):
        import sqlite3
        import zipfile
        with zipfile.ZipFile(path) as z:
            (tmp_path / "package.anki2").write_bytes(z.read("collection.anki2"))
        db = sqlite3.connect(tmp_path / "package.anki2")
        taken = db.execute("select min(id) from notes").fetchone()[0]
        db.close()
        other = anki.col.new_note(anki.col.models.by_name("Basic"))
        other["Front"] = "someone else's note"
        anki.col.add_note(other, 1)
        anki.col.db.execute("update notes set id = ? where id = ?", taken, other.id)
        anki.col.db.execute("update cards set nid = ? where nid = ?", taken, other.id)
        anki.taken = taken
        return imported(path)

    anki.do_importPackage = with_an_id_taken
    vault = _vault(tmp_path / "vault")
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and not report.diagnostics, report.summary()
    ids = _ids(vault)
    assert len(ids) == len(set(ids)) == 9 and anki.taken not in ids
    assert sorted(anki.col.find_notes("")) == sorted(ids + [anki.taken])
    assert anki.col.get_note(anki.taken)["Front"] == "someone else's note"
    assert "addNotes" not in anki.requests
    assert sync_vault(vault, ankiconnect=anki.url).plan.is_empty()


def test_an_anki_that_cannot_read_our_package_gets_the_notes_one_by_one(tmp_path, anki):
    """A sandboxed Anki (Flatpak, Snap) cannot open our temporary folder: the add-on answers
    `importPackage` with an error, nothing is imported, and `addNotes` adds the notes."""
    def sandboxed(path):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")

    anki.do_importPackage = sandboxed
    vault = _vault(tmp_path / "vault")
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and not report.diagnostics and report.problem is None, report.summary()
    assert "addNotes" in anki.requests
    ids = _ids(vault)
    assert len(ids) == len(set(ids)) == 9 and sorted(anki.col.find_notes("")) == sorted(ids)
    assert sync_vault(vault, ankiconnect=anki.url).plan.is_empty()


def test_an_addon_without_import_package_gets_add_notes(tmp_path, anki):
    anki.without_import = True
    vault = _vault(tmp_path / "vault")
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and not report.diagnostics, report.summary()
    assert "importPackage" not in anki.requests and "addNotes" in anki.requests
    assert len(_ids(vault)) == 9 == len(anki.col.find_notes(""))


@pytest.mark.parametrize("url,local", [("http://127.0.0.1:8765", True), ("http://localhost:8765", True),
                                       ("http://[::1]:8765", True), ("http://192.168.1.20:8765", False),
                                       ("http://anki.example.org:8765", False)])
def test_only_an_anki_on_this_machine_is_sent_a_package_path(url, local):
    """A path is only of use to an Anki that reads our disk: any other address gets addNotes."""
    assert is_local(url) is local


def test_an_import_that_fails_after_adding_its_notes_adds_them_no_second_time(tmp_path, anki):
    """Anki imports, then fails refreshing its window and the add-on answers with an error: the
    check after the refusal finds the notes in place, and `addNotes` is not asked for them."""
    imported = anki.do_importPackage

    def imports_then_fails(path):
        imported(path)
        raise RuntimeError("wrapped C/C++ object of type DeckBrowser has been deleted")

    anki.do_importPackage = imports_then_fails
    vault = _vault(tmp_path / "vault")
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and not report.diagnostics, report.summary()
    assert "addNotes" not in anki.requests
    ids = _ids(vault)
    assert len(ids) == len(set(ids)) == 9 and sorted(anki.col.find_notes("")) == sorted(ids)


def test_packages_of_one_sync_never_share_note_ids(tmp_path, anki, monkeypatch):
    """Note ids count milliseconds, and a package of 2,000 notes is numbered faster than the clock
    runs, so the next package would start inside it. With the clock held still, three packages
    in a row still put every note at the id its package gave it: no note moved, none searched."""
    from notecards.sync import ankiconnect, package_adds

    monkeypatch.setattr(ankiconnect, "IMPORT_NOTES", 20)
    still = package_adds.now_ms()                # (Anki renumbers ids more than a day ahead)
    monkeypatch.setattr(package_adds, "now_ms", lambda: still)
    vault = tmp_path / "vault"
    vault.mkdir()
    for f in range(3):
        (vault / f"n{f}.md").write_text("".join(f"START\nBasic\nQ{f}.{i}\nBack: A\nEND\n\n" for i in range(20)))
    searched = []
    search = anki.do_findNotes
    anki.do_findNotes = lambda query: searched.append(query) or search(query)
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and not report.diagnostics, report.summary()
    assert anki.requests.count("importPackage") == 3
    assert "addNotes" not in anki.requests and searched == []
    ids = _ids(vault)
    assert len(set(ids)) == 60 and sorted(anki.col.find_notes("")) == sorted(ids)
