"""Card syntax is not content: a transcluded note shows its prose, not the cards it holds.

A section embedded with `![[note#heading]]` often contains that note's own START … END blocks,
inline notes, TARGET DECK / FILE TAGS lines and DELETE requests. Obsidian hides nothing (the
plugin's syntax is plain text there), but on an Anki card those lines would be noise, so the
embed shows the section with them blanked out. Which lines are card syntax is what the parser
says, so an embed and an export never disagree about it.
"""

from __future__ import annotations

from notecards.config import Settings
from notecards.parse.ids import id_of_line
from notecards.render.sections import Section
from notecards.types import SourceFile


def card_syntax_lines(source: SourceFile, settings: Settings) -> set[int]:
    """1-based lines of `source` that are card syntax rather than prose."""
    from notecards.parse import parse_file

    parsed = parse_file(source, settings)
    lines: set[int] = set()
    for block in parsed.blocks:
        if block.kind in ("block", "inline"):
            lines.update(range(block.line, block.end_line + 1))
    text_lines = source.lines()
    for deletion in parsed.deletions:
        lines.add(deletion.line)
        if deletion.line < len(text_lines) and id_of_line(text_lines[deletion.line]) is not None:
            lines.add(deletion.line + 1)
    keywords = (settings.syntax.target_deck, settings.syntax.file_tags)
    for number, line in enumerate(text_lines, start=1):
        stripped = line.strip()
        for keyword in keywords:
            if stripped == keyword:
                lines.update((number, number + 1))      # the value is on the next line
            elif stripped.startswith(keyword + ":"):
                lines.add(number)
    return lines


def without_card_syntax(section: Section, source: SourceFile, settings: Settings) -> Section:
    """The section with card-syntax lines blanked, line numbers kept for diagnostics."""
    hidden = card_syntax_lines(source, settings)
    kept = ["" if section.first_line + i in hidden else text for i, text in enumerate(section.text.split("\n"))]
    return Section("\n".join(kept), section.first_line)
