"""FROZEN fields: `FROZEN - Basic:` and field lines below it, appended to that field of every
card of that note type in the file (Obsidian_to_Anki's "Frozen Fields Line").

The lines up to the next blank line are the fields, read like a block's (first field implicit,
`Field:` switches). The raw markdown goes to `CardBlock.frozen`; render appends it.
"""

from __future__ import annotations

from notecards.parse.compiled import Compiled
from notecards.parse.context import FileContext


def read_frozen(ctx: FileContext, lines: list[str], index: int, compiled: Compiled) -> int:
    """Record a FROZEN section in `ctx.frozen`; -> index of its last line."""
    header = lines[index].rstrip()
    prefix = compiled.keywords.frozen + " - "
    if not header.endswith(":"):
        ctx.report(index + 1, "warning", f"write the frozen fields line as `{prefix}Note type:`; ignored")
        return index
    note_type = header[len(prefix):-1].strip()
    spec = compiled.specs.get(note_type)
    if spec is None:
        ctx.report(index + 1, "error", f"frozen fields for unknown note type {note_type!r}. Known note types: "
                   f"{compiled.known_types()}")
        return index
    last = index
    current = spec.names[0]
    parts: dict[str, list[str]] = {name: [] for name in spec.names}
    while last + 1 < len(lines) and lines[last + 1].strip():
        last += 1
        line = lines[last]
        switched = spec.switch(line)
        if switched is not None:
            current, line = switched[0], switched[1].lstrip()
        parts[current].append(line)
    ctx.frozen[note_type] = {name: "\n".join(p).strip() for name, p in parts.items() if "\n".join(p).strip()}
    return last
