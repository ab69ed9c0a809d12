"""Obsidian comments `%%…%%` are dropped, inline and across lines (blank lines included).

An unclosed `%%` is kept as text: Obsidian would hide the rest of the note, but a card that
silently loses its text is worse than one that shows two percent signs. `%%` inside code and math
is untouched, because those are parsed first.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline


def comments_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("fence", "comment_block", comment_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.inline.ruler.before("escape", "comment_inline", comment_inline)


def comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A comment that starts a line and whose closing `%%` ends a line: dropped with its lines."""
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("%%", begin) or state.is_code_block(start_line):
        return False
    close = state.src.find("%%", begin + 2)
    if close == -1:
        return False
    line = start_line
    while line < end_line and state.eMarks[line] < close:
        line += 1
    if line >= end_line or state.src[close + 2:state.eMarks[line]].strip():
        return False
    if not silent:
        state.line = line + 1
    return True


def comment_inline(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] != "%" or not src.startswith("%%", pos):
        return False
    close = src.find("%%", pos + 2, state.posMax)
    if close == -1:
        return False
    state.pos = close + 2
    return True
