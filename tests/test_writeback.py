"""Writing ID lines into note files keeps every other byte, and never clobbers a file saved meanwhile."""

from __future__ import annotations

import os
import stat

import pytest

from notecards.sync.writeback import TEMP_SUFFIX, IdEdit, apply_edits, remove_stale_temps, write_ids
from notecards.vault import read_source


def _source(tmp_path, name, data: bytes):
    (tmp_path / name).write_bytes(data)
    return read_source(tmp_path, name, [])


def _insert_before_end(source):
    lines = source.lines()
    return [IdEdit("insert", i + 1, 0, 1566052191670) for i, l in enumerate(lines) if l.strip() == "END"]


def test_id_line_goes_before_end_and_keeps_crlf_bom_and_trailing_spaces(tmp_path):
    data = b"\xef\xbb\xbfSTART  \r\nBasic\r\nFront text \r\nBack: b\r\nEND\r\ntail without newline"
    src = _source(tmp_path, "n.md", data)
    result = write_ids(src, _insert_before_end, comments=True)
    assert result.written and result.diagnostic is None
    assert (tmp_path / "n.md").read_bytes() == (
        b"\xef\xbb\xbfSTART  \r\nBasic\r\nFront text \r\nBack: b\r\n<!--ID: 1566052191670-->\r\nEND\r\n"
        b"tail without newline")


def test_mixed_line_endings_keep_each_line_its_own(tmp_path):
    data = b"a\r\nSTART\nBasic\nq\r\nEND\r\n"
    src = _source(tmp_path, "m.md", data)
    write_ids(src, _insert_before_end, comments=False)
    assert (tmp_path / "m.md").read_bytes() == b"a\r\nSTART\nBasic\nq\r\nID: 1566052191670\r\nEND\r\n"


def test_inline_insert_and_stale_id_replace():
    raw = "STARTI [Basic] q Back: a ENDI\nSTART\nBasic\nx\n<!--ID: 7-->  \nEND\n"
    edits = [IdEdit("insert", 1, raw.index("ENDI"), 42, "inline"), IdEdit("replace", 5, anki_id=99)]
    out = apply_edits(raw, edits, comments=True, newline="\n")
    assert out == "STARTI [Basic] q Back: a <!--ID: 42--> ENDI\nSTART\nBasic\nx\n<!--ID: 99-->  \nEND\n"


def test_regex_note_id_goes_on_its_own_line_after_the_match():
    raw = "What? #flashcard\nanswer\n\nnext"
    out = apply_edits(raw, [IdEdit("insert", 2, len("answer"), 3, "regex")], True, "\n")
    assert out == "What? #flashcard\nanswer\n<!--ID: 3-->\n\nnext"


def test_permissions_survive_and_no_temp_file_is_left(tmp_path):
    src = _source(tmp_path, "p.md", b"START\nBasic\nq\nEND\n")
    os.chmod(tmp_path / "p.md", 0o640)
    src = read_source(tmp_path, "p.md", [])
    assert write_ids(src, _insert_before_end, True).written
    assert stat.S_IMODE((tmp_path / "p.md").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["p.md"]


def test_symlinked_note_is_written_at_its_target(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "t.md").write_bytes(b"START\nBasic\nq\nEND\n")
    (tmp_path / "link.md").symlink_to(real / "t.md")
    src = read_source(tmp_path, "link.md", [])
    assert write_ids(src, _insert_before_end, True).written
    assert (tmp_path / "link.md").is_symlink()
    assert b"<!--ID: 1566052191670-->\nEND" in (real / "t.md").read_bytes()


def test_file_saved_after_reading_is_reread_and_edited_afresh(tmp_path):
    src = _source(tmp_path, "c.md", b"START\nBasic\nq\nEND\n")
    (tmp_path / "c.md").write_bytes(b"new line at the top\nSTART\nBasic\nq\nEND\n")
    seen = []

    def edits_for(source):
        seen.append(source.text)
        return _insert_before_end(source)

    result = write_ids(src, edits_for, True)
    assert result.written and len(seen) == 2
    assert (tmp_path / "c.md").read_bytes() == b"new line at the top\nSTART\nBasic\nq\n<!--ID: 1566052191670-->\nEND\n"


def test_file_that_keeps_changing_is_skipped_with_a_warning(tmp_path):
    src = _source(tmp_path, "k.md", b"START\nBasic\nq\nEND\n")
    counter = iter(range(100))

    def edits_for(source):
        # the user saves again every time we look
        (tmp_path / "k.md").write_bytes(f"edit {next(counter)}\nSTART\nBasic\nq\nEND\n".encode())
        return _insert_before_end(source)

    result = write_ids(src, edits_for, True)
    assert not result.written
    assert result.diagnostic is not None and result.diagnostic.severity == "warning"
    assert b"ID:" not in (tmp_path / "k.md").read_bytes()


def test_edit_outside_the_file_is_a_warning_not_a_crash(tmp_path):
    src = _source(tmp_path, "o.md", b"START\nBasic\nq\nEND\n")
    result = write_ids(src, lambda s: [IdEdit("insert", 40, 0, 1)], True)
    assert not result.written and result.diagnostic is not None
    assert (tmp_path / "o.md").read_bytes() == b"START\nBasic\nq\nEND\n"


def test_stale_temp_files_are_cleaned(tmp_path):
    (tmp_path / f".a.md.x1{TEMP_SUFFIX}").write_bytes(b"partial")
    (tmp_path / "a.md").write_bytes(b"keep")
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]


@pytest.mark.parametrize("encoding_bom", [b"", b"\xef\xbb\xbf"])
def test_chinese_text_round_trips(tmp_path, encoding_bom):
    body = "START\nBasic\n贝叶斯 $\\theta$\nBack: 后验\nEND\n".encode()
    src = _source(tmp_path, "z.md", encoding_bom + body)
    write_ids(src, _insert_before_end, True)
    assert (tmp_path / "z.md").read_bytes() == encoding_bom + body.replace(
        b"END\n", b"<!--ID: 1566052191670-->\nEND\n")


def test_stale_ids_of_inline_notes_sharing_a_line_are_each_rewritten():
    raw = "STARTI [Basic] x Back: y <!--ID: 5--> ENDI STARTI [Basic] z Back: w <!--ID: 5--> ENDI\n"
    second_endi = raw.rindex("ENDI")
    out = apply_edits(raw, [IdEdit("replace", 1, second_endi, 77, "inline", old_id=5)], True, "\n")
    assert out == "STARTI [Basic] x Back: y <!--ID: 5--> ENDI STARTI [Basic] z Back: w <!--ID: 77--> ENDI\n"
    first_endi = raw.index("ENDI")
    edits = [IdEdit("replace", 1, first_endi, 66, "inline", old_id=5),
             IdEdit("replace", 1, second_endi, 77, "inline", old_id=5)]
    assert apply_edits(raw, edits, True, "\n") == raw.replace("ID: 5", "ID: 66", 1).replace("ID: 5", "ID: 77")


def test_replace_touches_only_the_old_id_not_other_numbers_on_the_line():
    raw = "STARTI [Basic] What is ID: 42 in the table? Back: y <!--ID: 5--> ENDI\n"
    out = apply_edits(raw, [IdEdit("replace", 1, raw.index("ENDI"), 9, "inline", old_id=5)], True, "\n")
    assert out == raw.replace("ID: 5-->", "ID: 9-->")
