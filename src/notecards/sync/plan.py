"""Decide what a sync does: compare the vault's cards with the notes Anki holds, before touching either.

The plan is plain data, so `--dry-run` can print it and both backends (a collection file, AnkiConnect)
carry out the same decisions. The rules, in the order they are checked for each card:
- a block whose ID names a note that exists is that note: it is updated in place (fields, tags,
  deck, note type) so its cards keep their review history;
- an ID seen twice (a block copied with its ID line) belongs to the first block; the copy becomes
  a new note and its ID line is rewritten;
- an ID whose note is gone (deleted in Anki) is re-created and the ID line rewritten;
- a block without a usable ID whose GUID Anki already has (a sync was killed, or its write-back
  failed, before the block's ID line was written or rewritten) adopts that note instead of adding a
  duplicate; but never a note that a block's ID line names: a GUID that is positional (file name +
  place in the file) is shared by a new block inserted above an old one, or by a file of the same
  name in another folder, and adopting would hand the old card's review history to the new one;
- otherwise the card is added and its ID line written.
A note is updated only when the vault changed it since the last sync (its digest differs from the
one recorded in state), so an edit made in Anki survives until the block itself is edited. With no
record (first sync, or `.notecards/` deleted) the vault, being the source of truth, wins.
Deletions: notes named by `DELETE` lines, and notes whose block a sync has seen (recorded in state:
made by it, or named by an ID line such as Obsidian_to_Anki's) and which is now gone. A note no
block ever stood for (made in Anki, or by another tool) is never deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping, Protocol

from notecards.deck_names import same_deck
from notecards.sync.sync_state import PendingAdd
from notecards.types import Card, CardBlock, Deletion, Diagnostic


@dataclass
class RemoteNote:
    """What Anki holds for one note, as far as a sync cares."""

    nid: int
    note_type: str
    fields: dict[str, str]
    tags: list[str]
    decks: set[str]                   # home decks of its cards (empty: not known)
    guid: str = ""


class Backend(Protocol):
    """Where notes live: an open collection file (`collection.py`) or a running Anki (`ankiconnect.py`).

    `batch_notes`: at most this many adds per `apply` (None: all at once). `needs_journal`: the
    backend cannot find a note again by its GUID, so the sync journals adds before each batch and
    asks `find_added` after a failure."""

    batch_notes: int | None
    needs_journal: bool

    def notes(self, nids: Iterable[int], homes: Mapping[int, str] | None = None) -> dict[int, RemoteNote]:
        """The notes that exist. `homes`: the deck the vault puts some of them in, where a
        backend that cannot afford to read every card's deck may look first."""

    def nids_for_guids(self, guids: Iterable[str]) -> dict[str, int]: ...

    def find_added(self, pending: list[PendingAdd], known: set[int]) -> dict[str, int]: ...

    def decks_of(self, expected: Mapping[int, str],
                 read_next: Mapping[int, str] | None = None) -> dict[int, set[str]]:
        """The notes that exist, each with the home decks of its cards: asked on every sync for
        the notes of unchanged files, so it must be cheap. `expected`: the deck each note's cards
        were put in ("" if not known), so a backend may search for the cards outside it instead
        of reading every card's deck. `read_next`: the notes `notes` will be asked for next
        (those of the changed files, with their decks), which a backend may read meanwhile."""

    def apply(self, plan: "SyncPlan") -> "Applied":
        """Carry out the plan: the notes it made (adds, and updates whose note type changed when
        the backend re-adds them), and diagnostics pinned to the blocks of the cards Anki refused."""

    def close(self) -> None: ...


@dataclass
class Add:
    card: Card
    replaces: int | None = None       # a stale or duplicated ID in the block, rewritten after the add


@dataclass(frozen=True)
class Changes:
    """What differs between a card and its note in Anki. A changed note type is all there is to
    say (the note is converted, fields, tags and deck with it)."""

    note_type: bool = False
    fields: bool = False
    tags: bool = False
    deck: bool = False

    def __bool__(self) -> bool:
        return self.note_type or self.fields or self.tags or self.deck

    @property
    def content(self) -> bool:
        """Fields or tags: the note itself is rewritten (a deck move only touches its cards)."""
        return self.fields or self.tags

    def names(self) -> list[str]:
        return [name for name, on in (("note type", self.note_type), ("fields", self.fields),
                                      ("tags", self.tags), ("deck", self.deck)) if on]


@dataclass
class Update:
    nid: int
    card: Card
    changes: Changes
    adopt: bool = False               # the block has no ID line yet: write it


@dataclass(frozen=True)
class NewNote:
    """A note the backend made for a card: an add, or a re-add when its note type changed."""

    card: Card
    nid: int


@dataclass
class Applied:
    """What a backend did with a plan (or with part of one)."""

    new_notes: list[NewNote] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    stopped: Exception | None = None  # the failure that ended the part early; the rest was not done

    def nid_of(self, card: Card) -> int | None:
        return next((n.nid for n in self.new_notes if n.card is card), None)


@dataclass
class Delete:
    nid: int
    path: str
    line: int
    reason: Literal["DELETE line", "block removed"]


