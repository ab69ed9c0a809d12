"""`notecards sync` as a user runs it: a real subprocess against a real collection file."""

from __future__ import annotations

import re

from conftest import run_cli, write

NOTE = "TARGET DECK: Sync::Test\n\nSTART\nBasic\nQ one\nBack: A one\nEND\n\nSTART\nCloze\n{{c1::hidden}} text\nEND\n"


def _collection(path):
    from anki.collection import Collection
    Collection(str(path)).close()
    return path


def test_sync_adds_notes_writes_ids_and_a_second_sync_changes_nothing(tmp_path):
    vault = tmp_path / "vault"
    note = write(vault, "n.md", NOTE)
    col = _collection(tmp_path / "collection.anki2")

    dry = run_cli("sync", vault, "--collection", col, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would add 2" in dry.stdout and note.read_text() == NOTE

    first = run_cli("sync", vault, "--collection", col)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "did add 2" in first.stdout
    ids = re.findall(r"<!--ID: (\d+)-->", note.read_text())
    assert len(ids) == 2
    assert re.sub(r"<!--ID: \d+-->\n", "", note.read_text()) == NOTE     # only ID lines were added

    second = run_cli("sync", vault, "--collection", col)
    assert second.returncode == 0
    assert "did add 0, update 0" in second.stdout

    from anki.collection import Collection
    c = Collection(str(col))
    try:
        assert sorted(c.find_notes("")) == sorted(int(i) for i in ids)
        assert {c.decks.name(c.get_card(cid).did) for cid in c.find_cards("")} == {"Sync::Test"}
    finally:
        c.close()


def test_sync_needs_exactly_one_target(tmp_path):
    vault = tmp_path / "vault"
    write(vault, "n.md", NOTE)
    assert run_cli("sync", vault).returncode == 2
    proc = run_cli("sync", vault, "--profile", "No Such Profile")
    assert proc.returncode == 2 and "No Such Profile" in proc.stderr


def test_sync_reports_a_missing_collection_plainly(tmp_path):
    vault = tmp_path / "vault"
    write(vault, "n.md", NOTE)
    proc = run_cli("sync", vault, "--collection", tmp_path / "nope.anki2")
    assert proc.returncode == 2          # a usage error: that path holds no collection
    assert "error:" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
