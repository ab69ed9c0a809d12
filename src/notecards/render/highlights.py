"""`==text==` -> `<mark>text</mark>`, or a cloze deletion when the card asks for that.

Like emphasis, the opening `==` is not followed by whitespace and the closing one is not
preceded by it, so `a == b` in prose stays text. The text between is markdown. As a cloze,
`==c2::text==` (or `==2:text==`) is deletion 2, never `{{c1::c2::text}}`.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from notecards.render.cloze import NUMBER
from notecards.render.inline_scan import scan_to, tokenize_between
from notecards.render.render_state import state_of


def highlights_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.push("highlight", highlight)


def highlight(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "=" or not src.startswith("==", start):
        return False
    body = start + 2
    if body >= state.posMax or src[body].isspace() or src[body] == "=":
        return False
    close = scan_to(state, body, "==")
    if close == -1 or src[close - 1].isspace():
        return False
    if not silent:
        rs = state_of(state.env)
        as_cloze = rs is not None and rs.highlight_cloze
        kind = "cloze" if as_cloze else "mark"
        number = NUMBER.match(src, body, close) if as_cloze else None
        opener = state.push(f"{kind}_open", "mark", 1)
        opener.markup = "=="
        opener.meta["num"] = int(number.group(1)) if number else None
        tokenize_between(state, number.end() if number else body, close)
        state.push(f"{kind}_close", "mark", -1).markup = "=="
    state.pos = close + 2
    return True
