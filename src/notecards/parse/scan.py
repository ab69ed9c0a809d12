"""One pass over a file's lines: where the blocks, inline notes, file settings and fences are.

The pass looks at a line's first character before anything else, so prose costs one set lookup;
only lines that could be a keyword or a fence are examined further.

Rules (forgiving where Obsidian_to_Anki is fragile):
- keyword lines may carry trailing spaces; they must start at column 0, as in the plugin, except
  the END of an open block, which may be indented (a formatter indents it, and the ID line above
  it, under the block's last list item);
- inside fenced code (``` or ~~~, also within a block) no keyword counts;
- a block with no END runs to the end of the file, with a warning at its START line;
- a START before the previous block's END is an error at that START: the earlier block is
  skipped (where it was meant to end cannot be known, and guessing could merge two cards), and
  the new block is read normally, so every later card of the file still comes out;
- an END outside any block is a warning and otherwise ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notecards.parse.deletions import is_delete_line
from notecards.parse.fences import closes_fence, opening_fence
from notecards.parse.file_settings import value_line
from notecards.parse.keywords import Keywords
from notecards.types import Diagnostic


@dataclass
class BlockSpan:
    start: int                 # 0-based index of the START line
    end: int | None            # 0-based index of the END line; None when the file ended first


@dataclass
class Scan:
    blocks: list[BlockSpan] = field(default_factory=list)
    inline_lines: list[int] = field(default_factory=list)
    deck_lines: list[int] = field(default_factory=list)
    tag_lines: list[int] = field(default_factory=list)
    delete_lines: list[int] = field(default_factory=list)
    frozen_lines: list[int] = field(default_factory=list)
    # fenced code outside blocks: (opening line, closing line) inclusive, 0-based; a fence never
    # closed ends at len(lines), past the last line
    fences: list[tuple[int, int]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def scan_lines(path: str, lines: list[str], first: int, kw: Keywords, first_chars: frozenset[str]) -> Scan:
    scan = Scan()
    fence = None
    fence_open = 0
    block: int | None = None
    skip = -1                  # the value line of a bare `TARGET DECK` / `FILE TAGS`
    inline = kw.begin_inline
    for i in range(first, len(lines)):
        line = lines[i]
        if fence is not None:
            if closes_fence(line, fence):
                fence = None
                if block is None:
                    scan.fences.append((fence_open, i))
            continue
        if not line or i == skip:
            continue
        if line[0] in first_chars:
            opened = opening_fence(line) if line[0] in "`~ " else None
            if opened is not None:
                fence, fence_open = opened, i
                continue
            word = line.rstrip()
            if block is not None:
                if line.strip() == kw.end:      # indented under a list item by a formatter: still the END
                    scan.blocks.append(BlockSpan(block, i))
                    block = None
                elif word == kw.begin:
                    scan.diagnostics.append(Diagnostic(
                        path, i + 1, "error",
                        f"{kw.begin} before the {kw.end} of the block opened at line {block + 1}; that block "
                        f"is skipped (add {kw.end} above this line to keep it)"))
                    block = i
                continue
            if word == kw.begin:
                block = i
                continue
            if word == kw.end:
                scan.diagnostics.append(Diagnostic(path, i + 1, "warning",
                                                   f"{kw.end} without a {kw.begin} above it; ignored"))
                continue
            if kw.names(word, kw.target_deck) or kw.names(word, kw.file_tags):
                (scan.deck_lines if word.startswith(kw.target_deck) else scan.tag_lines).append(i)
                if word in (kw.target_deck, kw.file_tags):
                    found = value_line(lines, i, kw)
                    skip = found if found is not None else -1
                continue
            if is_delete_line(word, kw.delete):
                scan.delete_lines.append(i)
                continue
            if word.startswith(kw.frozen + " - "):
                scan.frozen_lines.append(i)
                continue
        if block is None and inline in line:
            scan.inline_lines.append(i)
    if block is not None:
        hint = (f"; a code fence opened at line {fence_open + 1} is never closed, so the {kw.end} inside "
                "it does not count" if fence is not None and fence_open > block else "")
        scan.diagnostics.append(Diagnostic(path, block + 1, "warning",
                                           f"{kw.begin} without {kw.end}: the block runs to the end of the file{hint}"))
        scan.blocks.append(BlockSpan(block, None))
    elif fence is not None:
        scan.fences.append((fence_open, len(lines)))
    return scan
