"""Block notes: START, a note type line, fields, optional `Tags:` and ID lines, END.

Fields: the first field is implicit; a line `Field:` switches field (text after the colon stays);
a field may switch back and continue. A field's leading and trailing blank lines are trimmed, and
the spaces after `Field:`; indentation of other lines is kept (it is markdown).
Inside fenced code within a block nothing switches fields, so code may say `Back: 1`.

The last lines before END may be `Tags: a b c` and an ID line (`<!--ID: n-->` or `ID: n`), in
either order, blank lines between allowed, indented or not (a formatter indents them under the
block's last list item). `DELETE` as the last content line, with an ID, turns the
block into a deletion request.

Per-block deck: a line `TARGET DECK: Deck::Sub` anywhere in a block sends that card to that deck.
The keyword is the vault's TARGET DECK keyword, which is never a field name, so the line cannot be
mistaken for a field; it is not part of any field.
"""

from __future__ import annotations

from difflib import get_close_matches

from notecards.parse.compiled import Compiled
from notecards.parse.context import FileContext
from notecards.parse.fences import closes_fence, opening_fence
from notecards.parse.fields import FieldSpec
from notecards.parse.ids import id_of_line
from notecards.parse.scan import BlockSpan
from notecards.parse.tags import split_tags
from notecards.types import CardBlock, Deletion

TAGS_PREFIX = "Tags:"


def read_block(ctx: FileContext, lines: list[str], span: BlockSpan, compiled: Compiled) -> Deletion | None:
    """Add the block's card to `ctx`, or return the deletion it asks for; problems go to ctx."""
    stop = span.end if span.end is not None else len(lines)
    type_index = _first_text_line(lines, span.start + 1, stop)
    if type_index is None:
        ctx.report(span.start + 1, "error", f"empty {compiled.keywords.begin}…{compiled.keywords.end} block: "
                   f"expected a note type line ({compiled.known_types()})")
        return None
    spec = _note_type(ctx, lines[type_index].strip(), type_index, compiled)
    if spec is None:
        return None
    tail = _read_tail(lines, type_index, stop, spec)
    content_end = tail.content_end
    if tail.anki_id is not None:
        last = _last_text_line(lines, type_index + 1, content_end)
        if last is not None and lines[last].strip() == compiled.keywords.delete:
            return Deletion(ctx.path, last + 1, tail.anki_id)
    fields, field_lines, deck = _read_fields(ctx, lines, type_index, content_end, spec, compiled)
    first = spec.names[0]
    if not fields[first]:
        ctx.report(span.start + 1, "error", f"card skipped: its first field ({first}) is empty")
        return None
    ctx.add_card(0, CardBlock(
        path=ctx.path, line=span.start + 1, end_line=stop + 1 if span.end is not None else stop,
        kind="block", note_type=spec.note_type, fields=fields, field_lines=field_lines,
        tags=ctx.card_tags(tail.tags), deck=deck or ctx.deck, ordinal=-1,
        anki_id=tail.anki_id, id_line=tail.id_line,
        id_insert=(span.end + 1, 0) if span.end is not None else None,
        frozen=ctx.frozen_for(spec.note_type)))
    return None


