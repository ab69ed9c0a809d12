"""Cloze deletions for Cloze note types (a note type whose name contains "Cloze").

Anki's own `{{c1::text::hint}}` passes through untouched (the curly rule never fires next to
another brace). With CurlyCloze on, as in Obsidian_to_Anki: `{text}` -> `{{cN::text}}` with N
counting the unnumbered ones of a field from 1 (`{a} {2:b} {c}` -> c1, c2, c2, as that plugin
does), and `{2:text}`, `{2|text}`, `{c2:text}`, `{c2::text}` -> `{{c2::text}}`. Braces inside math and code are
never clozes, because math and code spans are skipped while looking for the closing brace. A
deletion cannot span a blank line. The text inside is markdown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.inline_scan import scan_to, tokenize_between
from notecards.render.render_state import state_of, walk_inline

# `{2:x}`, `{2|x}`, `{c2:x}`, and Anki's own separator `{c2::x}` (also inside `==c2::x==`)
NUMBER = re.compile(r"c?(\d+)(?:::|[:|])")


def cloze_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.push("curly_cloze", curly_cloze)
    md.core.ruler.push("cloze_numbers", number_clozes)
    md.add_render_rule("cloze_open", render_open)
    md.add_render_rule("cloze_close", render_close)


def curly_cloze(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "{":
        return False
    rs = state_of(state.env)
    if rs is None or not rs.curly_cloze:
        return False
    if (start > 0 and src[start - 1] == "{") or src.startswith("{", start + 1):
        return False
    number = NUMBER.match(src, start + 1, state.posMax)
    body = number.end() if number else start + 1
    close = scan_to(state, body, "}")
    if close <= body or src.startswith("}", close + 1) or "\n\n" in src[body:close]:
        return False
    if not silent:
        opener = state.push("cloze_open", "", 1)
        opener.markup = "{"
        opener.meta["num"] = int(number.group(1)) if number else None
        tokenize_between(state, body, close)
        state.push("cloze_close", "", -1).markup = "}"
    state.pos = close + 1
    return True


def number_clozes(state) -> None:
    """Unnumbered deletions get 1, 2, 3 … in reading order."""
    counter = 1
    for _, child in walk_inline(state.tokens):
        if child.type == "cloze_open" and child.meta.get("num") is None:
            child.meta["num"] = counter
            counter += 1


def render_open(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "{{c%d::" % tokens[idx].meta["num"]


def render_close(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "}}"
