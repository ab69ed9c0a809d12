"""Which of a sync's notes exist in a running Anki, and which have a card outside its deck, asked
of Anki's own search through AnkiConnect: one search per deck, all in one request.

Why searches: the add-on's `getDecks` runs one SQL query and one deck lookup per card on Anki's
main thread, and `notesInfo` reads every field of every note, so reading back where 10,000 cards
are took ~2 s; a search is one SQL query however many cards it covers. For the notes bound for
deck X (`nid:` their ids, so the user's other notes are never looked at), the cards outside X are

    nid:1,2,3 -deck:filtered (-"deck:X" OR "deck:X::*")

read in Anki's search syntax (`rslib/src/search/`, checked against the `anki` package):
- `deck:X` matches X and its subdecks, so a card moved into `X::Sub` is found by `"deck:X::*"`;
- `deck:X` also matches a card in a filtered deck whose home is X; `-deck:filtered` leaves out
  every card in a filtered deck anyway: the user is studying it there and it goes home by itself;
- in the deck name, `\\`, `"`, `*` and `_` are escaped (`*` and `_` are wildcards, `_` for one
  character), and the whole term is quoted (spaces, `:`, `(`, `-`), so `deck:a_b` does not match
  `aXb`; the deck separator `::` needs nothing;
- a deck that does not exist matches no card, so all the cards bound for it are outside it;
- deck names compare without case, as Anki's deck names are unique without case.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from notecards.sync.connection import all_answered

IDS_PER_QUERY = 2000           # note ids in one search: ~28 KB of query, a few ms of Anki's SQL
Multi = Callable[[list[tuple[str, dict]]], list[Any]]     # AnkiConnect's `multi`: actions -> answers


def escaped(text: str) -> str:
    """`text` for inside a quoted term of Anki's search syntax, matched literally."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*").replace("_", "\\_")


def nid_term(nids: Iterable[int]) -> str:
    return "nid:" + ",".join(str(int(n)) for n in sorted(nids))


def outside_query(deck: str, nids: Iterable[int]) -> str:
    """The search for the cards of these notes that are outside `deck` (a subdeck counts as
    outside), leaving out cards in a filtered deck."""
    name = escaped(deck)
    return f'{nid_term(nids)} -deck:filtered (-"deck:{name}" OR "deck:{name}::*")'


def chunks(ids: Iterable[int], size: int = IDS_PER_QUERY) -> list[list[int]]:
    ordered = sorted({int(n) for n in ids})
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def by_deck(expected: Mapping[int, str]) -> dict[str, list[int]]:
    """deck -> its notes, for the notes expected in a deck ("": in none in particular)."""
    out: dict[str, list[int]] = {}
    for nid, deck in expected.items():
        if deck:
            out.setdefault(deck, []).append(nid)
    return out


def outside_searches(targets: Mapping[str, Iterable[int]], action: str) -> list[tuple[str, dict]]:
    """For each deck, the search (`findNotes` or `findCards`) for the notes, or the cards, of its
    notes that are outside it, in as many searches as its id list needs."""
    return [(action, {"query": outside_query(deck, chunk)})
            for deck, nids in sorted(targets.items()) for chunk in chunks(nids)]


class DeckCheck:
    """The searches, sent as one `multi` (split only when the id lists outgrow a request)."""

    def __init__(self, multi: Multi):
        self.multi = multi

    def placed(self, expected: Mapping[int, str]) -> tuple[set[int], set[int]]:
        """(the notes that exist, those of them with a card outside their expected deck). A
        note expected in no deck in particular ("") is only looked up."""
        lookups = [("findNotes", {"query": nid_term(chunk)}) for chunk in chunks(expected)]
        answers = self._answers(lookups + outside_searches(by_deck(expected), "findNotes"))
        existing = {n for a in answers[:len(lookups)] for n in a}
        outside = {n for a in answers[len(lookups):] for n in a}
        return existing, outside & existing

    def cards_outside(self, targets: Mapping[str, Iterable[int]]) -> dict[str, list[int]]:
        """deck -> the card ids of its notes that are outside it (decks with none left out)."""
        return self._outside(targets, "findCards")

    def notes_outside(self, targets: Mapping[str, Iterable[int]]) -> dict[str, list[int]]:
        """deck -> those of its notes that have a card outside it."""
        return self._outside(targets, "findNotes")

    def _outside(self, targets: Mapping[str, Iterable[int]], action: str) -> dict[str, list[int]]:
        searches = outside_searches(targets, action)
        decks = [deck for deck, nids in sorted(targets.items()) for _ in chunks(nids)]
        out: dict[str, list[int]] = {}
        for deck, found in zip(decks, self._answers(searches)):
            if found:
                out.setdefault(deck, []).extend(found)
        return out

    def _answers(self, asks: list[tuple[str, dict]]) -> list[list[int]]:
        return [[int(x) for x in a] for a in all_answered(self.multi(asks) if asks else [])]
