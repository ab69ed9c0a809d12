"""Parse stage: every point of the card syntax (README, "Card syntax") on real note text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notecards.config import Settings
from notecards.parse import parse_file
from notecards.jsregex import to_python
from notecards.types import ParsedFile, SourceFile
from notecards.vault import read_source

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def parse(text: str, settings: Settings | None = None, path: str = "note.md") -> ParsedFile:
    return parse_file(SourceFile(path=path, abspath=Path(path), text=text), settings or Settings())


def only_card(text: str, settings: Settings | None = None):
    result = parse(text, settings)
    assert [d.format() for d in result.diagnostics] == []
    [card] = result.blocks
    return card


def messages(result: ParsedFile) -> list[tuple[int, str]]:
    return [(d.line, d.severity) for d in result.diagnostics]


# --- the user's own notes -------------------------------------------------------------------

@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed notes not present")
def test_seed_000_the_canonical_card():
    text = (SEEDS / "000_2a68b4ef0f7bcf07.txt").read_text(encoding="utf-8")
    result = parse(text)
    assert result.diagnostics == []
    [card] = result.blocks
    assert (card.kind, card.note_type, card.deck) == ("block", "Basic", "Default")
    assert card.fields["Front"] == "[[hierarchical model]]\n- definition\n- example"
    back = card.fields["Back"]
    body = text.split("Back: \n", 1)[1].split("\n\n\nTags:", 1)[0]
    assert back == body
    for equation in re.findall(r"\$\$\n.*?\n\$\$", text[text.index("START"):], re.S):
        assert equation in back
    assert back.count("\\begin{split}") == 3 and back.count("&\\sim") == 5
    assert card.tags == ["mathematics", "statistics", "SS25"]
    assert (card.anki_id, card.id_line) == (1752652160588, 100)
    assert card.field_lines == {"Front": 43, "Back": 48}
    assert (card.line, card.end_line, card.id_insert, card.ordinal) == (41, 101, (101, 0), 0)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed notes not present")
@pytest.mark.parametrize("name", ["001_951a76ca99ebc7dc.txt", "002_d87a3510f7e8d099.txt",
                                  "003_f201e0ad41de6b0e.txt", "004_ffe18ab55ae4ec47.txt"])
def test_other_seeds_hold_no_cards_and_no_problems(name):
    result = parse((SEEDS / name).read_text(encoding="utf-8"), path=name)
    assert result.blocks == [] and result.deletions == [] and result.diagnostics == []


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed notes not present")
def test_seed_front_matter_tags_yaml_and_toml():
    yaml_note = parse((SEEDS / "001_951a76ca99ebc7dc.txt").read_text(encoding="utf-8"))
    assert yaml_note.front_matter["title"] == "hierarchical probabilistic model"
    assert "colorclass::information-theory" in yaml_note.tags
    toml_note = parse((SEEDS / "003_f201e0ad41de6b0e.txt").read_text(encoding="utf-8"))
    assert toml_note.front_matter["cover"]["alt"] == "20250113"
    assert toml_note.tags == ["Learninig_Record", "Bayesian", "Hierarchical_Bayesian", "modeling"]


# --- block notes ----------------------------------------------------------------------------

def test_first_field_is_implicit_and_fields_span_lines():
    card = only_card("intro\n\nSTART\nBasic\n\nline one\nline two\n\nBack:   answer\n  indented\n\n\nEND\n")
    assert card.fields == {"Front": "line one\nline two", "Back": "answer\n  indented"}
    assert card.field_lines == {"Front": 6, "Back": 9}
    assert (card.line, card.end_line, card.id_insert, card.anki_id) == (3, 13, (13, 0), None)


def test_explicit_front_and_switching_back_appends():
    card = only_card("START\nBasic\nFront: q\nBack: a\nFront: more q\nEND")
    assert card.fields == {"Front": "q\nmore q", "Back": "a"}


@pytest.mark.parametrize("note_type, fields", [
    ("Basic", ["Front", "Back"]),
    ("Basic (and reversed card)", ["Front", "Back"]),
    ("Basic (optional reversed card)", ["Front", "Back", "Add Reverse"]),
    ("Basic (type in the answer)", ["Front", "Back"]),
    ("Cloze", ["Text", "Back Extra"]),
])
def test_stock_note_types(note_type, fields):
    body = "\n".join(f"{name}: value {i}" for i, name in enumerate(fields))
    card = only_card(f"START\n{note_type}\n{body}\nEND\n")
    assert card.note_type == note_type
    assert list(card.fields.items()) == [(name, f"value {i}") for i, name in enumerate(fields)]


def test_custom_note_type_fields_in_its_order():
    settings = Settings()
    settings.fields_dict["Vocab"] = ["Word", "Meaning", "Example"]
    card = only_card("START\nVocab\nExample: ein Hund\nWord: Hund\nMeaning: dog\nEND", settings)
    assert list(card.fields) == ["Word", "Meaning", "Example"]
    assert card.fields == {"Word": "Hund", "Meaning": "dog", "Example": "ein Hund"}
    assert card.field_lines == {"Word": 4, "Meaning": 5, "Example": 3}


@pytest.mark.parametrize("tail", [
    "Tags: a b #c/d\n<!--ID: 42-->",
    "<!--ID: 42-->\nTags: a b #c/d",
    "Tags: a, b, c/d\n\nID: 42",
])
def test_tags_and_id_lines_at_the_end(tail):
    card = only_card(f"START\nBasic\nq\nBack: a\n{tail}\nEND")
    assert card.fields == {"Front": "q", "Back": "a"}
    assert card.tags == ["a", "b", "c::d"]
    assert card.anki_id == 42
    assert card.id_line == 5 + tail.split("\n").index(next(l for l in tail.split("\n") if "42" in l))


def test_keyword_lines_may_have_trailing_spaces():
    card = only_card("START  \nBasic \nq\nBack: a\nEND\t\n")
    assert card.fields == {"Front": "q", "Back": "a"}


def test_crlf_file_read_from_disk(tmp_path):
    (tmp_path / "n.md").write_bytes(b"START\r\nBasic\r\nq\r\nBack: a\r\n<!--ID: 7-->\r\nEND\r\n")
    source = read_source(tmp_path, "n.md", [])
    result = parse_file(source, Settings())
    [card] = result.blocks
    assert (card.fields, card.anki_id, card.id_insert) == ({"Front": "q", "Back": "a"}, 7, (6, 0))


def test_renamed_keywords():
    settings = Settings()
    settings.syntax.begin_note, settings.syntax.end_note = "BEGIN CARD", "END CARD"
    settings.syntax.begin_inline, settings.syntax.end_inline = "<<", ">>"
    settings.syntax.target_deck = "DECK"
    result = parse("DECK: Lang\nSTART\nBasic\nnot a card\nEND\n\nBEGIN CARD\nBasic\nq\nBack: a\nEND CARD\n"
                   "x << [Basic] iq Back: ia >> y\n", settings)
    assert [(c.kind, c.fields["Front"], c.deck) for c in result.blocks] == [("block", "q", "Lang"),
                                                                            ("inline", "iq", "Lang")]


@pytest.mark.parametrize("fence", ["```", "~~~", "````md"])
def test_cards_inside_fenced_code_are_code(fence):
    closing = fence.rstrip("md")
    result = parse(f"{fence}\nSTART\nBasic\nq\nEND\nSTARTI [Basic] q Back: a ENDI\n{closing}\n\nSTART\nBasic\nreal\nEND\n")
    assert result.diagnostics == []
    assert [c.fields["Front"] for c in result.blocks] == ["real"]


def test_fence_inside_a_block_keeps_its_keywords_as_text():
    card = only_card("START\nBasic\nHow is a card written?\nBack:\n```\nSTART\nBasic\nBack: x\nEND\n```\nEND\n")
    assert card.fields["Front"] == "How is a card written?"
    assert card.fields["Back"] == "```\nSTART\nBasic\nBack: x\nEND\n```"


def test_ordinary_prose_labels_do_not_warn():
    card = only_card("START\nBasic\nExample: 2+2\nNote: see below\nBackground: old\nBack: a\nDefinition: x\nEND")
    assert card.fields == {"Front": "Example: 2+2\nNote: see below\nBackground: old", "Back": "a\nDefinition: x"}


# --- inline notes ---------------------------------------------------------------------------

def test_inline_note_with_tags_and_id():
    text = "Some prose STARTI [Basic] What is 2+2? Back: 4 Tags: maths #easy <!--ID: 99--> ENDI after\n"
    card = only_card(text)
    assert (card.kind, card.fields, card.tags, card.anki_id, card.id_line) == (
        "inline", {"Front": "What is 2+2?", "Back": "4"}, ["maths", "easy"], 99, 1)
    assert text[card.id_insert[1]:].startswith("ENDI")


def test_inline_field_names_with_spaces_and_two_notes_on_a_line():
    result = parse("STARTI [Cloze] {{c1::Paris}} is the capital Back Extra: of France ENDI "
                   "STARTI [Basic] q Back: a ENDI\n")
    assert [c.fields for c in result.blocks] == [{"Text": "{{c1::Paris}} is the capital", "Back Extra": "of France"},
                                                 {"Front": "q", "Back": "a"}]
    assert [c.ordinal for c in result.blocks] == [0, 1]


def test_ordinals_count_every_kind_in_document_order():
    settings = Settings(custom_regexps={"Basic": r"^Q: (.+)\nA: (.+)"})
    result = parse("Q: r1\nA: a\n\nSTART\nBasic\nb1\nEND\nSTARTI [Basic] i1 Back: x ENDI\nQ: r2\nA: a\n", settings)
    assert [(c.ordinal, c.kind, tuple(c.fields.values())[0]) for c in result.blocks] == [
        (0, "regex", "r1"), (1, "block", "b1"), (2, "inline", "i1"), (3, "regex", "r2")]


# --- file settings, front matter, decks and tags ---------------------------------------------

def test_deck_precedence():
    settings = Settings(folder_decks={"Lang": "Languages", "Lang/German": "German"}, default_deck="Inbox")
    card = "START\nBasic\nq\nEND\n"
    front = "---\ndeck: FromFront\n---\n"
    assert parse(card, settings, "Other/n.md").deck == "Inbox"
    assert parse(card, settings, "Lang/n.md").deck == "Languages"
    assert parse(card, settings, "Lang/German/Verbs/n.md").deck == "German"
    assert parse(front + card, settings, "Lang/German/n.md").deck == "FromFront"
    result = parse(front + "TARGET DECK: Target\n" + card, settings, "Lang/German/n.md")
    assert result.deck == "Target" and result.blocks[0].deck == "Target"


def test_only_the_first_target_deck_counts():
    result = parse("TARGET DECK\nFirst\n\nSTART\nBasic\nq\nEND\nTARGET DECK: Second\n")
    assert result.deck == "First" and result.blocks[0].deck == "First"
    assert messages(result) == [(8, "warning")]


def test_per_card_deck_line():
    result = parse("TARGET DECK: Main\nSTART\nBasic\nTARGET DECK: Main::Hard\nq\nBack: a\nEND\nSTART\nBasic\nq2\nEND\n")
    assert [(c.deck, c.fields["Front"]) for c in result.blocks] == [("Main::Hard", "q"), ("Main", "q2")]


def test_file_tags_from_every_source_in_order():
    settings = Settings(default_tags=["base"], folder_tags={"School": "school", "School/Maths": "maths #exam"})
    text = "---\ntags: [\"#topic/algebra\", review]\n---\nFILE TAGS: chapter1 chapter2\nSTART\nBasic\nq\nTags: own\nEND\n"
    result = parse(text, settings, "School/Maths/n.md")
    assert result.tags == ["base", "maths", "exam", "chapter1", "chapter2", "topic::algebra", "review"]
    assert result.blocks[0].tags == result.tags + ["own"]


def test_front_matter_tags_as_a_string_and_next_line_file_tags():
    result = parse("---\ntags: \"alpha, #beta/gamma\"\n---\nFILE TAGS\nx y\nSTART\nBasic\nq\nEND\n")
    assert result.tags == ["x", "y", "alpha", "beta::gamma"]


def test_toml_front_matter():
    result = parse('+++\ndeck = "Physics"\ntags = ["waves"]\n+++\nSTART\nBasic\nq\nEND\n')
    assert (result.deck, result.tags, result.front_matter["deck"]) == ("Physics", ["waves"], "Physics")


@pytest.mark.parametrize("front, line", [("---\ntitle: ok\ntags: [a, b\n---\n", 4),
                                         ("+++\ntitle = 'ok'\ntags = [\n+++\n", 3)])
def test_broken_front_matter_is_a_warning_and_cards_still_parse(front, line):
    result = parse(front + "START\nBasic\nq\nEND\n")
    assert [c.fields["Front"] for c in result.blocks] == ["q"]
    assert result.front_matter == {}
    [problem] = result.diagnostics
    assert (problem.severity, problem.line) == ("warning", line)


def test_front_matter_lines_are_not_cards():
    result = parse("---\nnote: |\n  START\n  Basic\n---\nSTART\nBasic\nq\nEND\n")
    assert len(result.blocks) == 1 and result.blocks[0].line == 6


# --- deletions, frozen fields ---------------------------------------------------------------

def test_delete_lines_outside_and_inside_blocks():
    result = parse("DELETE\n<!--ID: 11-->\n\nSTART\nBasic\nq\nBack: a\nDELETE\nID: 12\nEND\nDELETE ID: 13\n")
    assert [(d.line, d.anki_id) for d in result.deletions] == [(1, 11), (8, 12), (11, 13)]
    assert result.blocks == [] and result.diagnostics == []


def test_frozen_fields_go_to_every_card_of_that_type():
    result = parse("FROZEN - Basic:\nBack: (from the book)\n\nSTART\nBasic\nq\nBack: a\nEND\n"
                   "START\nCloze\n{{c1::x}}\nEND\n")
    assert [c.frozen for c in result.blocks] == [{"Back": "(from the book)"}, {}]


# --- custom regex notes ---------------------------------------------------------------------

def test_js_regex_translation():
    assert to_python(r"(?<word>\w+)\k<word>") == r"(?P<word>[a-zA-Z0-9_]+)(?P=word)"
    assert re.fullmatch(to_python(r"\d+"), "١٢") is None          # JS \d is ASCII only
    assert re.fullmatch(to_python(r"a{,3}"), "a{,3}")              # not a quantifier in JS
    assert re.fullmatch(to_python(r"[^]+"), "a\nb")
    assert re.search(to_python(r"[]"), "anything") is None
    assert re.fullmatch(to_python(r"[[a]+"), "[a[")
    assert re.fullmatch(to_python(r"\e\/x"), "e/x")
    assert re.fullmatch(to_python(r".*{.*"), "a{b")


def test_regex_note_tags_and_id_after_the_match():
    settings = Settings(custom_regexps={"Basic": r"^Q: (.+)\nA: (.+)"}, default_tags=["base"])
    result = parse("Q: one\nA: 1\nTags: t1 t2\n<!--ID: 5-->\n\nQ: two\nA: 2\n", settings)
    first, second = result.blocks
    assert (first.fields, first.tags, first.anki_id, first.id_line) == (
        {"Front": "one", "Back": "1"}, ["base", "t1", "t2"], 5, 4)
    assert (second.fields, second.tags, second.anki_id, second.id_insert) == (
        {"Front": "two", "Back": "2"}, ["base"], None, (7, 4))
    assert second.field_lines == {"Front": 6, "Back": 7}


def test_regex_notes_never_overlap_blocks_fences_or_each_other():
    settings = Settings(custom_regexps={"Basic": r"^#+(.+)\n*((?:\n(?:^[^\n#].{0,2}$|^[^\n#].{3}(?<!<!--).*))+)",
                                        "Cloze": r"((?:.+\n)*(?:.*{.*)(?:\n(?:^.{1,3}$|^.{4}(?<!<!--).*))*)"},
                        curly_cloze=True)
    text = ("# Real heading\nreal answer\n\n"
            "```python\n# comment in code\nx = 1\n```\n\n"
            "START\nBasic\n# heading in a block\nq\nEND\n"
            "# After block\nanswer {not a cloze: in $\\frac{1}{2}$}\n")
    result = parse(text, settings)
    assert [(c.kind, tuple(c.fields.values())[0]) for c in result.blocks] == [
        ("regex", "Real heading"), ("block", "# heading in a block\nq"), ("regex", "After block")]


def test_cloze_regex_match_without_cloze_is_not_a_card():
    settings = Settings(custom_regexps={"Cloze": r"((?:.+\n)*(?:.*{.*)(?:\n(?:^.{1,3}$|^.{4}(?<!<!--).*))*)"},
                        curly_cloze=True)
    result = parse("Math like $\\frac{3}{4}$ only.\n\nA {real} cloze.\n\nCode `{x}` only.\n", settings)
    assert [c.fields["Text"] for c in result.blocks] == ["A {real} cloze."]


def test_an_id_in_an_inline_question_is_text_only_the_one_before_endi_counts():
    result = parse("STARTI [Basic] Patient ID: 123 ok? Back: a <!--ID: 1566052191670--> ENDI\n"
                   "STARTI [Basic] Patient ID: 123 ok? Back: a ENDI\n")
    first, second = result.blocks
    assert first.anki_id == 1566052191670 and first.fields["Front"] == "Patient ID: 123 ok?"
    assert second.anki_id is None and second.fields["Front"] == "Patient ID: 123 ok?"
