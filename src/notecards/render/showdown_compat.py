"""Details of showdown's HTML, the converter Obsidian_to_Anki renders with, kept so that a vault
the plugin synced moves over without its unchanged notes' HTML changing (none of them changes
what Anki shows):

- a heading gets showdown's id: its text without anything but ASCII letters, digits and `_`,
  lower-cased, `-1`, `-2` … on repeats within a field (`# Headers are supported too` ->
  `id="headersaresupportedtoo"`). The plugin hides math from showdown as `OBSTOANKIMATH` and
  turns `==x==` into `<mark>x</mark>` first, so the id is built from that text too;
- the spaces before a line break stay in front of the `<br />` (`a  \\nb` -> `a  <br />\\nb`), and
  those ending a paragraph stay inside it;
- text and inline code escape `&`, `<` and `>`, not quotes;
- a task list item is showdown's (`<li class="task-list-item" style=…><input type="checkbox" …>`);
- what a blockquote holds is indented two spaces a level, code blocks excepted
  (`indent_blockquotes`, run on a field's finished HTML).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.newline import newline as newline_rule
from markdown_it.token import Token

from notecards.render.math import escape_html_text

_NOT_WORD = re.compile(r"[^A-Za-z0-9_]")
_MATH = re.compile(r"\$\$[\s\S]*?\$\$|(?<!\$)\$(?=\S)(?=[^$])[\s\S]*?\S\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]")
_HIGHLIGHT = re.compile(r"==(.*?)==")
_CHECKBOX = ('<input type="checkbox" disabled style="margin: 0px 0.35em 0.25em -1.6em; '
             'vertical-align: middle;"{checked}>')


def showdown_compat_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.at("newline", newline_keeping_spaces)
    md.core.ruler.push("heading_ids", heading_ids)
    md.core.ruler.push("paragraph_end_spaces", paragraph_end_spaces)
    md.core.ruler.push("showdown_tasks", showdown_tasks)
    md.add_render_rule("softbreak", render_break)
    md.add_render_rule("hardbreak", render_break)
    md.add_render_rule("text", render_text_token)
    md.add_render_rule("code_inline", render_code_inline)


def render_text_token(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return escape_html_text(tokens[idx].content)


def render_code_inline(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    return f"<code{self.renderAttrs(token)}>{escape_html_text(token.content)}</code>"


def newline_keeping_spaces(state: StateInline, silent: bool) -> bool:
    """markdown-it's newline rule, remembering the spaces it trims before the break."""
    spaces = len(state.pending) - len(state.pending.rstrip(" "))
    count = len(state.tokens)
    if not newline_rule(state, silent):
        return False
    if not silent and spaces and len(state.tokens) > count:
        state.tokens[-1].meta["spaces"] = spaces      # the break, after the text it flushed
    return True


def render_break(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    if token.type == "softbreak" and not options.breaks:
        return "\n"
    return " " * token.meta.get("spaces", 0) + ("<br />\n" if options.xhtmlOut else "<br>\n")


def heading_ids(state) -> None:
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or i + 1 >= len(tokens):
            continue
        text = _HIGHLIGHT.sub(r"<mark>\1</mark>", _MATH.sub("OBSTOANKIMATH", tokens[i + 1].content))
        ident = _NOT_WORD.sub("", text).lower()
        if ident in seen:
            seen[ident] += 1
            ident = f"{ident}-{seen[ident] - 1}"
        else:
            seen[ident] = 1
        token.attrSet("id", ident)


def paragraph_end_spaces(state) -> None:
    """The spaces a paragraph's last line ends with, which markdown-it trims, back at its end."""
    lines = None
    tokens = state.tokens
    for i, token in enumerate(tokens[:-1]):
        if token.type != "paragraph_open" or not token.map or tokens[i + 1].type != "inline":
            continue
        lines = lines if lines is not None else state.src.split("\n")
        last = lines[token.map[1] - 1] if token.map[1] - 1 < len(lines) else ""
        spaces = len(last) - len(last.rstrip(" "))
        inline = tokens[i + 1]
        if spaces and last.strip() and inline.children is not None:
            tail = Token("text", "", 0)
            tail.content = " " * spaces
            inline.children.append(tail)


def showdown_tasks(state) -> None:
    """mdit-py-plugins' task list items, written as showdown writes them."""
    for token in state.tokens:
        if token.type == "bullet_list_open" and token.attrGet("class") == "contains-task-list":
            token.attrs.pop("class")
        elif token.type == "list_item_open" and token.attrGet("class") == "task-list-item":
            token.attrSet("style", "list-style-type: none;")
        elif token.type == "inline" and token.children and token.children[0].type == "html_inline" \
                and token.children[0].content.startswith('<input class="task-list-item-checkbox"'):
            box = token.children[0]
            box.content = _CHECKBOX.format(checked=" checked" if 'checked="checked"' in box.content else "")


def indent_blockquotes(html: str) -> str:
    """Each line inside a blockquote indented two spaces per level, as showdown writes it; the
    lines of a code block are left as they are (indenting them would change the code)."""
    if "<blockquote>" not in html:
        return html
    out, depth, in_pre = [], 0, False
    for line in html.split("\n"):
        if line.startswith("</blockquote>") and not in_pre:
            depth = max(depth - 1, 0)
        starts_pre = line.startswith("<pre")
        out.append(line if in_pre or starts_pre or not depth or not line else "  " * depth + line)
        if starts_pre or in_pre:
            in_pre = "</pre>" not in line
        elif line.startswith("<blockquote>"):
            depth += 1
    return "\n".join(out)
