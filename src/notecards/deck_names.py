"""Deck names as Anki keeps them, so that a vault's deck and the collection's agree.

Anki normalises every component of a `::` path (rslib `decks/name.rs`): Unicode NFC, ASCII
control characters removed, whitespace and `:` trimmed from both ends, an empty component made
`blank`; and it matches names without case. A note whose front matter says `Stats :: Sub ` goes
to Anki's `Stats::Sub`, and comparing the two as written made every sync move its cards again.
"""

from __future__ import annotations

import unicodedata

_CONTROL = dict.fromkeys(range(32)) | {127: None}


def anki_deck_name(name: str) -> str:
    """`name` as Anki stores it."""
    return "::".join(_component(part) for part in name.split("::"))


def _component(part: str) -> str:
    text = unicodedata.normalize("NFC", part).translate(_CONTROL)
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or text[start] == ":"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == ":"):
        end -= 1
    return text[start:end] or "blank"


def same_deck(a: str, b: str) -> bool:
    """Whether Anki takes the two names for one deck."""
    return anki_deck_name(a).casefold() == anki_deck_name(b).casefold()
