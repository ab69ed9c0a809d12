"""Card identity: a GUID that survives edits of the card's text, moves of its file and re-exports.

Rules (docs/identity.md tells them for users):
- A block with an ID line (`<!--ID: n-->`, an Anki note id written by sync or Obsidian_to_Anki)
  is identified by that id alone.
- Otherwise the identity is (vault name, file name without folder, position among the file's
  cards). That survives edits of any field and moves between folders, and two vaults never share
  a GUID.
- Position alone would hand a card's identity (and its review history) to its neighbour when a
  card is inserted above it. So when the previous run's cards of that file are known (state in
  `.notecards/`), new cards are first matched to old ones by content — all fields, then the first
  field, then any other field — and only the rest fall back to position.
Never genanki's default GUID (a hash of all fields), which makes a new note on every edit.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from notecards.types import CardBlock


def stable_hash(*parts: str, length: int = 16) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return base64.b85encode(digest).decode("ascii")[:length]


def guid_for_id(anki_id: int) -> str:
    return stable_hash("anki-id", str(anki_id), length=10)


def keeps_anki_id(block: CardBlock, guid: str) -> bool:
    """Whether the card is the note its ID line names. A block copied with its ID line is not:
    the first block with an ID holds it, so the copy becomes a note of its own rather than two
    notes sharing one GUID and one note id."""
    return block.anki_id is not None and guid == guid_for_id(block.anki_id)


def positional_guid(vault_name: str, stem: str, ordinal: int, salt: int = 0) -> str:
    return stable_hash("pos", vault_name, stem, str(ordinal), str(salt), length=10)


def field_hashes(block: CardBlock) -> list[str]:
    return [stable_hash(v.strip(), length=12) for v in block.fields.values()]


@dataclass
class KnownCard:
    """What the previous run remembers of one card of a file, to recognise it after edits."""

    guid: str
    fields: list[str]               # stable_hash of each raw field

    def to_list(self) -> list:
        return [self.guid, *self.fields]

    @classmethod
    def from_list(cls, data: list) -> "KnownCard":
        return cls(guid=data[0], fields=list(data[1:]))


@dataclass
class _Matcher:
    """Hands each new card of one file the GUID of the old card it most plausibly is."""

    old: list[KnownCard]
    claimed: set[int] = field(default_factory=set)

    def take(self, predicate) -> str | None:
        for i, known in enumerate(self.old):
            if i not in self.claimed and predicate(known):
                self.claimed.add(i)
                return known.guid
        return None


def assign_guids(blocks: list[CardBlock], vault_name: str, stem: str,
                 previous: list[KnownCard] | None, taken: set[str]) -> list[KnownCard]:
    """GUIDs for one file's blocks, in order, with the field hashes that the next run matches on.
    `taken` holds GUIDs already used in this run."""
    guids: list[str | None] = [None] * len(blocks)
    hashes = [field_hashes(b) for b in blocks]
    for i, block in enumerate(blocks):
        if block.anki_id is not None:
            guid = guid_for_id(block.anki_id)
            if guid not in taken and guid not in guids:    # else a copy: see keeps_anki_id
                guids[i] = guid
    if previous:
        matcher = _Matcher(previous)
        id_guids = {g for g in guids if g}
        matcher.claimed.update(j for j, k in enumerate(previous) if k.guid in id_guids)
        passes = [
            lambda h: (lambda k: k.fields == h),
            lambda h: (lambda k: bool(h) and k.fields[:1] == h[:1]),
            lambda h: (lambda k: any(a == b for a, b in zip(k.fields[1:], h[1:]))),
        ]
        for make in passes:
            for i in range(len(blocks)):
                if guids[i] is None:
                    found = matcher.take(make(hashes[i]))
                    if found is not None and found not in taken and found not in guids:
                        guids[i] = found
        leftovers = [k for j, k in enumerate(previous) if j not in matcher.claimed]
        for i in range(len(blocks)):
            if guids[i] is None and leftovers:
                candidate = leftovers.pop(0).guid
                if candidate not in taken and candidate not in guids:
                    guids[i] = candidate
    used = set(taken) | {g for g in guids if g}
    for i, block in enumerate(blocks):
        if guids[i] is None:
            salt = 0
            guid = positional_guid(vault_name, stem, block.ordinal)
            while guid in used:
                salt += 1
                guid = positional_guid(vault_name, stem, block.ordinal, salt)
            guids[i] = guid
            used.add(guid)
    return [KnownCard(g, h) for g, h in zip(guids, hashes) if g is not None]
