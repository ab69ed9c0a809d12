"""Render stage against a real vault on disk: embeds, images, audio, missing files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from notecards.config import Settings
from notecards.render import RenderContext, render_block
from notecards.types import CardBlock, SourceFile
from notecards.vault import VaultIndex

SEED_004 = Path("/work/shared/seeds/004_ffe18ab55ae4ec47.txt")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def write(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def render(root: Path, path: str, back: str, back_line: int, **settings):
    """Render a Basic card of `path` whose Back field starts at `back_line` of that file."""
    text = (root / path).read_text(encoding="utf-8") if (root / path).exists() else back
    source = SourceFile(path=path, abspath=root / path, text=text)
    ctx = RenderContext(index=VaultIndex.scan(root), settings=Settings(**settings), source=source)
    block = CardBlock(path=path, line=max(back_line - 2, 1), end_line=back_line + 20, kind="block",
                      note_type="Basic", fields={"Front": "Q", "Back": back},
                      field_lines={"Front": max(back_line - 1, 1), "Back": back_line},
                      tags=[], deck="Default", ordinal=0)
    return render_block(block, ctx)


def test_section_embed_transcludes_heading_to_next_heading_of_same_level(tmp_path):
    write(tmp_path, "concepts/probabilistic model.md",
          "---\ntags: [x]\n---\n# probabilistic model\n- models $Y$\n## detail\nkept\n# other\ndropped\n")
    rendered = render(tmp_path, "card.md", "before\n![[probabilistic model#probabilistic model]]\n", 5)
    back = rendered.fields["Back"]
    assert '<div class="nc-embed" data-source="concepts/probabilistic model.md#probabilistic model">' in back
    assert "<h1 id=\"probabilisticmodel\">probabilistic model</h1>" in back and r"\(Y\)" in back and "kept" in back
    assert "dropped" not in back and "tags:" not in back
    assert rendered.diagnostics == []


def test_whole_note_embed_standalone_has_no_paragraph_around_it(tmp_path):
    write(tmp_path, "other.md", "text of **other**\n")
    back = render(tmp_path, "card.md", "![[other]]", 3).fields["Back"]
    assert back.startswith('<div class="nc-embed" data-source="other.md#">')
    assert "<strong>other</strong>" in back and not back.startswith("<p>")


def test_embed_of_missing_note_is_a_warning_at_its_line_and_shown_as_text(tmp_path):
    rendered = render(tmp_path, "card.md", "line one\nline two\n![[nowhere#part]]", 10)
    [diag] = rendered.diagnostics
    assert (diag.path, diag.line, diag.severity) == ("card.md", 12, "warning")
    assert "nowhere" in diag.message
    assert "nowhere &gt; part" in rendered.fields["Back"]


def test_embed_of_missing_heading_is_a_warning(tmp_path):
    write(tmp_path, "other.md", "# present\nx\n")
    rendered = render(tmp_path, "card.md", "![[other#absent]]", 4)
    [diag] = rendered.diagnostics
    assert diag.line == 4 and "absent" in diag.message
    assert "other &gt; absent" in rendered.fields["Back"]


def test_embed_cycle_stops_with_a_warning_in_the_embedding_note(tmp_path):
    write(tmp_path, "a.md", "A text\n![[b]]\n")
    write(tmp_path, "b.md", "B text\n\n![[a]]\n")
    rendered = render(tmp_path, "card.md", "![[a]]", 1)
    back = rendered.fields["Back"]
    assert "A text" in back and "B text" in back
    cycle = [d for d in rendered.diagnostics if "embeds itself" in d.message]
    assert [(d.path, d.line) for d in cycle] == [("b.md", 3)]


def test_images_become_hashed_media_and_same_names_in_two_folders_never_collide(tmp_path):
    write(tmp_path, "a/img.png", PNG + b"a")
    write(tmp_path, "b/img.png", PNG + b"b")
    write(tmp_path, "b/card.md", "")
    rendered = render(tmp_path, "b/card.md", "![[a/img.png|200]] ![alt](img.png) ![[a/img.png]]", 2)
    names = {m.name for m in rendered.media}
    expected_a = hashlib.sha256(PNG + b"a").hexdigest()[:16] + ".png"
    expected_b = hashlib.sha256(PNG + b"b").hexdigest()[:16] + ".png"
    assert names == {expected_a, expected_b}
    back = rendered.fields["Back"]
    assert f'<img src="{expected_a}" alt="a/img.png" width="200" />' in back
    assert f'<img src="{expected_b}" alt="alt" />' in back
    assert {m.read() for m in rendered.media} == {PNG + b"a", PNG + b"b"}


def test_audio_becomes_sound_and_remote_images_stay_links(tmp_path):
    write(tmp_path, "sounds/word.mp3", b"ID3fake")
    rendered = render(tmp_path, "card.md", "![[word.mp3]] ![x](https://example.org/p.png)", 2)
    name = hashlib.sha256(b"ID3fake").hexdigest()[:16] + ".mp3"
    assert f"[sound:{name}]" in rendered.fields["Back"]
    assert '<img src="https://example.org/p.png" alt="x" />' in rendered.fields["Back"]
    assert [m.name for m in rendered.media] == [name] and rendered.diagnostics == []


@pytest.mark.skipif(not SEED_004.exists(), reason="seed notes not available")
def test_seed_004_missing_image_is_a_warning_at_its_line(tmp_path):
    text = SEED_004.read_text(encoding="utf-8")
    write(tmp_path, "bayes.md", text)
    lines = text.split("\n")
    body_start = lines.index("## Introduction")          # the body after the front matter
    image_line = next(i for i, l in enumerate(lines) if "images/school_data.png" in l) + 1
    rendered = render(tmp_path, "bayes.md", "\n".join(lines[body_start:]), body_start + 1)
    missing = [d for d in rendered.diagnostics if "school_data.png" in d.message]
    assert [(d.path, d.line, d.severity) for d in missing] == [("bayes.md", image_line, "warning")]
    assert "alt text" in rendered.fields["Back"]
    assert r"\[ y_{ij} \sim  \mathcal{N} (\mu _{j},\sigma^{2}_{j}) \]" in rendered.fields["Back"]


def test_an_embedded_section_shows_its_prose_not_the_cards_it_holds(tmp_path):
    write(tmp_path, "normal.md",
          "TARGET DECK\nStats\n# Sum\nVariances add.\n\nSTART\nBasic\nsum of normals?\nBack: normal\n"
          "<!--ID: 1566052191670-->\nEND\n\nSTARTI [Basic] inline q Back: inline a ENDI\n"
          "Means add too.\n# Other\n")
    back = render(tmp_path, "card.md", "![[normal#Sum]]\n", 5).fields["Back"]
    assert "Variances add." in back and "Means add too." in back
    for syntax in ("START", "Basic", "sum of normals", "Back:", "ID:", "END", "inline q", "Stats"):
        assert syntax not in back, syntax
