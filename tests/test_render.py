"""Render stage: card fields -> Anki HTML (math, links, tags, clozes, callouts, context)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notecards.config import Settings
from notecards.render import RenderContext, render_block, render_markdown
from notecards.types import CardBlock, SourceFile
from notecards.vault import VaultIndex

SEED_000 = Path("/work/shared/seeds/000_2a68b4ef0f7bcf07.txt")


def make_ctx(tmp_path: Path, text: str = "", path: str = "note.md", **settings) -> RenderContext:
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(text, encoding="utf-8")
    source = SourceFile(path=path, abspath=tmp_path / path, text=text)
    return RenderContext(index=VaultIndex.scan(tmp_path), settings=Settings(**settings), source=source)


def block_of(fields: dict[str, str], note_type: str = "Basic", line: int = 1,
             field_lines: dict[str, int] | None = None, path: str = "note.md") -> CardBlock:
    lines = field_lines or {name: line + 2 + i for i, name in enumerate(fields)}
    return CardBlock(path=path, line=line, end_line=line + 10, kind="block", note_type=note_type,
                     fields=fields, field_lines=lines, tags=[], deck="Default", ordinal=0)


def field(text: str, tmp_path: Path, note_type: str = "Basic", **settings) -> str:
    rendered = render_block(block_of({"Front": text}, note_type), make_ctx(tmp_path, text, **settings))
    return rendered.fields["Front"]


def seed_000_block(text: str) -> CardBlock:
    """The seed's START…END block, from the parse stage when it is there, else cut by hand."""
    try:
        from notecards.parse import parse_file
    except ImportError:
        return _cut_seed_000_block(text)
    source = SourceFile(path="hierarchical model.md", abspath=SEED_000, text=text)
    [block] = parse_file(source, Settings()).blocks
    return block


def _cut_seed_000_block(text: str) -> CardBlock:
    lines = text.split("\n")
    start = lines.index("START")
    end = lines.index("END")
    back = next(i for i in range(start, end) if lines[i].startswith("Back:"))
    tags = next(i for i in range(start, end) if lines[i].startswith("Tags:"))
    front_text = "\n".join(lines[start + 2:back])
    back_text = "\n".join([lines[back][len("Back:"):]] + lines[back + 1:tags])
    return CardBlock(path="hierarchical model.md", line=start + 1, end_line=end + 1, kind="block",
                     note_type="Basic", fields={"Front": front_text, "Back": back_text},
                     field_lines={"Front": start + 3, "Back": back + 1},
                     tags=lines[tags][len("Tags: "):].split(), deck="Default", ordinal=0)


@pytest.mark.skipif(not SEED_000.exists(), reason="seed notes not available")
def test_seed_000_front_is_wikilink_text_and_list_back_keeps_every_display_equation(tmp_path):
    text = SEED_000.read_text(encoding="utf-8")
    block = seed_000_block(text)
    rendered = render_block(block, make_ctx(tmp_path, text, path="hierarchical model.md"))
    front, back = rendered.fields["Front"], rendered.fields["Back"]
    assert front.startswith("<p>hierarchical model</p>")
    assert "<ul>\n<li>definition</li>\n<li>example</li>\n</ul>" in front
    assert "[[" not in front and "[[" not in back
    displays = re.findall(r"\\\[(.*?)\\\]", back, re.S)
    assert len(displays) == 4
    splits = [d for d in displays if r"\begin{split}" in d]
    assert len(splits) == 3
    assert r"\theta &amp;\sim \mathcal{N}(0, \lambda) \\" in back
    assert r"X &amp;\sim L_X(.\mid\theta) \\" in back
    assert all(r"\end{split}" in d for d in splits)
    assert r"\(\lambda\)" in back and "random variable" in back
    assert rendered.diagnostics == []


def test_inline_and_display_math_become_mathjax_delimiters_untouched_by_markdown(tmp_path):
    html = field(r"a $a_1 * b_2 * c_3$ and $\{x\}$ and \(y\) and \[z\]", tmp_path)
    assert html == r"a \(a_1 * b_2 * c_3\) and \(\{x\}\) and \(y\) and \[z\]"


