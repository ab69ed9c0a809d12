"""Settings files checked once, in config.py: wrong types, broken and runaway custom regexes.

A value of the wrong type is an error naming the file, the line, the key and the expected type,
and the setting keeps its default; a custom regex that does not compile is reported once per run
against the settings file, never again by whichever note file happens to be read; a regex that
backtracks without end is stopped, named with its note type at the file it was searching, while
the rest of the vault exports.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import run_cli, write
from notecards.config import O2A_DATA_JSON, Settings, load_settings

DATA_JSON = O2A_DATA_JSON.as_posix()


def o2a_vault(root: Path, settings: dict, fields_dict: dict | None = None) -> Path:
    data = {"settings": settings, "fields_dict": fields_dict or {"Basic": ["Front", "Back"]}}
    write(root, DATA_JSON, json.dumps(data, indent=2))
    return root


def messages(diags) -> list[str]:
    return [d.format() for d in diags]


@pytest.mark.parametrize("toml, key, expected", [
    ('extensions = "md"\n', "extensions", "a list of strings"),
    ("sim_draws = -5\n", "sim_draws", "a number above 0"),
    ('code_timeout = "soon"\n', "code_timeout", "a number"),
    ("code_timeout = nan\n", "code_timeout", "a number above 0"),
    ("allow_code = 1\n", "allow_code", "true or false"),
    ("default_deck = 3\n", "default_deck", "a string"),
    ("ignored_globs = [1, 2]\n", "ignored_globs", "a list of strings"),
    ('fields_dict = { Basic = "Front" }\n', "fields_dict", "a table of lists of strings"),
])
def test_a_toml_value_of_the_wrong_type_is_an_error_at_its_line_and_keeps_the_default(tmp_path, toml, key, expected):
    write(tmp_path, "notecards.toml", "# my settings\n\n" + toml)
    diags: list = []
    settings = load_settings(tmp_path, diags)
    assert len(diags) == 1, messages(diags)
    assert diags[0].path == "notecards.toml" and diags[0].line == 3 and diags[0].severity == "error"
    assert f"{key} must be {expected}" in diags[0].message
    assert getattr(settings, key) == getattr(Settings(), key)


def test_right_types_are_taken_and_the_study_table_is_left_to_study(tmp_path):
    write(tmp_path, "notecards.toml", 'extensions = ["md", ".txt"]\ncode_timeout = 5\nsim_draws = 200\n'
          '[syntax]\nbegin_note = "BEGIN"\n[study]\nport = "whatever study checks"\n')
    diags: list = []
    settings = load_settings(tmp_path, diags)
    assert diags == []
    assert (settings.extensions, settings.code_timeout, settings.sim_draws, settings.syntax.begin_note) == (
        [".md", ".txt"], 5, 200, "BEGIN")


def test_unknown_keys_and_syntax_keywords_are_errors_at_their_lines(tmp_path):
    write(tmp_path, "notecards.toml", 'extension = [".md"]\n[syntax]\nbegin = "GO"\nend_note = 4\n')
    diags: list = []
    load_settings(tmp_path, diags)
    assert [(d.line, d.severity) for d in diags] == [(1, "error"), (3, "error"), (4, "error")]
    assert "unknown setting 'extension'" in diags[0].message
    assert "unknown syntax keyword 'begin'" in diags[1].message
    assert "syntax.end_note must be a non-empty string, not the number 4" in diags[2].message


def test_a_wrong_data_json_value_is_an_error_naming_the_key_and_type(tmp_path):
    o2a_vault(tmp_path, {"Defaults": {"Deck": ["A"], "CurlyCloze": "yes", "Tag": "from_o2a"},
                         "IGNORED_FILE_GLOBS": "*.excalidraw.md", "Syntax": {"Begin Note": 7}},
              {"Basic": "Front Back"})
    diags: list = []
    settings = load_settings(tmp_path, diags)
    found = sorted((d.path, d.message.split(",")[0]) for d in diags)
    assert found == sorted([
        (DATA_JSON, "Defaults.Deck must be a string"),
        (DATA_JSON, "Defaults.CurlyCloze must be true or false"),
        (DATA_JSON, "IGNORED_FILE_GLOBS must be a list of strings"),
        (DATA_JSON, "Syntax.Begin Note must be a string"),
        (DATA_JSON, "fields_dict must be a table of lists of strings"),
    ]), messages(diags)
    assert all(d.line > 1 for d in diags)   # each at the line of its key in the pretty-printed file
    assert (settings.default_deck, settings.curly_cloze, settings.ignored_globs, settings.default_tags) == (
        "Default", False, [], ["from_o2a"])


def test_a_broken_regex_is_reported_once_however_often_files_change(tmp_path):
    """Before: the error went to whichever file was parsed first and stayed in its cache entry, so
    after another file changed the export told it twice."""
    o2a_vault(tmp_path, {"CUSTOM_REGEXPS": {"Basic": "(unclosed", "Nope": "(x)"}})
    write(tmp_path, "a.md", "START\nBasic\nq\nBack: a\nEND\n")
    write(tmp_path, "b.md", "START\nBasic\nq2\nBack: a2\nEND\n")
    out = tmp_path / "deck.apkg"
    for _ in range(3):
        proc = run_cli("export", ".", "-o", out, cwd=tmp_path)
        lines = [line for line in proc.stderr.splitlines() if "custom regex" in line]
        assert len(lines) == 2, proc.stderr
        assert all(line.startswith(DATA_JSON + ":") for line in lines)
        assert sum("does not compile" in line for line in lines) == 1
        assert sum("unknown note type 'Nope'" in line for line in lines) == 1
        write(tmp_path, "b.md", (tmp_path / "b.md").read_text() + "\nmore\n")


def test_a_variable_width_lookbehind_works_as_in_javascript(tmp_path):
    o2a_vault(tmp_path, {"CUSTOM_REGEXPS": {"Basic": r"(?<=^Q+: )(.+)\n(.+)"}})
    write(tmp_path, "n.md", "QQ: question\nanswer\n")
    from notecards.pipeline import build

    diags: list = []
    result = build(tmp_path, load_settings(tmp_path, diags))
    assert diags == [] and [c.fields["Front"] for c in result.cards] == ["question"]


def test_a_runaway_regex_is_stopped_named_at_the_file_and_the_rest_goes_on(tmp_path):
    """`(a|aa)+$` on 40 a's and a '!' backtracks for minutes without the timeout."""
    o2a_vault(tmp_path, {"CUSTOM_REGEXPS": {"Basic": r"^Q: ((?:a|aa)+)$\n(.+)"}})
    write(tmp_path, "slow.md", "Q: " + "a" * 40 + "!\nback\n\nQ: aa\nfine\n")
    write(tmp_path, "other.md", "START\nBasic\nblock card\nBack: b\nEND\n\nQ: aaa\nregex card\n")
    out = tmp_path / "deck.apkg"
    started = time.monotonic()
    proc = run_cli("export", ".", "-o", out, "--no-sim", cwd=tmp_path)
    assert time.monotonic() - started < 60, "the regex was not stopped"
    errors = [line for line in proc.stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith("slow.md:1: error:"), proc.stderr
    assert "'Basic'" in errors[0] and "data.json" in errors[0] and "stopped" in errors[0]
    assert out.is_file()

    from anki.collection import Collection
    from conftest import import_apkg

    col = Collection(str(tmp_path / "c.anki2"))
    try:
        import_apkg(col, out)
        fronts = sorted(col.get_note(n)["Front"] for n in col.find_notes(""))
    finally:
        col.close()
    assert fronts == ["aaa", "block card"]     # slow.md's regex notes: none, not some
