"""Obsidian_to_Anki's own test vaults, parsed: the cards, note types, decks, tags and fields that
plugin's suite checks after a sync (tests/anki/test_<suite>.py there), before any rendering.

Each suite is copied as `<vault>/<suite>/…` with its `.obsidian` at `<vault>/.obsidian`, as that
project does. Raw fields are compared: markdown conversion (`<br />`, clozes, `#tag` → tag) is
render's job. Skipped when the suites folder is absent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from notecards.config import load_settings
from notecards.parse import parse_file
from notecards.types import CardBlock, ParsedFile
from notecards.vault import VaultIndex, note_files, read_source

SUITES = Path(__file__).resolve().parents[2] / "shared" / "o2a-suites"

pytestmark = pytest.mark.skipif(not SUITES.is_dir(), reason="Obsidian_to_Anki suites not present")

O2A = "Obsidian_to_Anki"
TEST_OK = "Test successful!"
HEADINGS_BACK = "This style is suitable for having the header as the front, and the answer as the back"
SPANNING = "It'll even\nSpan over\nMultiple lines, and ignore preceding whitespace"


def parse_suite(suite: str, tmp_path: Path) -> dict[str, ParsedFile]:
    vault = tmp_path / "vault"
    vault.mkdir()
    source = SUITES / suite
    if (source / ".obsidian").is_dir():
        shutil.copytree(source / ".obsidian", vault / ".obsidian")
    shutil.copytree(source, vault / suite, ignore=shutil.ignore_patterns(".obsidian"))
    problems: list = []
    settings = load_settings(vault, problems)
    assert problems == []
    index = VaultIndex.scan(vault)
    parsed = {}
    for rel in note_files(index, settings):
        parsed[rel] = parse_file(read_source(vault, rel, problems), settings)
    assert problems == []
    return parsed


def cards_of(parsed: dict[str, ParsedFile]) -> list[CardBlock]:
    return [card for rel in sorted(parsed) for card in parsed[rel].blocks]


def fronts_backs(cards: list[CardBlock]) -> list[tuple[str, str]]:
    return [tuple(card.fields.values())[:2] for card in cards]


def assert_clean(parsed: dict[str, ParsedFile]) -> None:
    assert [d.format() for p in parsed.values() for d in p.diagnostics] == []


def test_basic_sync(tmp_path):
    parsed = parse_suite("basic_sync", tmp_path)
    assert_clean(parsed)
    cards = cards_of(parsed)
    assert fronts_backs(cards) == [("This is a test.", TEST_OK),
                                   ("This is a test with Front specified.", TEST_OK),
                                   ("This is a test.\nAnd the test is continuing.", TEST_OK)]
    assert [c.tags for c in cards] == [["Testing"], ["Testing", "2"], []]
    assert {(c.kind, c.note_type, c.deck) for c in cards} == {("block", "Basic", "Default")}
    assert [c.ordinal for c in cards] == [0, 1, 2]


@pytest.mark.parametrize("suite", ["basic_para", "folder_scan"])
def test_heading_paragraph_style(suite, tmp_path):
    parsed = parse_suite(suite, tmp_path)
    assert_clean(parsed)
    if suite == "folder_scan":
        # Scan Directory: only folder_scan/scan_dir and below; should_not_scan.md never read
        assert sorted(parsed) == ["folder_scan/scan_dir/also_scan/folder_scan_subdir.md",
                                  "folder_scan/scan_dir/folder_scan.md"]
    for rel, result in parsed.items():
        suffix = " Subdir" if "also_scan" in rel else ""
        assert fronts_backs(result.blocks) == [
            ("Style" + suffix, HEADINGS_BACK),
            ("Subheading 1" + suffix, "You're allowed to nest headers within each other"),
            ("Subheading 2" + suffix, "It'll take the deepest level for the question"),
            ("Subheading 3" + suffix, SPANNING)]
        assert {(c.kind, c.note_type, c.deck) for c in result.blocks} == {("regex", "Basic", "Default")}
        assert all(c.tags == [O2A] for c in result.blocks)


def test_basic_para_3(tmp_path):
    parsed = parse_suite("basic_para_3", tmp_path)
    assert fronts_backs(cards_of(parsed)) == [
        ("Subheading 2", "It'll take the deepest level for the question. This should have a card"),
        ("Subheading 3", "This should too"),
        ("Subheading 3.1", "Yeah this too\n   \n   \n   \n" + SPANNING)]


def test_question_answer(tmp_path):
    parsed = parse_suite("question_answer", tmp_path)
    assert_clean(parsed)
    assert fronts_backs(cards_of(parsed)) == [
        ("How do you use this style?", "Just like this."),
        ("Can the question\nrun over multiple lines?", "Yes, and\nSo can the answer"),
        ("Does the answer need to be immediately after the question?",
         "No, and preceding whitespace will be ignored."),
        ("How is this possible?", "The 'magic' of regular expressions!"),
        ("How is this possible? #tag2", "The 'magic' of regular expressions! #tag1")]


def test_neuracache(tmp_path):
    assert fronts_backs(cards_of(parse_suite("neuracache_sync", tmp_path))) == [
        ("In Neuracache style, to make a flashcard you do",
         "The next lines then become the back of the flashcard"),
        ("If you want, it's certainly possible to\ndo a multi-line question",
         "You just need to make sure both\nthe question and answer are one paragraph."),
        ("And, of course", "Whitespace is ignored!")]


def test_ruled_style(tmp_path):
    assert fronts_backs(cards_of(parse_suite("ruled_style", tmp_path))) == [
        ("How do you use ruled style?", "You need at least three '-' between the front and back of the card."),
        ("Are paragraphs\nsupported?", "Yes, but you need the front and back\ndirectly before and after the ruler.")]


def test_markdown_table_ignores_two_column_tables(tmp_path):
    cards = cards_of(parse_suite("markdown_table", tmp_path))
    assert fronts_backs(cards) == [
        ("How do you use this style?", "Just like this"),
        ("Why might this style be useful?", "It looks nice when rendered as HTML in a markdown editor.")]
    # the regex ends with \n?, so the ID goes at the start of the line after the table
    assert cards[0].id_insert == (5, 0)


def test_remnote_inline(tmp_path):
    assert fronts_backs(cards_of(parse_suite("remnote_inline", tmp_path))) == [
        ("This is how to use", "Remnote single-line style"),
        ("You can have", "multiple notes in the same file")]


def test_cloze_paragraphs_skip_math_without_clozes(tmp_path):
    cards = cards_of(parse_suite("cloze_para", tmp_path))
    assert [c.note_type for c in cards] == ["Cloze", "Cloze"]
    assert [c.fields["Text"] for c in cards] == [
        "The idea of {cloze paragraph style} is to be able to recognise any paragraphs that contain "
        "{cloze deletions}.",
        "With {2:CurlyCloze} enabled, you can also use the {c1|easier cloze formatting},\n"
        "but of course {{c3::Anki}}'s formatting is always an option."]


def test_cloze_highlight(tmp_path):
    cards = cards_of(parse_suite("cloze_highlight", tmp_path))
    assert [c.fields["Text"] for c in cards] == [
        "This is a ==c1::test==.\nThis is also a Test ==c2::meow== !",
        "This must be a new card ==test2== !!"]
    assert [c.fields["Back Extra"] for c in cards] == ["", ""]


def test_cloze_sync_blocks(tmp_path):
    cards = cards_of(parse_suite("cloze_sync", tmp_path))
    assert len(cards) == 7
    assert {c.note_type for c in cards} == {"Cloze"}
    assert cards[0].fields == {"Text": "This is a {{c1::cloze note}}", "Back Extra": ""}
    assert cards[6].fields["Text"].startswith("This is a {cloze} note with {multiple}")


@pytest.mark.parametrize("suite", ["folder_deck", "folder_deck_tags"])
def test_folder_decks_and_tags(suite, tmp_path):
    parsed = parse_suite(suite, tmp_path)
    assert_clean(parsed)
    by_deck = {card.deck: card for card in cards_of(parsed)}
    assert sorted(by_deck) == ["Default", "English", "Math", "Science"]
    assert by_deck["Default"].fields["Front"] == "This is a test. Should be in Default deck."
    assert by_deck["English"].fields["Front"].startswith("This is a test. This card should be English Deck")
    assert by_deck["Math"].fields["Front"] == "This is a test. Should be in Math deck."
    assert by_deck["Science"].fields == {"Front": "This is a test. Should be in Science deck", "Back": TEST_OK}
    if suite == "folder_deck_tags":
        assert by_deck["Default"].tags == [O2A, "Testing"]
        assert by_deck["English"].tags == [O2A, "arts", "booring"]
        assert by_deck["Math"].tags == by_deck["Science"].tags == [O2A, "sciences", "fun"]
    else:
        assert all(card.tags == [O2A] for card in by_deck.values())


def test_target_deck_same_line_and_next_line(tmp_path):
    parsed = parse_suite("target_deck", tmp_path)
    assert_clean(parsed)
    decks = {rel.rsplit("/", 1)[1]: [c.deck for c in p.blocks] for rel, p in parsed.items()}
    assert decks == {"target_deck.md": ["MathematicsInNextLine"],
                     "target_deck.sameline.md": ["MathematicsInSameLine"]}


def test_tag_sync_file_tags(tmp_path):
    parsed = parse_suite("tag_sync", tmp_path)
    assert_clean(parsed)
    tags = {c.fields["Front"].split("\n")[0]: c.tags for c in cards_of(parsed)}
    assert len(tags) == 7
    assert tags["This is a test."] == [O2A, "Tag1", "Tag2", "Tag3"]
    assert tags["This is a test. This should not have any tags except default ones."] == [O2A]
    for front in ("This is a test with file tags specified in new line",
                  "This is a test 2 with file tags specified in new line",
                  "This is a test with file tags specified inline",
                  "This is a test 2 with file tags specified inline"):
        assert tags[front] == [O2A, "Maths", "School", "Physics"]


def test_inline_note(tmp_path):
    [card] = cards_of(parse_suite("inline_notes", tmp_path))
    assert (card.kind, card.note_type, card.fields) == ("inline", "Basic", {"Front": "This is a test.", "Back": TEST_OK})
    line = (SUITES / "inline_notes" / "inline_notes.md").read_text().split("\n")[card.line - 1]
    assert line[card.id_insert[1]:].startswith("ENDI")


def test_frozen_fields(tmp_path):
    [card] = cards_of(parse_suite("frozen_notes", tmp_path))
    assert card.fields == {"Front": "India (This is a Test)", "Back": "Delhi! Test successful!"}
    assert card.frozen == {"Front": "<br/>What is the country's capital?"}


def test_ignore_setting_and_scan_directory(tmp_path):
    parsed = parse_suite("ignore_setting", tmp_path)
    assert sorted(parsed) == ["ignore_setting/scan_dir/included_file.md",
                              "ignore_setting/scan_dir/some/other/subdir/also_included_file.md"]
    assert [len(p.blocks) for p in parsed.values()] == [3, 3]


@pytest.mark.parametrize("suite, fronts", [
    ("context_test", ["This is a test"]),
    ("image_sync", ["Do ![alt-text](http://meow.in/meow.png). You'll want to do 'copy image address' on the "
                    "image, and use that for the image url."]),
    ("math_test", ["Inline $x = 5$", "Displayed $$z = 10$$"]),
    ("music_embed", ["This is a test with music\n![[test.mp3]]"]),
    ("ng_basic_update", ["This is a test.\n<!-- EDIT ABOVE THIS LINE FOR TEST -->"]),
    ("ng_delete_sync", ["This is a test which should not exist."]),
])
def test_plain_block_suites(suite, fronts, tmp_path):
    parsed = parse_suite(suite, tmp_path)
    assert_clean(parsed)
    cards = cards_of(parsed)
    assert [tuple(c.fields.values())[0] for c in cards] == fronts
    assert all(c.kind == "block" and c.deck == "Default" and c.anki_id is None for c in cards)


def test_markdown_test_keeps_the_whole_card(tmp_path):
    [card] = cards_of(parse_suite("markdown_test", tmp_path))
    assert card.tags == ["Way_too_much_info"]
    assert card.fields["Front"].endswith("* Make sure to leave a gap between lists and other things")
    assert card.fields["Back"].startswith("A few more elements to see.")
    assert '```python\n    print("Hello world!")\n```' in card.fields["Back"]
    assert card.fields["Back"].endswith("Content Cell  | Content Cell")


def test_every_suite_is_covered():
    covered = {"basic_sync", "basic_para", "folder_scan", "basic_para_3", "question_answer", "neuracache_sync",
               "ruled_style", "markdown_table", "remnote_inline", "cloze_para", "cloze_highlight", "cloze_sync",
               "folder_deck", "folder_deck_tags", "target_deck", "tag_sync", "inline_notes", "frozen_notes",
               "ignore_setting", "context_test", "image_sync", "math_test", "music_embed", "ng_basic_update",
               "ng_delete_sync", "markdown_test"}
    assert {p.name for p in SUITES.iterdir() if p.is_dir()} == covered