def test_display_math_inline_in_a_paragraph_and_on_its_own_lines(tmp_path):
    html = field("inline $$ x < y $$ here\n$$\n\\begin{split}\na &= b \\\\\nc &= d\n\\end{split}\n$$\nafter",
                 tmp_path)
    assert r"\[ x &lt; y \]" in html
    assert "\\[\n\\begin{split}\na &amp;= b \\\\\nc &amp;= d\n\\end{split}\n\\]" in html
    assert html.endswith("<p>after")     # the field's outer </p> dropped, as Obsidian_to_Anki does


def test_dollars_in_code_currency_and_escapes_stay_literal(tmp_path):
    html = field("costs $5 and $10, `$x$`, \\$ sign\n```\n$$ y $$\n```", tmp_path)
    assert "costs $5 and $10" in html
    assert "<code>$x$</code>" in html and "$ sign" in html
    assert "$$ y $$" in html and r"\[" not in html


def test_unclosed_display_math_is_a_warning_at_its_line_and_kept(tmp_path):
    block = block_of({"Front": "q", "Back": "first line\n\n$$\nx = 1\n\nmore"},
                     field_lines={"Front": 3, "Back": 5})
    rendered = render_block(block, make_ctx(tmp_path))
    assert "$$" in rendered.fields["Back"] and "x = 1" in rendered.fields["Back"]
    [diag] = rendered.diagnostics
    assert (diag.severity, diag.line, diag.path) == ("warning", 7, "note.md")


def test_wikilinks_render_as_their_text_or_obsidian_links(tmp_path):
    text = "[[note]], [[other|alias]], [[note#Some heading]]"
    assert field(text, tmp_path) == "note, alias, note &gt; Some heading"
    linked = field(text, tmp_path, obsidian_links=True, vault_name="My Vault")
    assert '<a href="obsidian://open?vault=My%20Vault&amp;file=note.md" class="obsidian-link">note</a>' in linked


def test_obsidian_tags_become_anki_tags_and_leave_the_text(tmp_path):
    text = "Q #stats/bayes #统计 #123 [x](http://a.com/p#frag) `#code`\n# Heading"
    block = block_of({"Front": text, "Back": "a"})
    rendered = render_block(block, make_ctx(tmp_path, add_obsidian_tags=True))
    assert rendered.tags == ["stats::bayes", "统计"]
    front = rendered.fields["Front"]
    assert "#stats" not in front and "#123" in front and "<code>#code</code>" in front
    assert 'href="http://a.com/p#frag"' in front and "<h1 id=\"heading\">Heading</h1>" in front


def test_tags_stay_text_when_obsidian_tags_are_off(tmp_path):
    rendered = render_block(block_of({"Front": "Q #stats", "Back": "a"}),
                            make_ctx(tmp_path, add_obsidian_tags=False))
    assert rendered.tags == [] and rendered.fields["Front"] == "Q #stats"


