"""Defects found in public Obsidian_to_Anki vaults (1,400 files): each as the vault wrote it.

A regex card ending with a closed code fence, a regex match ending inside a fence (the plugin
wrote its ID line there), an image link written as Obsidian writes it in prose, an END and ID
line indented under a list item by a formatter, and a nested heading embed.
"""

from __future__ import annotations

from pathlib import Path

from notecards.config import Settings
from notecards.embed_check import check_embeds_outside_cards
from notecards.parse import parse_file
from notecards.pipeline import build
from notecards.types import ParsedFile, SourceFile
from notecards.vault import VaultIndex

HEADING_REGEX = r"^#{1,6} (.+)\n+((?:[^\n#][^\n]*\n?)+)"


def parse(text: str, settings: Settings | None = None) -> ParsedFile:
    return parse_file(SourceFile(path="note.md", abspath=Path("note.md"), text=text), settings or Settings())


def write(root: Path, rel: str, text: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, encoding="utf-8")


def test_a_regex_card_whose_answer_ends_with_a_closed_code_fence_is_a_card():
    settings = Settings(custom_regexps={"Basic": HEADING_REGEX})
    result = parse("# How to list files?\n```bash\nls -la\n```\n\n# Next\nplain\n", settings)
    assert [d.format() for d in result.diagnostics] == []
    assert [c.fields["Front"] for c in result.blocks] == ["How to list files?", "Next"]
    assert result.blocks[0].fields["Back"] == "```bash\nls -la\n```"


def test_the_same_at_the_very_end_of_the_file_without_a_newline():
    settings = Settings(custom_regexps={"Basic": HEADING_REGEX})
    result = parse("# Q\n```\ncode\n```", settings)
    assert [c.fields["Back"] for c in result.blocks] == ["```\ncode\n```"]


def test_a_regex_match_ending_inside_a_fence_is_the_plugins_card_with_a_warning_at_its_line():
    # the regex stops at the first blank line, which lies inside the code block
    settings = Settings(custom_regexps={"Basic": r"^Q: (.+)\n((?:.+\n)+)"})
    text = "intro\n\nQ: what does it print?\n```python\nprint(1)\n\nprint(2)\n```\n<!--ID: 1700000000000-->\n"
    result = parse(text, settings)
    [card] = result.blocks
    assert card.fields["Front"] == "what does it print?" and card.line == 3
    assert [(d.line, d.severity) for d in result.diagnostics] == [(3, "warning")]
    assert "inside the code block at line 4" in result.diagnostics[0].message


def test_a_match_lying_wholly_inside_a_fence_is_code_not_a_card():
    settings = Settings(custom_regexps={"Basic": r"^Q: (.+)\n(.+)"})
    result = parse("```\nQ: in code\nanswer\n```\n", settings)
    assert result.blocks == [] and result.diagnostics == []


def test_an_end_and_id_line_indented_under_a_list_item_close_the_block():
    text = ("START\nBasic\nWhat are the parts?\nBack:\n- one\n- two\n  <!--ID: 1566052191670-->\n  END\n\n"
            "START\nBasic\nnext\nBack: card\nEND\n")
    result = parse(text)
    assert [d.format() for d in result.diagnostics] == []
    first, second = result.blocks
    assert first.fields["Back"] == "- one\n- two" and first.anki_id == 1566052191670
    assert first.id_line == 7 and second.fields["Front"] == "next"


def test_an_indented_tags_line_before_an_indented_end_is_the_cards_tags():
    result = parse("START\nBasic\nq\nBack:\n- a\n\tTags: t1 t2\n\tEND\n")
    [card] = result.blocks
    assert card.tags == ["t1", "t2"] and card.fields["Back"] == "- a"


def test_an_image_link_as_obsidian_writes_it_in_prose_is_found(tmp_path):
    write(tmp_path, "Assets/Pasted image 1.png", b"\x89PNG\r\n\x1a\n")
    write(tmp_path, "Courses/Stats/week 1.md",
          "Prose ![](../../Assets/Pasted%20image%201.png) and ![x](<../../Assets/Pasted image 1.png>)\n"
          "and a real miss ![](../../Assets/Pasted%20image%202.png)\n")
    index = VaultIndex.scan(tmp_path)
    rel = "Courses/Stats/week 1.md"
    source = SourceFile(path=rel, abspath=tmp_path / rel, text=(tmp_path / rel).read_text())
    diags = check_embeds_outside_cards(parse_file(source, Settings()), index)
    assert [(d.line, d.message) for d in diags] == [(2, "image not found in the vault: ../../Assets/Pasted image 2.png")]


def test_a_nested_heading_embed_shows_the_subsection(tmp_path):
    write(tmp_path, "topic.md", "# Heading\nintro\n## Other\nno\n## Subheading\nthe nested part\n"
          "### deeper\nkept\n## After\ndropped\n# Subheading\nnot this one\n")
    write(tmp_path, "card.md", "START\nBasic\nq\nBack: ![[topic#Heading#Subheading]]\nEND\n")
    result = build(tmp_path)
    assert [d.format() for d in result.diagnostics] == []
    back = result.cards[0].fields["Back"]
    assert "the nested part" in back and "kept" in back
    assert "intro" not in back and "dropped" not in back and "not this one" not in back


def test_a_prose_embed_of_a_txt_note_or_a_dotted_name_is_found(tmp_path):
    write(tmp_path, "other.txt", "text\n")
    write(tmp_path, "v1.2 notes.md", "text\n")
    write(tmp_path, "n.md", "See ![[other]] and ![[v1.2 notes]] and ![[v1.2 notes#Part]], not ![[gone]].\n")
    index = VaultIndex.scan(tmp_path)
    source = SourceFile(path="n.md", abspath=tmp_path / "n.md", text=(tmp_path / "n.md").read_text())
    diags = check_embeds_outside_cards(parse_file(source, Settings()), index)
    assert [d.message for d in diags] == ["embedded note not found in the vault: gone"]
