"""Obsidian callouts: `> [!note] Title` -> `<div class="callout callout-note">…</div>`.

A foldable callout (`> [!tip]- Title` folded, `> [!tip]+ Title` open) becomes a
`<details class="callout callout-tip">` with the title as its `<summary>`, which Anki's webview
folds like Obsidian does. With no title the type, capitalised, is the title (as in Obsidian).
The rule reshapes markdown-it's blockquote tokens before inline parsing, so the title and body
are ordinary markdown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

_CALLOUT = re.compile(r"^\[!([\w-]+)\]([+-]?)[ \t]*(.*)$")


def callouts_plugin(md: MarkdownIt) -> None:
    md.core.ruler.before("inline", "callouts", reshape_callouts)
    md.add_render_rule("callout_open", render_open)
    md.add_render_rule("callout_close", render_close)
    md.add_render_rule("callout_title_open", render_title_open)
    md.add_render_rule("callout_title_close", render_title_close)


def reshape_callouts(state) -> None:
    tokens = state.tokens
    i = 0
    while i < len(tokens):
        if tokens[i].type == "blockquote_open" and i + 2 < len(tokens) \
                and tokens[i + 1].type == "paragraph_open" and tokens[i + 2].type == "inline":
            match = _CALLOUT.match(tokens[i + 2].content.split("\n", 1)[0])
            if match:
                _reshape(tokens, i, match)
        i += 1


def _reshape(tokens: list[Token], i: int, match: re.Match) -> None:
    kind, fold, title = match.group(1).lower(), match.group(2), match.group(3).strip()
    opener, inline = tokens[i], tokens[i + 2]
    meta = {"kind": kind, "fold": fold}
    opener.type, opener.meta = "callout_open", meta
    _closer(tokens, i).type = "callout_close"
    _closer(tokens, i).meta = meta
    title_inline = Token("inline", "", 0, content=title or kind.capitalize(), map=inline.map,
                         children=[], level=opener.level + 1)
    title = [Token("callout_title_open", "", 1, meta=meta, level=opener.level + 1), title_inline,
             Token("callout_title_close", "", -1, meta=meta, level=opener.level + 1)]
    rest = inline.content.split("\n", 1)[1] if "\n" in inline.content else ""
    if rest.strip():
        inline.content = rest
        if inline.map:
            inline.map = [inline.map[0] + 1, inline.map[1]]
        tokens[i + 1:i + 1] = title
    else:
        tokens[i + 1:i + 4] = title    # the paragraph held only the callout line


def _closer(tokens: list[Token], i: int) -> Token:
    level = tokens[i].level
    for token in tokens[i + 1:]:
        if token.level == level and token.type in ("blockquote_close", "callout_close"):
            return token
    return tokens[-1]


def render_open(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    meta = tokens[idx].meta
    kind = escapeHtml(meta["kind"])
    tag = "details" if meta["fold"] else "div"
    opened = " open" if meta["fold"] == "+" else ""
    return f'<{tag} class="callout callout-{kind}" data-callout="{kind}"{opened}>\n'


def render_title_open(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return '<summary class="callout-title">' if tokens[idx].meta["fold"] else '<div class="callout-title">'


def render_title_close(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return ("</summary>" if tokens[idx].meta["fold"] else "</div>") + '\n<div class="callout-content">\n'


def render_close(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "</div>\n" + ("</details>\n" if tokens[idx].meta["fold"] else "</div>\n")
