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
        new_ids, diags = backend.apply(plan)
    return plan, new_ids, diags


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
    assert [u.changes for u in plan.updates] == [["fields", "tags", "deck"]] and len(plan.unchanged) == 1

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
    assert plan.updates[0].changes == ["note type"]
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


def test_missing_collection_is_a_plain_error(tmp_path):
    report = sync_vault(tmp_path, collection=tmp_path / "nope" / "collection.anki2")
    assert report.exit_code() == 1 and "no Anki collection" in report.summary()
