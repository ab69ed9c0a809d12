"""Inline notes: `STARTI [Basic] question Back: answer ENDI`, all on one line.

As in Obsidian_to_Anki: an ID (`<!--ID: n-->`, written by sync just before ENDI) and a
`Tags: a b` part end the note's text; the note type is in brackets; `Field:` between spaces
switches field. Field names with spaces (`Back Extra:`) work too, which the plugin missed.
Several inline notes may share a line.
"""

from __future__ import annotations

import re

from notecards.parse.compiled import Compiled
from notecards.parse.context import FileContext
from notecards.parse.ids import INLINE_ID, id_number
from notecards.parse.tags import split_tags
from notecards.types import CardBlock

_TAGS = re.compile(r"(?<!\S)Tags:(.*)")
_TYPE = re.compile(r"\s*\[([^\]\n]*)\]")


def read_inline_line(ctx: FileContext, lines: list[str], index: int, compiled: Compiled) -> None:
    kw = compiled.keywords
    found = False
    for match in compiled.inline_note.finditer(lines[index]):
        found = True
        _read_one(ctx, index, match, compiled)
    if not found:
        ctx.report(index + 1, "warning", f"{kw.begin_inline} without {kw.end_inline} on the same line; "
                   "not a card (an inline note is one line)")


def _read_one(ctx: FileContext, index: int, match: re.Match, compiled: Compiled) -> None:
    line_no = index + 1
    text = match.group(1)
    anki_id = None
    found_id = INLINE_ID.search(text)
    if found_id:
        anki_id, text = id_number(found_id.group(1)), text[:found_id.start()]
    tags: list[str] = []
    found_tags = _TAGS.search(text)
    if found_tags:
        tags, text = split_tags(found_tags.group(1)), text[:found_tags.start()]
    note_type = _TYPE.match(text)
    if note_type is None:
        ctx.report(line_no, "error", f"inline note without a note type: write "
                   f"`{compiled.keywords.begin_inline} [Basic] question Back: answer {compiled.keywords.end_inline}`")
        return
    spec = compiled.specs.get(note_type.group(1).strip())
    if spec is None:
        ctx.report(line_no, "error", f"unknown note type {note_type.group(1).strip()!r}. Known note types: "
                   f"{compiled.known_types()}; card skipped")
        return
    parts: dict[str, list[str]] = {name: [] for name in spec.names}
    body = text[note_type.end():]
    current, pos = spec.names[0], 0
    for marker in spec.inline_marker.finditer(body):
        parts[current].append(body[pos:marker.start()])
        current, pos = marker.group(1), marker.end()
    parts[current].append(body[pos:])
    fields = {name: " ".join(p.strip() for p in pieces if p.strip()) for name, pieces in parts.items()}
    if not fields[spec.names[0]]:
        ctx.report(line_no, "error", f"card skipped: its first field ({spec.names[0]}) is empty")
        return
    ctx.add_card(match.start(), CardBlock(
        path=ctx.path, line=line_no, end_line=line_no, kind="inline", note_type=spec.note_type,
        fields=fields, field_lines={name: line_no for name in spec.names}, tags=ctx.card_tags(tags),
        deck=ctx.deck, ordinal=-1, anki_id=anki_id, id_line=line_no if anki_id is not None else None,
        id_insert=(line_no, match.end(1)), frozen=ctx.frozen_for(spec.note_type)))
