"""Broken card syntax: each mistake is a diagnostic at the line to fix, and every other card of the
same file still comes out (forgiving where Obsidian_to_Anki is fragile: README, "What notecards does differently")."""

from __future__ import annotations

from pathlib import Path

from notecards.config import Settings
from notecards.parse import parse_file
from notecards.types import ParsedFile, SourceFile


def parse(text: str, settings: Settings | None = None) -> ParsedFile:
    return parse_file(SourceFile(path="bad.md", abspath=Path("bad.md"), text=text), settings or Settings())


def problems(result: ParsedFile) -> list[tuple[int, str]]:
    return [(d.line, d.severity) for d in result.diagnostics]


def fronts(result: ParsedFile) -> list[str]:
    return [next(iter(card.fields.values())) for card in result.blocks]


GOOD = "START\nBasic\ngood {n}\nBack: a\nEND\n"


def test_the_whole_catalogue_in_one_file():
    text = "\n".join([
        GOOD.format(n=1),                                   # lines 1-5
        "START\nBasci\nq\nEND\n",                           # 7-10: unknown note type at 8
        "START\nBasic\n\nBack: only a back\nEND\n",          # 12-16: empty front, at 12
        "START\nBasic\nq\nbakc: typo\nBack: a\nEND\n",       # 18-23: lookalike at 21, card kept
        "START\nBasic\nforgot the end\n",                    # 25-27: START inside a block at 29
        GOOD.format(n=2),                                   # 29-33
        GOOD.format(n=3).replace("END\n", ""),               # 35-38: no END, runs to the end
    ])
    result = parse(text)
    assert problems(result) == [(8, "error"), (12, "error"), (21, "warning"), (29, "error"), (35, "warning")]
    assert fronts(result) == ["good 1", "q\nbakc: typo", "good 2", "good 3"]
    assert result.blocks[1].fields == {"Front": "q\nbakc: typo", "Back": "a"}
    assert [c.ordinal for c in result.blocks] == [0, 1, 2, 3]


def test_missing_end_runs_to_end_of_file_with_a_warning_at_start():
    result = parse(GOOD.format(n=1) + "\nSTART\nBasic\nq\nBack: a\n\nmore back\n")
    assert problems(result) == [(7, "warning")]
    assert "END" in result.diagnostics[0].message
    last = result.blocks[-1]
    assert last.fields == {"Front": "q", "Back": "a\n\nmore back"}
    assert last.id_insert is None           # no END line to write an ID above


def test_start_inside_a_block_is_an_error_and_never_a_merged_card():
    result = parse("START\nBasic\nfirst\nBack: 1\n\nSTART\nBasic\nsecond\nBack: 2\nEND\n" + GOOD.format(n=3))
    assert problems(result) == [(6, "error")]
    assert "line 1" in result.diagnostics[0].message
    assert [c.fields for c in result.blocks] == [{"Front": "second", "Back": "2"}, {"Front": "good 3", "Back": "a"}]


def test_unknown_note_type_lists_the_known_ones():
    settings = Settings()
    settings.fields_dict["Vocab"] = ["Word", "Meaning"]
    result = parse("START\nBasik\nq\nEND\n" + GOOD.format(n=1), settings)
    [problem] = result.diagnostics
    assert (problem.line, problem.severity) == (2, "error")
    assert "did you mean 'Basic'" in problem.message
    for name in ("Basic", "Basic (and reversed card)", "Cloze", "Vocab"):
        assert name in problem.message
    assert fronts(result) == ["good 1"]


def test_empty_first_field_skips_the_card():
    result = parse("START\nCloze\n\nBack Extra: hint\nEND\n" + GOOD.format(n=1))
    assert problems(result) == [(1, "error")]
    assert "Text" in result.diagnostics[0].message
    assert fronts(result) == ["good 1"]


def test_misspelt_field_names_warn_and_keep_the_text():
    result = parse("START\nBasic\nq\nback: lower case\nBakc: swapped\nExample: prose\nEND\n")
    assert problems(result) == [(4, "warning"), (5, "warning")]
    assert all("did you mean 'Back:'" in d.message for d in result.diagnostics)
    assert result.blocks[0].fields == {"Front": "q\nback: lower case\nBakc: swapped\nExample: prose", "Back": ""}


def test_empty_block_and_stray_end():
    result = parse("START\n\nEND\nEND\n" + GOOD.format(n=1))
    assert problems(result) == [(1, "error"), (4, "warning")]
    assert fronts(result) == ["good 1"]


def test_inline_note_mistakes():
    result = parse("STARTI Basic q Back: a ENDI\nSTARTI [Nope] q ENDI\nSTARTI [Basic] q Back: a\n"
                   "STARTI [Basic] fine Back: a ENDI\n")
    assert problems(result) == [(1, "error"), (2, "error"), (3, "warning")]
    assert fronts(result) == ["fine"]


def test_delete_without_id_and_extra_target_deck():
    result = parse("DELETE\nno id here\nTARGET DECK: A\nTARGET DECK: B\nTARGET DECK\n\n" + GOOD.format(n=1))
    assert problems(result) == [(1, "warning"), (4, "warning"), (5, "warning")]
    assert result.deletions == [] and result.deck == "A" and fronts(result) == ["good 1"]


def test_tags_line_in_the_middle_warns():
    result = parse("START\nBasic\nq\nTags: x\nBack: a\nEND\n")
    assert problems(result) == [(4, "warning")]
    assert result.blocks[0].tags == [] and result.blocks[0].fields["Front"] == "q\nTags: x"


def test_a_bare_file_setting_never_takes_the_card_below_it_as_its_value():
    """`TARGET DECK` alone takes the next line as the deck, but a START there is a card, not a name."""
    for keyword in ("TARGET DECK", "FILE TAGS"):
        result = parse(f"{keyword}\n" + GOOD.format(n=1))
        assert fronts(result) == ["good 1"]
        assert problems(result) == [(1, "warning")]
        assert (result.deck, result.tags) == ("Default", [])
