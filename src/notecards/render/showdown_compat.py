"""Two details of showdown's HTML, the converter Obsidian_to_Anki renders with, kept so that a
vault the plugin synced moves over without its unchanged notes' HTML changing:

- a heading gets showdown's id: its text without anything but ASCII letters, digits and `_`,
  lower-cased, `-1`, `-2` … on repeats within a field (`# Headers are supported too` ->
  `id="headersaresupportedtoo"`). The plugin hides math from showdown as `OBSTOANKIMATH` and
  turns `==x==` into `<mark>x</mark>` first, so the id is built from that text too;
- the spaces before a line break stay in front of the `<br />` (`a  \\nb` -> `a  <br />\\nb`).

Neither changes what Anki shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.newline import newline as newline_rule
from markdown_it.token import Token

_NOT_WORD = re.compile(r"[^A-Za-z0-9_]")
_MATH = re.compile(r"\$\$[\s\S]*?\$\$|(?<!\$)\$(?=\S)(?=[^$])[\s\S]*?\S\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]")
_HIGHLIGHT = re.compile(r"==(.*?)==")


def showdown_compat_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.at("newline", newline_keeping_spaces)
    md.core.ruler.push("heading_ids", heading_ids)
    md.add_render_rule("softbreak", render_break)
    md.add_render_rule("hardbreak", render_break)


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
