"""Obsidian link targets: splitting `note#heading|alias` and building `obsidian://` URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# JavaScript's encodeURIComponent leaves these unescaped; Obsidian_to_Anki builds its URLs with it
_URI_COMPONENT_SAFE = "-_.!~*'()"
# an Obsidian embed, `![[note#heading|alias]]`, as a regular expression for scanning raw text
# (render itself reads embeds with its markdown-it rule in embeds.py)
WIKI_EMBED = re.compile(r"!\[\[([^\]]+)\]\]")


@dataclass(frozen=True)
class LinkTarget:
    """The parts of what is written between `[[` and `]]`."""

    note: str          # "" for a link into the same note (`[[#heading]]`)
    heading: str       # "" when the link names no heading (a block ref keeps its `^`)
    alias: str         # "" when the link has no `|alias`

    @classmethod
    def parse(cls, inner: str) -> LinkTarget:
        target, _, alias = inner.partition("|")
        note, _, heading = target.partition("#")
        return cls(note.strip(), heading.strip(), alias.strip())

    def text(self) -> str:
        """What Obsidian shows for the link: the alias, else `note > heading > subheading`."""
        if self.alias:
            return self.alias
        heading = " > ".join(part.strip() for part in self.heading.split("#") if part.strip())
        if self.note and heading:
            return f"{self.note} > {heading}"
        return self.note or heading


def wiki_embeds(text: str) -> list[LinkTarget]:
    """The targets of the `![[…]]` embeds in raw text, in order."""
    return [LinkTarget.parse(inner) for inner in WIKI_EMBED.findall(text)]


def encode_uri_component(text: str) -> str:
    return quote(text, safe=_URI_COMPONENT_SAFE)


def obsidian_url(vault: str, file: str) -> str:
    """The URL Obsidian_to_Anki writes: `obsidian://open?vault=…&file=…`."""
    return f"obsidian://open?vault={encode_uri_component(vault)}&file={encode_uri_component(file)}"
