"""Cards whose GUID changed because sync wrote their ID line, so their history can follow them.

A block without an ID line is identified by position (see `notecards.identity`); once
`notecards sync` writes `<!--ID: n-->` into it, its GUID is derived from n instead. The old GUID
is found two ways: the previous build's cards of the same file (`.notecards/export-state.json`),
matched by content as identity matching does, or — when that state is gone — the positional GUID
the block had (what sync itself gave the Anki note). Only an old GUID that has history and is no
longer a card of the vault is taken, so nothing is ever stolen from a living card.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from notecards.identity import KnownCard, field_hashes, guid_for_id, positional_guid
from notecards.types import Card


def renamed_cards(cards: list[Card], previous: dict[str, list[KnownCard]], vault_name: str,
                  has_history: Callable[[str], bool], aliased: set[str]) -> list[tuple[str, str]]:
    """(old guid, new guid) for each card that took an ID line and left its history behind.
    `aliased`: guids that already have an alias (either end), never linked twice."""
    present = {c.guid for c in cards} | aliased
    out: list[tuple[str, str]] = []
    claimed: set[str] = set()
    for card in cards:
        anki_id = card.block.anki_id
        if anki_id is None or card.guid != guid_for_id(anki_id) or card.guid in aliased or has_history(card.guid):
            continue
        old = _old_guid(card, previous.get(card.block.path, []), vault_name, present | claimed, has_history)
        if old is not None:
            claimed.add(old)
            out.append((old, card.guid))
    return out


def _old_guid(card: Card, known: list[KnownCard], vault_name: str, excluded: set[str],
              has_history: Callable[[str], bool]) -> str | None:
    hashes = field_hashes(card.block)
    candidates = [k.guid for k in known if k.fields == hashes]
    candidates += [k.guid for k in known if hashes and k.fields[:1] == hashes[:1]]
    stem = PurePosixPath(card.block.path).stem
    candidates.append(positional_guid(vault_name, stem, card.block.ordinal))
    for guid in candidates:
        if guid not in excluded and has_history(guid):
            return guid
    return None
