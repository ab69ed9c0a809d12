"""Obsidian `#tags` in a card's text -> Anki tags (`#a/b` -> `a::b`).

As Obsidian_to_Anki does with "Add Obsidian Tags", a tag that becomes an Anki tag is removed
from the field (it is on the note now). Unlike that plugin, tags may be non-ASCII (`#统计`) and
nested. A tag starts after whitespace or at the start of a line, so URL fragments (`a.html#x`)
and entities (`&#39;`) are not tags; all-digit `#123` is not a tag (Obsidian agrees); code is
never scanned; heading markers (`# Title`) have a space and are not tags, and tags written in a
heading's text are left in the heading. Tags in a transcluded note stay text: they belong to that
note, not to the card.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.render_state import state_of

_TAG = re.compile(r"#([\w/-]+)")
_NOT_ONLY_DIGITS = re.compile(r"[^\d/]")


def tags_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.push("obsidian_tag", obsidian_tag)
    md.core.ruler.push("collect_tags", collect_tags)
    md.add_render_rule("obsidian_tag", render_tag)


def anki_tag(tag: str) -> str:
    return tag.replace("/", "::")


def obsidian_tag(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "#" or (start > 0 and not src[start - 1].isspace()):
        return False
    rs = state_of(state.env)
    if rs is None or not rs.collect_tags:
        return False
    match = _TAG.match(src, start, state.posMax)
    if match is None:
        return False
    tag = match.group(1).rstrip("/")
    if not tag or not _NOT_ONLY_DIGITS.search(tag):
        return False
    if not silent:
        token = state.push("obsidian_tag", "", 0)
        token.content = tag
        token.markup = src[start:match.end()]
    state.pos = match.end()
    return True


def collect_tags(state) -> None:
    rs = state_of(state.env)
    if rs is None:
        return
    tokens = state.tokens
    for i, inline in enumerate(tokens):
        if inline.type != "inline" or not inline.children:
            continue
        in_heading = i > 0 and tokens[i - 1].type == "heading_open"
        has_tag = False
        for child in inline.children:
            if child.type != "obsidian_tag":
                continue
            if in_heading:
                child.type, child.content = "text", child.markup
                continue
            has_tag = True
            tag = anki_tag(child.content)
            if tag not in rs.tags:
                rs.tags.append(tag)
        if has_tag and _only_tags(inline.children) and tokens[i - 1].type == "paragraph_open":
            tokens[i - 1].hidden = tokens[i + 1].hidden = True
            inline.children = []


def _only_tags(children: list[Token]) -> bool:
    """A line of nothing but tags leaves no empty paragraph behind."""
    return all(c.type in ("obsidian_tag", "softbreak") or (c.type == "text" and not c.content.strip())
               for c in children)


def render_tag(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return ""
