"""Tags as Anki wants them: no `#`, nested Obsidian tags `a/b` as Anki's `a::b`, no duplicates.

Tag lines and front-matter tag strings are split on whitespace and commas: Anki tags cannot hold
spaces, and `Tags: a, b` means two tags to anyone who writes it. An item of a front-matter tag
list is one tag whatever it holds, so `- Learning Record` becomes `Learning_Record`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[\s,]+")
_SPACES = re.compile(r"\s+")


def normalise_tag(raw: str) -> str:
    """`#maths/algebra` -> `maths::algebra`; empty when nothing is left."""
    return raw.strip().lstrip("#").replace("/", "::")


def split_tags(text: str) -> list[str]:
    """A tag line's text (`a b #c/d`) as normalised tags, in the order written."""
    return [t for t in (normalise_tag(p) for p in _SEPARATORS.split(text)) if t]


def tags_from_value(value: object) -> list[str]:
    """Front-matter `tags:` as YAML/TOML gives it: a list, a string, a number or nothing."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [t for t in (normalise_tag(_SPACES.sub("_", str(item).strip())) for item in value
                            if item is not None) if t]
    return split_tags(str(value))


def merge_tags(*groups: Iterable[str]) -> list[str]:
    """Tags in first-seen order without duplicates; Anki compares tags case-insensitively."""
    seen: set[str] = set()
    out: list[str] = []
    for group in groups:
        for tag in group:
            key = tag.lower()
            if tag and key not in seen:
                seen.add(key)
                out.append(tag)
    return out
