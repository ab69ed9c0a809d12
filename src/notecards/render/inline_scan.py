"""Finding the end of an inline container the way markdown-it finds a link label's `]`.

Skipping token by token (in validation mode) means a closer inside math or a code span is never
taken for the container's end: `{$\\frac{a}{b}$}` closes at the last brace, `==x `==` y==` at the
last `==`.
"""

from __future__ import annotations

from markdown_it.rules_inline import StateInline


def scan_to(state: StateInline, start: int, closer: str) -> int:
    """Offset of the first `closer` at or after `start` outside nested inline tokens, or -1."""
    old_pos = state.pos
    state.pos = start
    found = -1
    src, end = state.src, state.posMax
    skip = state.md.inline.skipToken
    while state.pos < end:
        if src.startswith(closer, state.pos):
            found = state.pos
            break
        skip(state)
    state.pos = old_pos
    return found


def tokenize_between(state: StateInline, start: int, end: int) -> None:
    """Parse src[start:end] into the current token stream, as the link rule parses its label."""
    old_max = state.posMax
    state.pos, state.posMax = start, end
    state.md.inline.tokenize(state)
    state.posMax = old_max