@dataclass
class SyncPlan:
    adds: list[Add] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    unchanged: list[tuple[int, Card]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def moves(self) -> list[Update]:
        return [u for u in self.updates if u.changes.deck]

    def id_lines(self) -> int:
        return sum(_can_take_id(a.card.block) for a in self.adds) + \
            sum(1 for u in self.updates if u.adopt or u.changes.note_type)

    def is_empty(self) -> bool:
        return not (self.adds or self.updates or self.deletes)

    def describe(self, shown=lambda rel: rel) -> list[str]:
        """One line per change, for `--dry-run`: what would happen and to which block (its path
        as `shown` prints it)."""
        lines = []
        for a in self.adds:
            b = a.card.block
            what = f"re-create (note {a.replaces} is gone or taken)" if a.replaces else "add"
            lines.append(f"{shown(b.path)}:{b.line}: {what} {a.card.note_type} note in deck {a.card.deck}")
        for u in self.updates:
            b = u.card.block
            lines.append(f"{shown(b.path)}:{b.line}: update note {u.nid} ({', '.join(u.changes.names())})"
                         + (f" -> deck {u.card.deck}" if u.changes.deck else "")
                         + ("; write its ID line" if u.adopt else ""))
        for d in self.deletes:
            lines.append(f"{shown(d.path)}:{d.line}: delete note {d.nid} ({d.reason})")
        return lines

    def counts(self) -> dict[str, int]:
        return {"add": len(self.adds), "update": len(self.updates), "move": len(self.moves),
                "delete": len(self.deletes), "unchanged": len(self.unchanged),
                "id lines": self.id_lines()}


def card_digest(card: Card) -> str:
    """A hash of everything a sync puts into Anki for this card; equal digests mean no change."""
    payload = json.dumps([card.note_type, card.fields, sorted(card.tags), card.deck,
                          sorted(m.name for m in card.media)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def make_plan(cards: list[Card], deletions: list[Deletion], backend: Backend,
              recorded: dict[int, str], guid_hint: dict[str, int], managed_gone: dict[int, tuple[str, int]],
              named: Iterable[int] = ()) -> SyncPlan:
    """The plan for these cards.

    `recorded`: note id -> digest at the last sync (from state). `guid_hint`: guid -> note id the
    state remembers. `managed_gone`: notes this vault made whose block is no longer in the vault,
    with the (path, line) they came from. `named`: notes named by ID lines of files not in `cards`
    (unchanged since the last sync), which, like those named in `cards`, are never adopted by GUID.
    """
    plan = SyncPlan()
    ids = Counter(c.block.anki_id for c in cards if c.block.anki_id)
    explicit = {d.anki_id for d in deletions}
    guids = {c.guid for c in cards}
    guid_hint = {g: n for g, n in guid_hint.items() if g in guids}     # only these cards look one up
    homes = _homes(cards, guid_hint)
    remote = backend.notes(set(ids) | explicit | set(managed_gone) | set(guid_hint.values()), homes)
    taken = set(ids) | set(named)
    by_guid = {g: n for g, n in guid_hint.items() if n in remote and n not in taken}
    unresolved = [c.guid for c in cards if c.guid not in by_guid and not _names_one_note(c, ids, remote)]
    if unresolved:
        found = {g: n for g, n in backend.nids_for_guids(unresolved).items() if n not in taken}
        by_guid.update(found)
        remote.update(backend.notes(n for n in found.values() if n not in remote))
    claimed: set[int] = set()
    for card in cards:
        _plan_card(card, plan, remote, recorded, by_guid, claimed)
    for d in deletions:
        if d.anki_id in remote and d.anki_id not in claimed:
            plan.deletes.append(Delete(d.anki_id, d.path, d.line, "DELETE line"))
    for nid, (path, line) in sorted(managed_gone.items()):
        if nid in remote and nid not in claimed and nid not in explicit:
            plan.deletes.append(Delete(nid, path, line, "block removed"))
    return plan


def _homes(cards: list[Card], guid_hint: dict[str, int]) -> dict[int, str]:
    """note id -> the deck of the first card that names it (by its ID line, else by GUID)."""
    out: dict[int, str] = {}
    for card in cards:
        for nid in (card.block.anki_id, guid_hint.get(card.guid)):
            if nid is not None:
                out.setdefault(nid, card.deck)
    return out


def _names_one_note(card: Card, ids: Counter, remote: dict[int, RemoteNote]) -> bool:
    """The block's ID names a note that exists and no other block names it: no GUID needed."""
    nid = card.block.anki_id
    return nid is not None and nid in remote and ids[nid] == 1


def _plan_card(card: Card, plan: SyncPlan, remote: dict[int, RemoteNote], recorded: dict[int, str],
               by_guid: dict[str, int], claimed: set[int]) -> None:
    block = card.block
    nid = block.anki_id
    adopt = nid is None or nid not in remote or nid in claimed
    if adopt:
        if nid in claimed:
            plan.diagnostics.append(Diagnostic(block.path, block.id_line or block.line, "warning",
                                               f"ID {nid} is also used by an earlier block; this block "
                                               "becomes a new note and its ID line is rewritten"))
        found = by_guid.get(card.guid)
        if found is None or found in claimed:
            plan.adds.append(Add(card, replaces=nid))
            return
        nid = found
    claimed.add(nid)
    if not adopt and recorded.get(nid) == card_digest(card):
        plan.unchanged.append((nid, card))
        return
    changes = _differences(card, remote[nid])
    if changes or (adopt and _can_take_id(block)):
        plan.updates.append(Update(nid, card, changes, adopt))
    else:
        plan.unchanged.append((nid, card))


def _can_take_id(block: CardBlock) -> bool:
    """A block cut short (START with no END) has nowhere to put an ID line."""
    return block.id_line is not None or block.id_insert is not None


def _differences(card: Card, note: RemoteNote) -> Changes:
    if card.note_type != note.note_type:
        return Changes(note_type=True)
    return Changes(fields=any(note.fields.get(k) != v for k, v in card.fields.items()),
                   tags={t.lower() for t in card.tags} != {t.lower() for t in note.tags},
                   deck=bool(note.decks) and not all(same_deck(d, card.deck) for d in note.decks))


def block_key(block: CardBlock) -> tuple:
    """What identifies a block's text when its file is re-read: same type, same fields, same ID."""
    return (block.kind, block.note_type, tuple(block.fields.items()), block.anki_id)
