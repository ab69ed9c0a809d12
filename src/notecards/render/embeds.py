"""`![[…]]` embeds: a note or a section of one is transcluded, an image or audio file is media.

`![[note]]`, `![[note#heading]]`, `![[note#^block]]` and `![[#heading]]` (this note) are rendered
recursively with the same rules, in a `<div class="nc-embed">`, so the card shows what Obsidian
shows. Diagnostics inside an embedded note point into that note. An embed of a note or heading
that is not in the vault, one that would embed itself (a cycle), or one nested deeper than
`MAX_DEPTH` is a warning at the embed's line and is shown as its text, never dropped.
`![[image.png]]`, `![[image.png|200]]` (width) and `![[image.png|200x100]]` become images that
the media rule resolves; `![[song.mp3]]` becomes a sound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.card_syntax import without_card_syntax
from notecards.render.links import LinkTarget
from notecards.render.media import media_kind
from notecards.render.sections import Section, find_section, whole_note
from notecards.render.render_state import ENV_KEY, RenderState, inline_line, state_of
from notecards.render.wikilinks import scan_brackets

MAX_DEPTH = 4
_SIZE = re.compile(r"^(\d+)(?:x(\d+))?$")


def embeds_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("image", "embed", embed)
    md.core.ruler.push("embeds", resolve_embeds)
    md.add_render_rule("embed", render_embed_text)
    md.add_render_rule("embed_note", render_embed_note)


def embed(state: StateInline, silent: bool) -> bool:
    start = state.pos
    if not state.src.startswith("![[", start):
        return False
    close = scan_brackets(state, start + 1)
    if close == -1:
        return False
    if not silent:
        token = state.push("embed", "", 0)
        token.content = state.src[start + 3:close]
        token.meta = {"target": LinkTarget.parse(token.content), "pos": start}
    state.pos = close + 2
    return True


def resolve_embeds(state) -> None:
    rs = state_of(state.env)
    tokens = state.tokens
    for i, inline in enumerate(tokens):
        if inline.type != "inline" or not inline.children:
            continue
        children = inline.children
        found = False
        for j, child in enumerate(children):
            if child.type == "embed":
                found = True
                children[j] = _resolve(state.md, rs, inline, child)
        if found and 0 < i < len(tokens) - 1 and _only_notes(children) \
                and tokens[i - 1].type == "paragraph_open":
            tokens[i - 1].hidden = tokens[i + 1].hidden = True


def _only_notes(children: list[Token]) -> bool:
    """A paragraph made of embedded notes alone needs no <p> around their <div>s."""
    return all(c.type == "embed_note" or c.type == "softbreak" or (c.type == "text" and not c.content.strip())
               for c in children)


def _resolve(md: MarkdownIt, rs: RenderState | None, inline: Token, token: Token) -> Token:
    target: LinkTarget = token.meta["target"]
    if media_kind(target.note) is not None:
        return _media_token(target, token)
    if rs is None or rs.ctx is None:
        return token
    line = inline_line(rs, inline, token)
    if target.note and PurePosixPath(target.note).suffix.lower() not in ("", *rs.ctx.settings.extensions) \
            and not rs.ctx.index.resolve_note(target.note, tuple(rs.ctx.settings.extensions)):
        return token   # a PDF or other file: shown as its name, as a link to it would be
    rel = rs.ctx.index.resolve_note(target.note, tuple(rs.ctx.settings.extensions)) if target.note else rs.path
    shown = f"![[{token.content}]]"
    if rel is None:
        why = rs.ctx.index.leads_outside(target.note, rs.path) or f"embedded note `{target.note}` is not in the vault"
        rs.warn(line, f"{why}: {shown} is shown as text")
        return token
    key = f"{rel}#{target.heading}"
    if key in rs.embed_stack or rs.depth >= MAX_DEPTH:
        why = "embeds itself" if key in rs.embed_stack else f"is nested more than {MAX_DEPTH} deep"
        rs.warn(line, f"{shown} {why}; shown as text")
        return token
    source = rs.ctx.index.source(rel, rs.diagnostics)
    if source is None:
        return token
    section = find_section(source.text, target.heading) if target.heading else whole_note(source.text)
    if section is None:
        what = "block" if target.heading.startswith("^") else "heading"
        rs.warn(line, f"{what} `{target.heading}` is not in `{rel}`; {shown} is shown as text")
        return token
    section = without_card_syntax(section, source, rs.ctx.settings)
    return _note_token(md, rs.child(rel, section.first_line, key), section)


def _note_token(md: MarkdownIt, child: RenderState, section: Section) -> Token:
    note = Token("embed_note", "div", 0)
    note.content = md.render(section.text, {ENV_KEY: child})
    note.meta = {"source": child.embed_stack[-1]}
    return note


def _media_token(target: LinkTarget, token: Token) -> Token:
    image = Token("image", "img", 0)
    image.attrs = {"src": target.note, "alt": ""}
    image.meta = {"pos": token.meta["pos"]}
    size = _SIZE.match(target.alias)
    alt = target.note
    if size:
        image.attrs["width"] = size.group(1)
        if size.group(2):
            image.attrs["height"] = size.group(2)
    elif target.alias:
        alt = target.alias
    text = Token("text", "", 0)
    text.content = alt
    image.children = [text]
    image.content = alt
    return image


def render_embed_text(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    target: LinkTarget = tokens[idx].meta["target"]
    return f'<span class="nc-embed-unresolved">{escapeHtml(target.text())}</span>'


def render_embed_note(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    token = tokens[idx]
    return (f'<div class="nc-embed" data-source="{escapeHtml(token.meta["source"])}">\n'
            f"{token.content}</div>\n")