def test_highlights_comments_callouts_tables_and_strikethrough(tmp_path):
    text = ("==key== idea %%private%% ~~old~~\n%%\nhidden\n\nblock\n%%\n"
            "> [!tip]- Remember\n> body\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    html = field(text, tmp_path)
    assert "<mark>key</mark>" in html and "<s>old</s>" in html
    assert "private" not in html and "hidden" not in html and "block" not in html
    assert '<details class="callout callout-tip" data-callout="tip">' in html
    assert '<summary class="callout-title">Remember</summary>' in html and "<p>body</p>" in html
    assert "<td>1</td>" in html


def test_callout_without_title_uses_its_type(tmp_path):
    html = field("> [!note]\n> text", tmp_path)
    assert html.startswith('<div class="callout callout-note" data-callout="note">')
    assert '<div class="callout-title">Note</div>' in html


def test_code_fences_keep_language_and_sim_fences_fold(tmp_path):
    html = field("```python\nx = 1 < 2\n```\n```sim\ntheta ~ Normal(0, 1)\n```", tmp_path)
    assert '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>' in html
    assert ('<details class="nc-sim-source"><summary>model</summary>'
            '<pre style="overflow-x:auto;text-align:left"><code class="language-sim">'
            "theta ~ Normal(0, 1)\n</code></pre></details>") in html


def test_anki_clozes_pass_through_intact(tmp_path):
    html = field("{{c1::a_1 text::hint}} and {{c2::b}}", tmp_path, note_type="Cloze")
    assert html == "{{c1::a_1 text::hint}} and {{c2::b}}"


def test_curly_clozes_number_like_obsidian_to_anki_and_skip_math_and_code(tmp_path):
    text = r"{a} {2:b} {c3|c} {d} $\frac{x}{y}$ `{k}` {$\frac{1}{2}$}"
    html = field(text, tmp_path, note_type="Cloze", curly_cloze=True)
    assert html == (r"{{c1::a}} {{c2::b}} {{c3::c}} {{c2::d}} \(\frac{x}{y}\) <code>{k}</code> "
                    r"{{c3::\(\frac{1}{2}\)}}")


def test_curly_braces_are_text_outside_cloze_note_types(tmp_path):
    assert field("{a}", tmp_path, curly_cloze=True) == "{a}"


def test_highlights_become_clozes_when_asked(tmp_path):
    html = field("==first== and {second}", tmp_path, note_type="Cloze", curly_cloze=True,
                 highlights_to_clozes=True)
    assert html == "{{c1::first}} and {{c2::second}}"


def test_cloze_note_without_deletion_is_an_error_at_the_card(tmp_path):
    block = block_of({"Text": "no deletion here", "Back Extra": ""}, note_type="Cloze", line=12)
    rendered = render_block(block, make_ctx(tmp_path))
    [diag] = rendered.diagnostics
    assert (diag.severity, diag.line) == ("error", 12)


def test_file_link_and_context_match_obsidian_to_anki(tmp_path):
    text = "# Top\n## Old\n## Sub\n### Deep\n## Section\nSTART\nBasic\nQ\nBack: A\nEND\n"
    block = block_of({"Front": "Q", "Back": "A"}, line=6, path="dir/my note.md")
    ctx = make_ctx(tmp_path, text, path="dir/my note.md", vault_name="V", add_file_link=True,
                   add_context=True, file_link_fields={"Basic": "Back"}, context_fields={"Basic": "Front"})
    rendered = render_block(block, ctx)
    assert rendered.fields["Front"] == "Qdir/my note.md > Top > Section"
    assert rendered.fields["Back"] == ('A<br><a href="obsidian://open?vault=V&amp;file=dir%2Fmy%20note.md"'
                                       ' class="obsidian-link">Obsidian</a>')


@pytest.mark.parametrize("text, context", [
    # a YAML front matter may end with `...`: its `# comment` is YAML, not a heading
    ("---\n# reviewed: yes\ntags: [a]\n...\n## Sub\nSTART\n", "note.md > Sub"),
    # three backticks with more backticks later on the line are inline code, not a fence
    ("# Top\n```x``` is inline code\n## Sub\nSTART\n", "note.md > Top > Sub"),
])
def test_context_sees_headings_as_the_parser_sees_the_note(text, context, tmp_path):
    line = text.split("\n").index("START") + 1
    block = block_of({"Front": "Q", "Back": "A"}, line=line)
    rendered = render_block(block, make_ctx(tmp_path, text, add_context=True))
    assert rendered.fields["Front"] == "Q" + context


def test_render_markdown_for_captions_and_determinism(tmp_path):
    html, diags = render_markdown("n = 10000, $\\lambda = 4$")
    assert html == r"n = 10000, \(\lambda = 4\)" and diags == []
    text = "- $x$ #t\n- ==m==\n\n$$\na & b\n$$"
    assert field(text, tmp_path) == field(text, tmp_path)


@pytest.mark.parametrize("line", [
    r"What is $\operatorname{Var}(X)$ in the [[hierarchical model]]? #stats/bayes",
    r"a **b** ==c== %%d%% {e} \(f\) $$g$$ `h` [i](http://j) <b>k</b> ~~l~~",
    "x &amp; y < z",
])
def test_one_line_fast_path_renders_like_the_block_parser(line, tmp_path):
    from notecards.render.markdown import MD, render_text
    from notecards.render.render_state import ENV_KEY, RenderState

    def state():
        return RenderState(ctx=None, path="n.md", first_line=1, curly_cloze=True, collect_tags=True)

    fast, full = state(), state()
    assert render_text(line, fast) == MD.render(line, {ENV_KEY: full})
    assert (fast.tags, fast.diagnostics) == (full.tags, full.diagnostics)


def test_frozen_field_text_is_appended_to_that_field():
    """Obsidian_to_Anki's `FROZEN - Basic:` lines add fixed text to every card of the type."""
    block = CardBlock(path="f.md", line=4, end_line=8, kind="block", note_type="Basic",
                      fields={"Front": "India", "Back": "Delhi"}, field_lines={"Front": 6, "Back": 7},
                      tags=[], deck="Default", ordinal=0, frozen={"Front": "<br/>What is the capital?"})
    ctx = RenderContext(index=VaultIndex(root=Path(".")), settings=Settings(),
                        source=SourceFile(path="f.md", abspath=Path("f.md"), text=""))
    fields = render_block(block, ctx).fields
    assert fields["Front"].startswith("India") and fields["Front"].endswith("What is the capital?")
    assert fields["Back"] == "Delhi"


def test_comment_across_blank_lines_from_a_line_start_hides_up_to_its_close(tmp_path):
    html = field("%%a\n\nb%% c", tmp_path)
    assert html == "c"


def test_comment_opening_mid_paragraph_and_closing_in_a_later_one(tmp_path):
    html = field("Keep this %%draft\n\nwhole hidden paragraph\n\nend of draft%% and this.\n\nNext.", tmp_path)
    assert "<p>" + html + "</p>" == "<p>Keep this</p>\n<p>and this.</p>\n<p>Next.</p>"


def test_comment_across_blocks_keeps_lists_and_quotes_well_formed(tmp_path):
    html = field("- one %%gone\n- gone too\n\n> quoted%% kept", tmp_path)
    assert html == "<ul>\n<li>one</li>\n</ul>\n<blockquote>\n  <p>kept</p>\n</blockquote>"
    html = field("Two %%a\n\nb%% comments %%c\n\n# heading\n\nd%% here", tmp_path)
    assert "<p>" + html + "</p>" == "<p>Two</p>\n<p>comments</p>\n<p>here</p>"


def test_percent_pairs_in_code_and_math_neither_open_nor_close_a_comment(tmp_path):
    html = field("Use `%%` here %%note\n\n```\n%%\n```\n\nend%% and $a %% b$ too.", tmp_path)
    assert "<p>" + html + "</p>" == "<p>Use <code>%%</code> here</p>\n<p>and \\(a %% b\\) too.</p>"
    html = field("```\n%%\n```\n\nkept %%unclosed\n\n`%%`", tmp_path)
    assert "kept %%unclosed" in html and "<code>%%\n</code>" in html and "<code>%%</code>" in html


def test_comment_cutting_through_bold_keeps_the_tags_balanced(tmp_path):
    html = field("**bold %%a** b\n\nc%% d", tmp_path)
    assert "<p>" + html + "</p>" == "<p><strong>bold </strong></p>\n<p>d</p>"


def test_tags_inside_a_comment_across_paragraphs_are_not_collected(tmp_path):
    rendered = render_block(block_of({"Front": "Q #kept %%not yet #secret\n\nstill %% done", "Back": "a"}),
                            make_ctx(tmp_path))
    assert rendered.tags == ["kept"] and "secret" not in rendered.fields["Front"]
