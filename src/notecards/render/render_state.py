"""The per-render state every rule reads and writes, kept in markdown-it's `env` under one key.

markdown-it passes `env` to every block, inline, core and render rule, so the rules need no
globals: a field render and an embedded-note render each get their own `RenderState`, and the
lists that gather media, tags and diagnostics are shared between a field and the notes it embeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from notecards.config import Settings
from notecards.types import Diagnostic, MediaFile, Severity, SourceFile
from notecards.vault import VaultIndex

if TYPE_CHECKING:
    from markdown_it.token import Token

ENV_KEY = "notecards"


@dataclass
class RenderContext:
    """What every render of one file reads: the vault's files, the settings, the file itself."""

    index: VaultIndex
    settings: Settings
    source: SourceFile


@dataclass
class RenderState:
    """What one markdown text is rendered with and what rendering it found."""

    ctx: RenderContext | None
    path: str                          # file the text comes from: diagnostics and relative links
    first_line: int                    # 1-based line of the text's first line in that file
    depth: int = 0                     # 0 for a card's own field, >0 inside a transcluded note
    embed_stack: tuple[str, ...] = ()  # "path#heading" of the embeds being rendered (cycles)
    curly_cloze: bool = False          # `{text}` -> cloze (Cloze note types only)
    highlight_cloze: bool = False      # `==text==` -> cloze (Cloze note types only)
    collect_tags: bool = False         # `#tag` -> Anki tag, removed from the text
    media: dict[str, MediaFile] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def warn(self, line: int, message: str, severity: Severity = "warning") -> None:
        self.diagnostics.append(Diagnostic(self.path, line, severity, message))

    def line_at(self, block_line: int, content: str = "", pos: int = 0) -> int:
        """File line of offset `pos` in the content of a block that starts at 0-based `block_line`."""
        return self.first_line + block_line + content.count("\n", 0, pos)

    def child(self, path: str, first_line: int, key: str) -> RenderState:
        """The state for a note transcluded into this text: same sinks, no tags or clozes."""
        return RenderState(ctx=self.ctx, path=path, first_line=first_line, depth=self.depth + 1,
                           embed_stack=self.embed_stack + (key,), media=self.media,
                           tags=[], diagnostics=self.diagnostics)


def state_of(env: dict) -> RenderState | None:
    return env.get(ENV_KEY)


def inline_line(state: RenderState, inline: Token, child: Token) -> int:
    """The file line of an inline child token that recorded its offset in `meta["pos"]`."""
    block_line = inline.map[0] if inline.map else 0
    return state.line_at(block_line, inline.content, child.meta.get("pos", 0))


def walk_inline(tokens: list[Token]):
    """Yield (inline token, child token) for every child of every inline token."""
    for token in tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                yield token, child
