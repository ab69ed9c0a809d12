"""Obsidian comments `%%…%%` are dropped, inline and across lines (blank lines included).

Three rules. A comment that starts a line and whose closing `%%` ends a line is skipped whole by
the block rule, so markdown inside it (a fence opener, a list) never opens a block. Every other
`%%` becomes a `comment_mark` token in the inline rule; code spans and inline math are parsed by
their own rules, and fences, code blocks and math blocks are never inline-parsed, so a `%%` inside
them is never a mark. The core rule then pairs the marks in document order and drops what lies
between each pair: inside one paragraph, or from the middle of one paragraph to the middle of a
later one, with every block in between (`x %%a\n\nb%% c` shows `x` and `c`). Each side keeps its
own block, so a comment that opens in a list item and closes in a later paragraph leaves the list
and the paragraph well formed; a paragraph left empty goes.

An unclosed `%%` is kept as text: Obsidian would hide the rest of the note, but a card that
silently loses its text is worse than one that shows two percent signs.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

MARK = "comment_mark"
_BREAKS = ("softbreak", "hardbreak")


def comments_plugin(md: MarkdownIt) -> None:
    md.block.ruler.before("fence", "comment_block", comment_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.inline.ruler.before("escape", "comment_inline", comment_inline)
    md.core.ruler.after("inline", "comment_pairs", drop_comments)


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
    """Each `%%` outside code and math is a mark; which ones open and close is the core rule's job."""
    if not state.src.startswith("%%", state.pos):
        return False
    if not silent:
        state.push(MARK, "", 0).markup = "%%"
    state.pos += 2
    return True


def drop_comments(state: StateCore) -> None:
    """Pair the marks in document order and drop each comment; an unpaired last mark is text."""
    if "%%" not in state.src:          # most fields: no need to walk their tokens
        return
    marks = [(token, child) for token in state.tokens if token.type == "inline"
             for child in token.children or () if child.type == MARK]
    _marks_in_image_text_are_text(state.tokens)
    if len(marks) % 2:
        _as_text(marks.pop()[1])
    edges: list[tuple[Token, Token]] = []
    for (first, opening), (last, closing) in reversed(list(zip(marks[0::2], marks[1::2]))):
        if first is last:
            first.children = _cut(first.children, opening, closing)
        else:
            _drop_across_blocks(state.tokens, first, opening, last, closing)
            edges.append((first, last))
    for first, last in edges:
        _trim_end(first.children)
        _trim_start(last.children)
    for token in {id(t): t for pair in edges for t in pair}.values():
        _drop_if_empty_paragraph(state.tokens, token)


def _cut(children: list[Token], opening: Token, closing: Token) -> list[Token]:
    """The children without the comment from `opening` to `closing` (same inline token)."""
    i, j = _index(children, opening), _index(children, closing)
    return children[:i] + _unbalanced(children[i + 1:j]) + children[j + 1:]


def _drop_across_blocks(tokens: list[Token], first: Token, opening: Token, last: Token,
                        closing: Token) -> None:
    """A comment from inline token `first` to a later inline token `last`: the end of the first,
    every block in between and the start of the last go."""
    i, j = _index(first.children, opening), _index(last.children, closing)
    first.children = first.children[:i] + _unbalanced(first.children[i + 1:])
    last.children = _unbalanced(last.children[:j]) + last.children[j + 1:]
    a, b = _index(tokens, first), _index(tokens, last)
    tokens[a + 1:b] = _unbalanced(tokens[a + 1:b])


def _unbalanced(tokens: list[Token]) -> list[Token]:
    """Of a run of tokens to drop, the closers of tags opened before it and the openers of tags
    closed after it: dropping the rest keeps every open/close pair around the run intact."""
    kept: list[Token] = []
    open_at: list[int] = []
    for token in tokens:
        if token.nesting == 1:
            open_at.append(len(kept))
            kept.append(token)
        elif token.nesting == -1 and open_at:
            del kept[open_at.pop():]
        elif token.nesting == -1:
            kept.append(token)
    return kept


def _trim_end(children: list[Token]) -> None:
    """A paragraph cut by a comment ends where its text ends, not with a line break."""
    while children and (children[-1].type in _BREAKS or _blank_text(children[-1])):
        children.pop()
    if children and children[-1].type == "text":
        children[-1].content = children[-1].content.rstrip()


def _trim_start(children: list[Token]) -> None:
    while children and (children[0].type in _BREAKS or _blank_text(children[0])):
        children.pop(0)
    if children and children[0].type == "text":
        children[0].content = children[0].content.lstrip()


def _drop_if_empty_paragraph(tokens: list[Token], inline: Token) -> None:
    i = _index(tokens, inline)
    if not inline.children and 0 < i < len(tokens) - 1 and tokens[i - 1].type == "paragraph_open":
        del tokens[i - 1:i + 2]


def _marks_in_image_text_are_text(tokens: list[Token]) -> None:
    """An image's alt text is plain text: a `%%` there shows as written."""
    for token in tokens:
        for child in token.children or ():
            for alt in child.children or ():
                if alt.type == MARK:
                    _as_text(alt)


def _as_text(mark: Token) -> None:
    mark.type, mark.content = "text", mark.markup


def _blank_text(token: Token) -> bool:
    return token.type == "text" and not token.content.strip()


def _index(items: list[Token], item: Token) -> int:
    """Position by identity: tokens compare equal by value, and two marks are alike."""
    return next(k for k, t in enumerate(items) if t is item)
