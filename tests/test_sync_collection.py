"""Sync against a real Anki collection (the official `anki` package), fresh in tmp_path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402

from notecards.sync import sync_vault  # noqa: E402
from notecards.sync.collection import CollectionBackend  # noqa: E402
from notecards.sync.plan import card_digest, make_plan  # noqa: E402
from notecards.types import Card, CardBlock  # noqa: E402


def _new_collection(tmp_path: Path) -> Path:
    path = tmp_path / "anki" / "collection.anki2"
    path.parent.mkdir()
    Collection(str(path)).close()
    return path


def _card(front: str, back: str = "b", *, nid: int | None = None, deck: str = "Default",
          tags=("t",), note_type: str = "Basic", ordinal: int = 0, guid: str | None = None) -> Card:
    fields = {"Front": front, "Back": back} if note_type.startswith("Basic") else {"Text": front, "Back Extra": back}
    block = CardBlock(path="n.md", line=1 + 5 * ordinal, end_line=4 + 5 * ordinal, kind="block",
                      note_type=note_type, fields=dict(fields), field_lines={}, tags=list(tags), deck=deck,
                      ordinal=ordinal, anki_id=nid, id_insert=(4 + 5 * ordinal, 0))
    return Card(block=block, note_type=note_type, fields=dict(fields), tags=list(tags), deck=deck,
                guid=guid or f"g{ordinal}-{front}")


def _apply(path: Path, cards, deletions=(), recorded=None, guids=None, gone=None):
    with CollectionBackend(path) as backend:
        plan = make_plan(list(cards), list(deletions), backend, recorded or {}, guids or {}, gone or {})
        applied = backend.apply(plan)
    return plan, [n.nid for n in applied.new_notes], applied.diagnostics


def _answer_good(path: Path, nid: int) -> tuple[int, int]:
    col = Collection(str(path))
    try:
        card = col.get_note(nid).cards()[0]
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=3))
        card.load()
        return card.ivl, len(col.get_review_logs(card.id))
    finally:
        col.close()


def test_add_update_move_delete_cycle_keeps_review_history(tmp_path):
    path = _new_collection(tmp_path)
    plan, new_ids, diags = _apply(path, [_card("q1"), _card("q2", ordinal=1)])
    assert not diags and len(plan.adds) == 2
    nid1, nid2 = new_ids[0], new_ids[1]
    ivl, reviews = _answer_good(path, nid1)
    assert reviews == 1

    edited = _card("q1 edited", deck="Maths::Prior", tags=("t", "new"), nid=nid1)
    plan, _, _ = _apply(path, [edited, _card("q2", ordinal=1, nid=nid2)],
                        gone={}, recorded={nid2: card_digest(_card("q2", ordinal=1, nid=nid2))})
    assert [u.changes.names() for u in plan.updates] == [["fields", "tags", "deck"]] and len(plan.unchanged) == 1

    col = Collection(str(path))
    note = col.get_note(nid1)
    card = note.cards()[0]
    assert note["Front"] == "q1 edited" and sorted(note.tags) == ["new", "t"]
    assert col.decks.name(card.did) == "Maths::Prior"
    assert card.ivl == ivl and len(col.get_review_logs(card.id)) == 1, "review history must survive the edit"
    col.close()

    plan, _, _ = _apply(path, [edited], gone={nid2: ("n.md", 6)})
    assert [(d.nid, d.reason) for d in plan.deletes] == [(nid2, "block removed")]
    col = Collection(str(path))
    assert col.find_notes("") == [nid1]
    col.close()


def test_note_edited_in_anki_is_kept_until_the_block_changes(tmp_path):
    path = _new_collection(tmp_path)
    card = _card("q")
    _, new_ids, _ = _apply(path, [card])
    nid = new_ids[0]
    col = Collection(str(path))
    note = col.get_note(nid)
    note["Back"] = "fixed in Anki"
    col.update_note(note)
    col.close()

    same = _card("q", nid=nid)
    plan, _, _ = _apply(path, [same], recorded={nid: card_digest(same)})
    assert plan.is_empty()
    col = Collection(str(path))
    assert col.get_note(nid)["Back"] == "fixed in Anki"
    col.close()

    changed = _card("q", "b2", nid=nid)
    plan, _, _ = _apply(path, [changed], recorded={nid: card_digest(same)})
    assert [u.nid for u in plan.updates] == [nid]
    col = Collection(str(path))
    assert col.get_note(nid)["Back"] == "b2"
    col.close()


def test_stale_id_is_recreated_and_copied_id_becomes_a_new_note(tmp_path):
    path = _new_collection(tmp_path)
    _, new_ids, _ = _apply(path, [_card("real")])
    nid = new_ids[0]
    plan, new_ids, _ = _apply(path, [_card("real", nid=nid), _card("copy", nid=nid, ordinal=1),
                                     _card("ghost", nid=1234567890123, ordinal=2)])
    assert [a.replaces for a in plan.adds] == [nid, 1234567890123]
    assert any("also used by an earlier block" in d.message for d in plan.diagnostics)
    col = Collection(str(path))
    assert len(col.find_notes("")) == 3
    col.close()


def test_block_without_id_adopts_the_note_with_its_guid(tmp_path):
    """A sync killed after adding but before writing the ID line must not add the note twice."""
    path = _new_collection(tmp_path)
    _apply(path, [_card("q", guid="stable-guid")])
    plan, _, _ = _apply(path, [_card("q", guid="stable-guid")])
    assert not plan.adds and len(plan.updates) == 1 and plan.updates[0].adopt
    col = Collection(str(path))
    assert len(col.find_notes("")) == 1
    col.close()


def test_missing_note_types_are_created_and_note_type_changes_apply(tmp_path):
    path = _new_collection(tmp_path)
    col = Collection(str(path))
    col.models.remove(col.models.id_for_name("Cloze"))
    col.close()
    _, new_ids, diags = _apply(path, [_card("{{c1::x}}", note_type="Cloze")])
    assert not diags
    nid = new_ids[0]
    plan, new_ids, _ = _apply(path, [_card("front", nid=nid)])
    assert plan.updates[0].changes.names() == ["note type"]
    col = Collection(str(path))
    note = col.get_note(new_ids[-1])
    assert note.note_type()["name"] == "Basic" and note["Front"] == "front"
    assert col.find_notes("") == [note.id]
    col.close()


def test_unknown_field_is_an_error_on_the_block(tmp_path):
    path = _new_collection(tmp_path)
    card = _card("q")
    card.fields["Extra"] = "x"
    _, new_ids, diags = _apply(path, [card])
    assert not new_ids and diags[0].severity == "error" and "Extra" in diags[0].message


def test_anki_holding_the_collection_is_reported_and_nothing_changes(tmp_path):
    path = _new_collection(tmp_path)
    vault = tmp_path / "vault"
    vault.mkdir()
    note = vault / "n.md"
    note.write_bytes(b"START\nBasic\nq\nBack: a\nEND\n")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from anki.collection import Collection
        col = Collection({str(path)!r})
        print("open", flush=True)
        sys.stdin.read()
        col.close()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        report = sync_vault(vault, collection=path)
    finally:
        holder.communicate("")
    assert report.exit_code() == 1 and "Anki has this collection open" in report.summary()
    assert note.read_bytes() == b"START\nBasic\nq\nBack: a\nEND\n"


def test_missing_collection_is_a_usage_error(tmp_path):
    report = sync_vault(tmp_path, collection=tmp_path / "nope" / "collection.anki2")
    assert report.exit_code() == 2 and "no Anki collection" in report.summary()


def test_a_file_that_is_not_a_collection_is_named_as_such_and_left_untouched(tmp_path):
    import sqlite3

    text = tmp_path / "notes.anki2"
    text.write_bytes(b"just some text")
    other = tmp_path / "other.anki2"
    with sqlite3.connect(other) as db:
        db.execute("create table things (x)")
    before = other.read_bytes()
    for path, why in ((text, "not an SQLite database"), (other, "not an Anki collection"),
                      (tmp_path, "a folder")):
        report = sync_vault(tmp_path, collection=path)
        assert report.exit_code() == 2 and why in report.summary(), report.summary()
        assert "Anki has this collection open" not in report.summary()
    assert other.read_bytes() == before


# -- whole syncs of a vault ------------------------------------------------------------------

def _vault(tmp_path: Path, files: dict[str, str]) -> Path:
    vault = tmp_path / "vault"
    for name, text in files.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text, encoding="utf-8")
    return vault


def _block(front: str, back: str = "b") -> str:
    return f"START\nBasic\n{front}\nBack: {back}\nEND\n"


def test_vault_sync_writes_ids_and_a_second_sync_changes_nothing(tmp_path):
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("q1") + "\n" + _block("q2"), "sub/b.md": _block("q3")})
    report = sync_vault(vault, collection=path)
    assert report.exit_code() == 0 and report.ids_written == 3, report.summary()
    text = (vault / "a.md").read_text()
    assert text.count("<!--ID: ") == 2
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    again = sync_vault(vault, collection=path)
    assert again.plan.is_empty() and again.files_read == 0
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before
    full = sync_vault(vault, collection=path, full=True)
    assert full.files_read == 2 and full.plan.is_empty()


def test_dry_run_changes_nothing_and_shows_the_plan(tmp_path):
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("q1")})
    report = sync_vault(vault, collection=path, dry_run=True)
    assert "a.md:1: add Basic note in deck Default" in report.summary()
    assert "<!--ID" not in (vault / "a.md").read_text()
    col = Collection(str(path))
    assert col.note_count() == 0
    col.close()


def test_mass_deletion_needs_yes_and_foreign_notes_are_never_deleted(tmp_path):
    path = _new_collection(tmp_path)
    col = Collection(str(path))
    foreign = col.new_note(col.models.by_name("Basic"))
    foreign["Front"] = "made in Anki"
    col.add_note(foreign, 1)
    col.close()
    vault = _vault(tmp_path, {"a.md": "".join(_block(f"q{i}") + "\n" for i in range(12))})
    sync_vault(vault, collection=path)
    (vault / "a.md").write_text("no cards any more\n")
    stopped = sync_vault(vault, collection=path)
    assert stopped.exit_code() == 1 and "--yes" in stopped.summary()
    col = Collection(str(path))
    assert col.note_count() == 13
    col.close()
    done = sync_vault(vault, collection=path, yes=True)
    assert done.exit_code() == 0 and done.plan.counts()["delete"] == 12
    col = Collection(str(path))
    assert col.find_notes("") == [foreign.id]
    col.close()


def test_vault_edit_keeps_review_history_and_anki_edit_survives_unrelated_syncs(tmp_path):
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("q1"), "b.md": _block("q2")})
    sync_vault(vault, collection=path)
    nid_a = int((vault / "a.md").read_text().split("ID: ")[1].split("-")[0])
    nid_b = int((vault / "b.md").read_text().split("ID: ")[1].split("-")[0])
    ivl, _ = _answer_good(path, nid_a)
    col = Collection(str(path))
    note = col.get_note(nid_b)
    note["Back"] = "improved in Anki"
    col.update_note(note)
    col.close()
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("q1", "q1 edited"))
    report = sync_vault(vault, collection=path, full=True)
    assert report.plan.counts()["update"] == 1, report.summary()
    col = Collection(str(path))
    card = col.get_note(nid_a).cards()[0]
    assert col.get_note(nid_a)["Front"] == "q1 edited" and card.ivl == ivl
    assert len(col.get_review_logs(card.id)) == 1
    assert col.get_note(nid_b)["Back"] == "improved in Anki"
    col.close()


def test_id_of_a_note_deleted_in_anki_is_recreated_and_rewritten(tmp_path):
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("q1")})
    sync_vault(vault, collection=path)
    old = int((vault / "a.md").read_text().split("ID: ")[1].split("-")[0])
    col = Collection(str(path))
    col.remove_notes([old])
    col.close()
    report = sync_vault(vault, collection=path)
    assert report.plan.counts()["add"] == 1, report.summary()
    new = int((vault / "a.md").read_text().split("ID: ")[1].split("-")[0])
    assert new != old and (vault / "a.md").read_text().count("ID:") == 1
    col = Collection(str(path))
    assert col.find_notes("") == [new]
    col.close()


@pytest.mark.parametrize("platform, env, rel", [
    ("linux", {}, ".local/share/Anki2"),
    ("linux", {"XDG_DATA_HOME": "{home}/xdg"}, "xdg/Anki2"),
    ("darwin", {}, "Library/Application Support/Anki2"),
    ("win32", {"APPDATA": "{home}/AppData/Roaming"}, "AppData/Roaming/Anki2"),
])
def test_profile_is_found_in_ankis_data_folder(tmp_path, platform, env, rel):
    from notecards.sync.profiles import ProfileNotFound, collection_for_profile

    env = {k: v.format(home=tmp_path) for k, v in env.items()}
    target = tmp_path / rel / "User 1" / "collection.anki2"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    assert collection_for_profile("User 1", platform, env, tmp_path) == target
    with pytest.raises(ProfileNotFound, match="profiles found: User 1"):
        collection_for_profile("Someone", platform, env, tmp_path)


def _id_of(text: str, which: int = 0) -> int:
    return int(text.split("ID: ")[1 + which].split("-")[0])


def test_new_card_above_a_synced_card_gets_its_own_note(tmp_path):
    """The new block takes the old one's position (and so its positional GUID): the old note, with
    its review history, must stay with the block whose ID line names it."""
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("old q", "old a")})
    sync_vault(vault, collection=path)
    old = _id_of((vault / "a.md").read_text())
    (vault / "a.md").write_text(_block("new q", "new a") + "\n" + (vault / "a.md").read_text())
    report = sync_vault(vault, collection=path)
    assert report.plan.counts()["add"] == 1 and not report.diagnostics, report.summary()
    text = (vault / "a.md").read_text()
    new = _id_of(text, 0)
    assert _id_of(text, 1) == old and new != old
    col = Collection(str(path))
    assert col.get_note(old)["Front"] == "old q" and col.get_note(new)["Front"] == "new q"
    col.close()


def test_same_named_file_in_another_folder_does_not_take_its_note(tmp_path):
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"one/a.md": _block("first")})
    sync_vault(vault, collection=path)
    first = _id_of((vault / "one" / "a.md").read_text())
    (vault / "two").mkdir()
    (vault / "two" / "a.md").write_text(_block("second"))
    report = sync_vault(vault, collection=path)
    assert report.plan.counts()["add"] == 1, report.summary()
    second = _id_of((vault / "two" / "a.md").read_text())
    col = Collection(str(path))
    assert second != first and col.get_note(first)["Front"] == "first"
    assert sorted(col.find_notes("")) == sorted([first, second])
    col.close()


def test_stale_id_whose_rewrite_was_lost_is_not_recreated_twice(tmp_path):
    """As after a sync killed between re-creating the note and rewriting the ID line."""
    path = _new_collection(tmp_path)
    stale = _block("q").replace("END", "<!--ID: 1234567890123-->\nEND")
    vault = _vault(tmp_path, {"a.md": stale})
    sync_vault(vault, collection=path)
    created = _id_of((vault / "a.md").read_text())
    (vault / "a.md").write_text(stale + "\n")          # the rewrite never reached the disk
    report = sync_vault(vault, collection=path)
    assert report.plan.counts()["add"] == 0, report.summary()
    assert _id_of((vault / "a.md").read_text()) == created
    col = Collection(str(path))
    assert col.find_notes("") == [created]
    col.close()


def _rename_field(path: Path, old: str, new: str) -> None:
    col = Collection(str(path))
    basic = col.models.by_name("Basic")
    col.models.rename_field(basic, next(f for f in basic["flds"] if f["name"] == old), new)
    col.models.update_dict(basic)
    col.close()


def test_cards_anki_refused_are_tried_again_once_the_collection_is_fixed(tmp_path):
    """A card that could not be added or updated leaves its file to be read again, so fixing the
    note type in Anki is enough: the vault need not be touched."""
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("q1", "a1"), "b.md": _block("q2", "a2")})
    sync_vault(vault, collection=path)
    nid_a = _id_of((vault / "a.md").read_text())
    _rename_field(path, "Back", "Answer")
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("a1", "a1 edited"))
    (vault / "c.md").write_text(_block("q3", "a3"))
    refused = sync_vault(vault, collection=path)
    assert refused.exit_code() == 1
    assert {(d.path, "Back" in d.message) for d in refused.diagnostics} == {("a.md", True), ("c.md", True)}
    _rename_field(path, "Answer", "Back")
    fixed = sync_vault(vault, collection=path)
    assert fixed.exit_code() == 0 and fixed.plan.counts()["add"] == 1, fixed.summary()
    assert fixed.plan.counts()["update"] == 1
    col = Collection(str(path))
    assert col.get_note(nid_a)["Back"] == "a1 edited" and col.note_count() == 3
    col.close()
    assert "<!--ID: " in (vault / "c.md").read_text()


def test_note_type_change_keeps_the_note_its_id_and_its_review_history(tmp_path):
    path = _new_collection(tmp_path)
    vault = _vault(tmp_path, {"a.md": _block("q1", "a1")})
    sync_vault(vault, collection=path)
    nid = _id_of((vault / "a.md").read_text())
    ivl, _ = _answer_good(path, nid)
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("Basic", "Basic (and reversed card)"))
    before = (vault / "a.md").read_bytes()
    report = sync_vault(vault, collection=path)
    assert report.exit_code() == 0 and report.plan.updates[0].changes.names() == ["note type"], report.summary()
    assert (vault / "a.md").read_bytes() == before, "the note keeps its id: no ID line to rewrite"
    col = Collection(str(path))
    note = col.get_note(nid)
    first, second = sorted(note.cards(), key=lambda c: c.ord)
    assert note.note_type()["name"] == "Basic (and reversed card)" and note["Back"] == "a1"
    assert first.ivl == ivl and len(col.get_review_logs(first.id)) == 1 and second.ivl == 0
    col.close()


def test_a_missing_custom_cloze_type_is_created_as_a_cloze_type(tmp_path):
    """Obsidian_to_Anki reads a type named "…Cloze…" as a cloze type; the collection's must be one."""
    path = _new_collection(tmp_path)
    fields = {"Text": "{{c1::Paris}} is in {{c2::France}}", "Extra": "geography"}
    block = CardBlock(path="n.md", line=1, end_line=4, kind="block", note_type="My Cloze", fields=dict(fields),
                      field_lines={}, tags=[], deck="Default", ordinal=0, id_insert=(4, 0))
    card = Card(block=block, note_type="My Cloze", fields=dict(fields), tags=[], deck="Default", guid="gc")
    _plan, new_ids, diags = _apply(path, [card])
    assert not [d for d in diags if d.severity == "error"]
    col = Collection(str(path))
    try:
        [nid] = col.find_notes("")
        note = col.get_note(nid)
        assert note.note_type()["type"] == 1 and note.keys() == ["Text", "Extra"]
        assert len(note.cards()) == 2
    finally:
        col.close()
