"""Parse stage: a note file -> its cards (raw markdown fields), deletions and diagnostics.

Card syntax is Obsidian_to_Anki's (README, "Card syntax"): block notes, inline notes, custom regex
notes, TARGET DECK / FILE TAGS / DELETE / FROZEN lines, with a vault's own keywords. Each rule
lives in its own module; this one runs them in order over one file:

1. front matter (YAML `---` or TOML `+++`): deck and tags;
2. one scan of the lines: blocks, inline notes, keyword lines, fenced code;
3. the file's deck and tags; FROZEN sections; DELETE lines;
4. block, inline and regex notes, numbered in document order (`CardBlock.ordinal`).

Nothing here renders markdown or prints; every problem is a Diagnostic at the line to fix.
"""

from __future__ import annotations

from notecards.config import Settings
from notecards.parse.blocks import read_block
from notecards.parse.compiled import Compiled, compiled_for
from notecards.parse.context import FileContext
from notecards.parse.deletions import read_deletion
from notecards.parse.file_settings import FileSettings, file_deck, file_tags
from notecards.parse.frontmatter import read_front_matter
from notecards.parse.frozen import read_frozen
from notecards.parse.inline import read_inline_line
from notecards.parse.regex_notes import find_regex_notes
from notecards.parse.scan import Scan, scan_lines
from notecards.types import ParsedFile, SourceFile

__all__ = ["parse_file"]


def parse_file(source: SourceFile, settings: Settings) -> ParsedFile:
    """Read every card and deletion of one note file."""
    compiled = compiled_for(settings)
    result = ParsedFile(source=source)
    lines = source.lines()
    front = read_front_matter(source.path, lines)
    result.front_matter = front.data
    result.diagnostics.extend(front.diagnostics)
    if _may_hold_cards(source.text, compiled):
        scan = scan_lines(source.path, lines, front.body_start, compiled.keywords, compiled.first_chars)
    else:
        scan = Scan()
    result.diagnostics.extend(scan.diagnostics)
    file_settings = FileSettings(source.path, lines, scan.deck_lines, scan.tag_lines, compiled)
    result.diagnostics.extend(file_settings.diagnostics)
    ctx = FileContext(source=source,
                      deck=file_deck(source.path, file_settings.target_deck, front, compiled, settings),
                      tags=file_tags(source.path, file_settings.file_tags, front, compiled))
    result.deck, result.tags = ctx.deck, ctx.tags
    taken = [(0, front.body_start - 1)] if front.body_start else []
    taken += file_settings.ranges
    taken += _read_frozen_and_deletions(ctx, result, lines, scan, compiled)
    for span in scan.blocks:
        deletion = read_block(ctx, lines, span, compiled)
        if deletion is not None:
            result.deletions.append(deletion)
        taken.append((span.start, span.end if span.end is not None else len(lines) - 1))
    for index in scan.inline_lines:
        read_inline_line(ctx, lines, index, compiled)
        taken.append((index, index))
    if compiled.rules:
        starts = source.line_starts()
        find_regex_notes(ctx, compiled.rules, _free_regions(starts, len(source.text), taken),
                         _offsets(starts, source.text, scan.fences), settings)
    ctx.found.sort(key=lambda found: (found[0], found[1]))
    for ordinal, (_, _, card) in enumerate(ctx.found):
        card.ordinal = ordinal
        result.blocks.append(card)
    result.deletions.sort(key=lambda d: d.line)
    result.diagnostics.extend(ctx.diagnostics)
    result.diagnostics.sort(key=lambda d: (d.line, d.col))
    return result


def _may_hold_cards(text: str, compiled: Compiled) -> bool:
    """Most notes hold no keyword at all: a substring test in C spares them the line scan."""
    if compiled.rules:
        return True
    kw = compiled.keywords
    return any(k in text for k in kw.line_keywords()) or kw.begin_inline in text


def _read_frozen_and_deletions(ctx: FileContext, result: ParsedFile, lines: list[str], scan: Scan,
                               compiled: Compiled) -> list[tuple[int, int]]:
    """FROZEN sections first (every card of the file needs them); -> the line ranges both take."""
    ranges = []
    for index in scan.frozen_lines:
        ranges.append((index, read_frozen(ctx, lines, index, compiled)))
    for index in scan.delete_lines:
        deletion, last = read_deletion(ctx, lines, index, compiled.keywords.delete)
        if deletion is not None:
            result.deletions.append(deletion)
            ranges.append((index, last))
    return ranges


def _free_regions(starts: list[int], size: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges of the lines no other rule claimed: where regex notes may match."""
    count = len(starts)
    regions = []
    line = 0
    for first, last in sorted(taken):
        if first > line:
            regions.append((starts[line], starts[first]))
        line = max(line, last + 1)
    if line < count:
        regions.append((starts[line], size))
    return regions


def _offsets(starts: list[int], text: str, fences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Fence line ranges -> character ranges, from the opening fence to the end of the closing
    fence's own text (its newline is not part of the fence, so a match ending with the closing
    fence holds the whole fence). A fence never closed runs past the end of the text."""
    out = []
    for first, last in fences:
        if last >= len(starts):
            out.append((starts[first], len(text) + 1))
        else:
            end = starts[last + 1] - 1 if last + 1 < len(starts) else len(text)
            out.append((starts[first], end))
    return out
