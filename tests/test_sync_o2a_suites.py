"""Obsidian_to_Anki's own test vaults, each synced into a fresh collection by stock note type name.

Each suite is laid out as that project does: `<vault>/<suite>/…` with the suite's `.obsidian` at the
vault root. Every `<!-- CARD -->` marker in a scanned file must end up with exactly one ID line
naming a note of the collection (but a block with an error, such as a Cloze with no deletion, gets
no note), the collection holds exactly those notes in the note types named by the blocks, and a
second sync changes nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402

from notecards.sync import sync_vault  # noqa: E402

SUITES = Path(__file__).resolve().parents[2] / "shared" / "o2a-suites"
ID_RE = re.compile(r"(?:<!--)?ID: (\d+)")
STOCK = {"Basic", "Basic (and reversed card)", "Basic (optional reversed card)",
         "Basic (type in the answer)", "Cloze"}

if not SUITES.is_dir():
    pytest.skip("Obsidian_to_Anki suites not present", allow_module_level=True)

ALL = sorted(p.name for p in SUITES.iterdir() if p.is_dir())
NOT_SCANNED = {"should_not_scan_dir", "outside_of_scandir", "ignored_by_setting_ignored"}


def _vault(tmp_path: Path, suite: str) -> tuple[Path, Path]:
    vault = tmp_path / "vault"
    shutil.copytree(SUITES / suite, vault / suite, ignore=shutil.ignore_patterns(".obsidian"))
    if (SUITES / suite / ".obsidian").is_dir():
        shutil.copytree(SUITES / suite / ".obsidian", vault / ".obsidian")
    col = tmp_path / "User 1" / "collection.anki2"
    col.parent.mkdir()
    Collection(str(col)).close()
    return vault, col


def _scanned(vault: Path) -> list[Path]:
    return [p for p in sorted(vault.rglob("*.md"))
            if ".obsidian" not in p.parts and not NOT_SCANNED & set(p.parts)]


def _ids(path: Path) -> list[int]:
    return [int(m.group(1)) for m in ID_RE.finditer(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("suite", ALL)
def test_suite_syncs_like_obsidian_to_anki(tmp_path, suite):
    vault, col_path = _vault(tmp_path, suite)
    report = sync_vault(vault, collection=col_path)
    assert report.problem is None, report.summary()
    expected = 0
    written: list[int] = []
    errors = [d.path for d in report.diagnostics if d.severity == "error"]    # blocks Anki must not get
    for note in _scanned(vault):
        markers = note.read_text(encoding="utf-8").count("<!-- CARD -->")
        markers -= errors.count(note.relative_to(vault).as_posix())
        ids = _ids(note)
        assert len(ids) == markers, f"{note.relative_to(vault)}: {len(ids)} ID lines for {markers} cards\n{report.summary()}"
        expected += markers
        written += ids
    for skipped in set(vault.rglob("*.md")) - set(_scanned(vault)):
        assert not _ids(skipped), f"{skipped} is outside the scan and must not be touched"
    col = Collection(str(col_path))
    try:
        assert sorted(col.find_notes("")) == sorted(written)
        assert len(set(written)) == expected
        for nid in written:
            assert col.get_note(nid).note_type()["name"] in STOCK
    finally:
        col.close()
    again = sync_vault(vault, collection=col_path)
    assert again.plan is not None and again.plan.is_empty(), again.summary()


def _br(html: str) -> str:
    """Obsidian_to_Anki writes `<br />`, notecards `<br>`: the same line break."""
    return html.replace("<br>", "<br />")


def _notes(col_path: Path) -> list:
    col = Collection(str(col_path))
    try:
        return [(dict(col.get_note(n).items()) | {"id": n, "tags": col.get_note(n).tags},
                 {col.decks.name(c.did) for c in col.get_note(n).cards()})
                for n in sorted(col.find_notes(""))]
    finally:
        col.close()


def test_basic_sync_fields_tags_and_default_deck(tmp_path):
    vault, col_path = _vault(tmp_path, "basic_sync")
    sync_vault(vault, collection=col_path)
    notes = _notes(col_path)
    assert [_br(n["Front"]) for n, _ in notes] == ["This is a test.", "This is a test with Front specified.",
                                             "This is a test.<br />\nAnd the test is continuing."]
    assert all(n["Back"] == "Test successful!" and decks == {"Default"} for n, decks in notes)
    assert notes[0][0]["tags"] == ["Testing"] and sorted(notes[1][0]["tags"]) == ["2", "Testing"]


def test_target_deck_on_the_next_line(tmp_path):
    vault, col_path = _vault(tmp_path, "target_deck")
    sync_vault(vault, collection=col_path)
    decks = {d for _, ds in _notes(col_path) for d in ds}
    assert "MathematicsInNextLine" in decks


def test_ng_basic_update_second_sync_updates_the_same_note(tmp_path):
    vault, col_path = _vault(tmp_path, "ng_basic_update")
    note_file = vault / "ng_basic_update" / "ng_basic_update.md"
    sync_vault(vault, collection=col_path)
    [nid] = _ids(note_file)
    text = note_file.read_text(encoding="utf-8")
    note_file.write_text(text.replace("<!-- EDIT ABOVE THIS LINE FOR TEST -->",
                                      "This is updated content meow."), encoding="utf-8")
    report = sync_vault(vault, collection=col_path)
    assert report.exit_code() == 0, report.summary()
    [(note, decks)] = _notes(col_path)
    assert note["id"] == nid and _ids(note_file) == [nid]
    assert _br(note["Front"]) == "This is a test.<br />\nThis is updated content meow."
    assert note["Back"] == "Test successful!" and decks == {"Default"}


def test_ng_delete_sync_second_sync_deletes_the_note(tmp_path):
    vault, col_path = _vault(tmp_path, "ng_delete_sync")
    note_file = vault / "ng_delete_sync" / "ng_delete_sync.md"
    sync_vault(vault, collection=col_path)
    assert len(_ids(note_file)) == 1
    text = note_file.read_text(encoding="utf-8")
    note_file.write_text(text.replace("<!-- REPLACE ME FOR TEST -->", "DELETE"), encoding="utf-8")
    report = sync_vault(vault, collection=col_path)
    assert report.exit_code() == 0, report.summary()
    assert _notes(col_path) == []
    # unlike Obsidian_to_Anki, the DELETE and ID lines stay, so the block's note does not come back
    assert "DELETE\n<!--ID: " in note_file.read_text(encoding="utf-8")
    third = sync_vault(vault, collection=col_path)
    assert third.plan.is_empty() and _notes(col_path) == [], third.summary()


def test_tag_sync_adds_the_default_tag_from_data_json(tmp_path):
    """data.json's `Defaults.Tag` goes on every note, with the block's and the file's tags."""
    vault, col_path = _vault(tmp_path, "tag_sync")
    sync_vault(vault, collection=col_path)
    tags = {_br(n["Front"]): sorted(n["tags"]) for n, _ in _notes(col_path)}
    assert tags["This is a test."] == ["Obsidian_to_Anki", "Tag1", "Tag2", "Tag3"]
    assert tags["This is a test. This should not have any tags except default ones.<br />\n"
                "And the test is continuing."] == ["Obsidian_to_Anki"]
    assert tags["This is a test with file tags specified inline"] == ["Maths", "Obsidian_to_Anki", "Physics", "School"]


def test_folder_deck_tags_put_each_folder_in_its_deck_with_its_tags(tmp_path):
    vault, col_path = _vault(tmp_path, "folder_deck_tags")
    sync_vault(vault, collection=col_path)
    placed = sorted((sorted(decks), sorted(n["tags"])) for n, decks in _notes(col_path))
    assert placed == [(["Default"], ["Obsidian_to_Anki", "Testing"]),
                      (["English"], ["Obsidian_to_Anki", "arts", "booring"]),
                      (["Math"], ["Obsidian_to_Anki", "fun", "sciences"]),
                      (["Science"], ["Obsidian_to_Anki", "fun", "sciences"])]
