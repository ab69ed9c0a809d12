"""Math: `$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]` -> the `\\(…\\)` / `\\[…\\]` that Anki's MathJax typesets.

The content is taken from the source verbatim, so markdown never applies emphasis or escapes
inside math (`a_1 * b_2`, `\\{`, `\\\\`); only `&`, `<`, `>` are HTML-escaped, as the HTML field
needs. Rules, following Obsidian where it is clear and being forgiving where notes disagree:

- inline `$`: the opening `$` is not followed by whitespace, the closing `$` is not followed by a
  digit (so "costs $5 and $10" stays text) and math never holds a backtick (so a `$` in a
  code span later on the line does not close it); a space before the closing `$` is accepted, as the
  notes in the wild write `$y_j $`. `\\$` is a literal dollar.
- `$$…$$` inside a paragraph is display math, as in Obsidian; on its own lines it is a block and
  may span lines (blank lines included) and interrupt a paragraph.
- an unclosed `$$` is kept as literal text with a warning at its line.
- code spans and fences are parsed before math ever sees them, so `$` in code stays code.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.render_state import inline_line, state_of, walk_inline

_CLOSERS = {"(": "\\)", "[": "\\]"}


def math_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("escape", "math_inline", math_inline)
    md.block.ruler.before("fence", "math_block", math_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.core.ruler.push("math_unclosed", report_unclosed)
    md.add_render_rule("math_inline", render_inline)
    md.add_render_rule("math_display", render_display)
    md.add_render_rule("math_block", render_block)
    md.add_render_rule("math_unclosed", render_unclosed)


def escape_html_text(text: str) -> str:
    """Only what HTML needs (`&`, `<`, `>`; quotes stay as written): MathJax reads the text content,
    so `&amp;` is still `&` to it, and showdown escapes text and code the same way."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def is_escaped(src: str, pos: int) -> bool:
    """An odd number of backslashes before `pos` escapes the character there."""
    count = 0
    pos -= 1
    while pos >= 0 and src[pos] == "\\":
        count += 1
        pos -= 1
    return count % 2 == 1


def find_unescaped(src: str, needle: str, start: int, end: int) -> int:
    pos = src.find(needle, start, end)
    while pos != -1 and is_escaped(src, pos):
        pos = src.find(needle, pos + 1, end)
    return pos


def math_inline(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    ch = src[pos]
    if ch == "$":
        if is_escaped(src, pos):
            return False
        if src.startswith("$$", pos):
            return _display_dollars(state, silent)
        return _inline_dollar(state, silent)
    if ch == "\\" and pos + 1 < state.posMax and src[pos + 1] in _CLOSERS and not is_escaped(src, pos):
        return _backslash_math(state, silent)
    return False


def _inline_dollar(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    if start + 1 >= end or src[start + 1].isspace():
        return False
    close = find_unescaped(src, "$", start + 1, end)
    while close != -1 and close + 1 < end and src[close + 1].isdigit():
        close = find_unescaped(src, "$", close + 1, end)
    if close == -1 or "`" in src[start + 1:close]:
        return False
    if not silent:
        token = state.push("math_inline", "", 0)
        token.content = src[start + 1:close]
        token.markup = "$"
    state.pos = close + 1
    return True


def _display_dollars(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    close = find_unescaped(src, "$$", start + 2, end)
    if not silent:
        if close == -1:
            token = state.push("math_unclosed", "", 0)
            token.content = "$$"
            token.meta = {"pos": start}
        else:
            token = state.push("math_display", "", 0)
            token.content = src[start + 2:close]
            token.markup = "$$"
    state.pos = start + 2 if close == -1 else close + 2
    return True


def _backslash_math(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    closer = _CLOSERS[src[start + 1]]
    close = find_unescaped(src, closer, start + 2, end)
    if close == -1:
        return False
    if not silent:
        token = state.push("math_inline" if closer == "\\)" else "math_display", "", 0)
        token.content = src[start + 2:close]
        token.markup = "\\" + src[start + 1]
    state.pos = close + 2
    return True


def math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`$$` or `\\[` at the start of a line, to the line that ends with `$$` / `\\]`."""
    begin = state.bMarks[start_line] + state.tShift[start_line]
    src = state.src
    if begin >= len(src) or src[begin] not in "$\\" or state.is_code_block(start_line):
        return False
    line_end = state.eMarks[start_line]
    if src.startswith("$$", begin):
        opener, closer = "$$", "$$"
    elif src.startswith("\\[", begin):
        opener, closer = "\\[", "\\]"
    else:
        return False
    first = src[begin + 2:line_end]
    stripped = first.rstrip()
    if closer in first:
        # closed on its own line: a block only when nothing follows the closer
        if not stripped.endswith(closer) or first.find(closer) != len(stripped) - 2:
            return False
        if silent:
            return True
        content, last = stripped[:-2], start_line
    else:
        last = start_line + 1
        while last < end_line:
            text = src[state.bMarks[last] + state.tShift[last]:state.eMarks[last]].rstrip()
            if closer in text:
                if not text.endswith(closer) or text.find(closer) != len(text) - 2:
                    return False
                break
            last += 1
        else:
            return False
        if silent:
            return True
        parts = [first]
        for line in range(start_line + 1, last):
            parts.append(_line_text(state, line))
        tail = _line_text(state, last).rstrip()
        parts.append(tail[:-2])
        content = "\n".join(parts)
    token = state.push("math_block", "", 0)
    token.block = True
    token.content = content
    token.markup = opener
    token.map = [start_line, last + 1]
    state.line = last + 1
    return True


def _line_text(state: StateBlock, line: int) -> str:
    """A line inside the math, without the container's indent but with its own."""
    begin = state.bMarks[line] + min(state.tShift[line], state.blkIndent)
    return state.src[begin:state.eMarks[line]]


def report_unclosed(state) -> None:
    rs = state_of(state.env)
    if rs is None:
        return
    for inline, child in walk_inline(state.tokens):
        if child.type == "math_unclosed":
            rs.warn(inline_line(rs, inline, child),
                    "`$$` opens display math that is never closed; kept as text")


def render_inline(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "\\(" + escape_html_text(tokens[idx].content) + "\\)"


def render_display(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "\\[" + escape_html_text(tokens[idx].content) + "\\]"


def render_block(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "\\[" + escape_html_text(tokens[idx].content) + "\\]\n"


def render_unclosed(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "$$"