def _note_type(ctx: FileContext, name: str, index: int, compiled: Compiled) -> FieldSpec | None:
    spec = compiled.specs.get(name)
    if spec is None:
        close = get_close_matches(name, list(compiled.specs), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        ctx.report(index + 1, "error", f"unknown note type {name!r}{hint}. Known note types: "
                   f"{compiled.known_types()}; card skipped")
    return spec


class _Tail:
    """The Tags and ID lines at the end of a block, and where the fields end."""

    def __init__(self, content_end: int):
        self.content_end = content_end
        self.tags: list[str] = []
        self.anki_id: int | None = None
        self.id_line: int | None = None


def _read_tail(lines: list[str], type_index: int, stop: int, spec: FieldSpec) -> _Tail:
    tail = _Tail(stop)
    tags_seen = "Tags" in spec.names          # a note type with a Tags field keeps its `Tags:` lines
    for _ in range(2):
        last = _last_text_line(lines, type_index + 1, tail.content_end)
        if last is None:
            break
        line = lines[last]
        anki_id = id_of_line(line) if tail.anki_id is None else None
        if anki_id is not None:
            tail.anki_id, tail.id_line = anki_id, last + 1
        elif not tags_seen and line.lstrip().startswith(TAGS_PREFIX):
            tail.tags, tags_seen = split_tags(line.lstrip()[len(TAGS_PREFIX):]), True
        else:
            break
        tail.content_end = last
    return tail


def _read_fields(ctx: FileContext, lines: list[str], type_index: int, end: int, spec: FieldSpec,
                 compiled: Compiled) -> tuple[dict[str, str], dict[str, int], str | None]:
    """-> (fields in the note type's order, their first lines, the block's own deck or None).

    Most lines are plain text: only a line starting like a fence, or with a colon near its start
    (where every `Field:`, deck line and lookalike has one), is looked at more closely. Text is
    gathered as runs of consecutive lines, (field, first index, first line's text, end index).
    """
    deck_prefix = compiled.keywords.target_deck + ":"
    window = max(len(p) for p in (*spec.prefixes, deck_prefix)) + 2
    current = spec.names[0]
    runs: list[tuple[str, int, str, int]] = []
    run_start, run_text = type_index + 1, None
    deck = None
    fence = None
    for i in range(type_index + 1, end):
        line = lines[i]
        if fence is not None:
            if line[:1] in _FENCE_STARTS and closes_fence(line, fence):
                fence = None
            continue
        if line[:1] in _FENCE_STARTS and (opened := opening_fence(line)) is not None:
            fence = opened
            continue
        if ":" not in line[:window]:
            continue
        if (switched := spec.switch(line)) is not None:
            runs.append((current, run_start, run_text, i))
            current, run_start, run_text = switched[0], i, switched[1].lstrip()
        elif line.startswith(deck_prefix):
            runs.append((current, run_start, run_text, i))
            deck = _block_deck(ctx, line[len(deck_prefix):].strip(), deck, i)
            run_start, run_text = i + 1, None
        else:
            _check_label(ctx, line, i, current, spec)
    runs.append((current, run_start, run_text, end))
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    for name in spec.names:
        own = [run for run in runs if run[0] == name]
        default = own[0][1] + 1 if own else type_index + 2
        fields[name], field_lines[name] = _field_text(lines, own, default)
    return fields, field_lines, deck


_FENCE_STARTS = ("`", "~", " ")


def _field_text(lines: list[str], runs: list[tuple[str, int, str | None, int]], default_line: int) -> tuple[str, int]:
    """A field's text from its runs, without leading/trailing blank lines or trailing spaces, and
    the line its text starts on."""
    texts: list[str] = []
    numbers: list[tuple[int, int]] = []             # (position in texts, line index) at each run start
    for _, first, first_text, stop in runs:
        numbers.append((len(texts), first))
        if first_text is None:
            texts.extend(lines[first:stop])
        else:
            texts.append(first_text)
            texts.extend(lines[first + 1:stop])
    lead, last = 0, len(texts)
    while lead < last and not texts[lead].strip():
        lead += 1
    while last > lead and not texts[last - 1].strip():
        last -= 1
    if lead == last:
        return "", default_line
    position, index = max((p, i) for p, i in numbers if p <= lead)
    return "\n".join(texts[lead:last]).rstrip(), index + (lead - position) + 1


def _block_deck(ctx: FileContext, name: str, previous: str | None, index: int) -> str | None:
    if not name:
        ctx.report(index + 1, "warning", "per-card TARGET DECK without a deck name; ignored")
        return previous
    if previous is not None:
        ctx.report(index + 1, "warning", f"second deck line in one card; the card goes to {name!r}")
    return name


def _check_label(ctx: FileContext, line: str, index: int, current: str, spec: FieldSpec) -> None:
    guess = spec.lookalike(line)
    if guess is not None:
        label = line.split(":", 1)[0]
        ctx.report(index + 1, "warning", f"'{label}:' is not a field of {spec.note_type}; did you mean "
                   f"'{guess}:'? (field names are case-sensitive) The line is kept as text of {current}")
    elif line.startswith(TAGS_PREFIX) and "Tags" not in spec.names:
        ctx.report(index + 1, "warning", "a Tags: line counts only as the last line of a block (before the "
                   "ID line); this one is kept as text")


def _first_text_line(lines: list[str], start: int, stop: int) -> int | None:
    for i in range(start, stop):
        if lines[i].strip():
            return i
    return None


def _last_text_line(lines: list[str], start: int, stop: int) -> int | None:
    for i in range(stop - 1, start - 1, -1):
        if lines[i].strip():
            return i
    return None
