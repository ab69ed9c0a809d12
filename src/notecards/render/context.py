"""Obsidian_to_Anki's "Add File Link" and "Add Context", with that plugin's exact output.

- file link: `<br><a href="obsidian://open?vault=…&file=…" class="obsidian-link">Obsidian</a>`
  appended to the field named in FILE_LINK_FIELDS for the note type (the first field when the
  vault names none); `file` is the note's vault path with its extension, URI-encoded.
- context: `path > h1 > h2` — the file's vault path, then the headings above the card, each
  heading closing those of the same or a deeper level — appended to the field named in
  CONTEXT_FIELDS (first field by default). The plugin appends it with no separator; so do we,
  so a vault moving over keeps byte-identical fields.
"""

from __future__ import annotations

from markdown_it.common.utils import escapeHtml

from notecards.render.links import obsidian_url
from notecards.parse.frontmatter import front_matter_end
from notecards.render.sections import Heading, headings
from notecards.types import SourceFile


def file_link(vault: str, path: str) -> str:
    return f'<br><a href="{escapeHtml(obsidian_url(vault, path))}" class="obsidian-link">Obsidian</a>'


def heading_context(source: SourceFile, line: int) -> str:
    """`path > h1 > h2` for a card that starts on 1-based `line` of `source`."""
    lines = source.lines()
    stack: list[Heading] = []
    for heading in headings(lines, front_matter_end(lines), line - 1):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
    return " > ".join([source.path] + [escapeHtml(h.text) for h in stack])
