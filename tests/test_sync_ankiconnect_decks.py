"""Where the cards are, on re-syncs through AnkiConnect: cards the user moved by hand are found by
Anki's own search and put back, whatever characters their deck names hold; cards in a filtered
deck are left where the user studies them; and a re-sync asks Anki only what it needs (against the
strict loopback imitation of the add-on, `ankiconnect_fake.py`, whose searches are Anki's own)."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402
from ankiconnect_fake import running  # noqa: E402

from notecards.sync import sync_vault  # noqa: E402

ID_RE = re.compile(r"<!--ID: (\d+)-->")
# deck names Anki's search would misread unless escaped, each with the deck a user moves a card to
# that an unescaped search would count as the same deck (a wildcard, a subdeck, a prefix)
TRICKY = {
    "a_b": "aXb",                                  # `_` is a one-character wildcard
    "Star*": "Starlight",                          # `*` is any run of characters
    'Maths::Stats "quoted"': 'Maths::Stats "quoted"::Sub',     # a subdeck is another deck
    "Space deck (1) -x": "Space deck (1) -x::Child",
    "back\\slash: yes": "Elsewhere",
}


@pytest.fixture
def anki(tmp_path):
    with running(tmp_path / "collection.anki2") as fake:
        yield fake


def _vault(tmp_path, decks: list[str], cards: int = 3):
    vault = tmp_path / "vault"
    vault.mkdir()
    for i, deck in enumerate(decks):
        blocks = "\n".join(f"START\nBasic\nQuestion {i}.{c}\nBack: Answer {i}.{c}\nEND\n" for c in range(cards))
        (vault / f"n{i}.md").write_text(f"TARGET DECK: {deck}\n\n{blocks}", encoding="utf-8")
    return vault


def _ids(path) -> list[int]:
    return [int(n) for n in ID_RE.findall(path.read_text(encoding="utf-8"))]


def _decks(col: Collection, nid: int) -> set[str]:
    return {col.decks.name(c.did) for c in col.get_note(nid).cards()}


def _study_in_filtered_deck(col: Collection, nid: int) -> int:
    """The user builds a filtered deck holding this note's cards (Tools > Create Filtered Deck)."""
    deck = col.sched.get_or_create_filtered_deck(deck_id=0)
    deck.name = "Cram"
    deck.config.search_terms[0].search = f"nid:{nid}"
    return col.sched.add_or_update_filtered_deck(deck).id


def test_cards_moved_by_hand_go_back_whatever_their_deck_names_hold(tmp_path, anki):
    decks = list(TRICKY) + ["Studied"]
    vault = _vault(tmp_path, decks)
    first = sync_vault(vault, ankiconnect=anki.url)
    assert first.exit_code() == 0, first.summary()
    col = anki.col
    for i, deck in enumerate(decks):
        assert all(_decks(col, nid) == {deck} for nid in _ids(vault / f"n{i}.md"))
    moved = {}
    for i, (deck, elsewhere) in enumerate(TRICKY.items()):
        nid = _ids(vault / f"n{i}.md")[1]
        col.set_deck(col.get_note(nid).card_ids(), col.decks.id(elsewhere, create=True))
        moved[nid] = deck
    studied = _ids(vault / f"n{len(TRICKY)}.md")[0]          # moved, then pulled into a filtered deck
    col.set_deck(col.get_note(studied).card_ids(), col.decks.id("Moved first", create=True))
    cram = _study_in_filtered_deck(col, studied)

    again = sync_vault(vault, ankiconnect=anki.url)          # no file changed
    assert again.exit_code() == 0 and again.done["move"] == len(TRICKY), again.summary()
    assert again.files_read == len(TRICKY)                    # the files of the moved cards only
    for nid, deck in moved.items():
        assert _decks(col, nid) == {deck}
    assert _decks(col, studied) == {"Cram"}                   # left where the user studies it
    anki.actions.clear()
    quiet = sync_vault(vault, ankiconnect=anki.url)
    assert quiet.plan.is_empty() and quiet.files_read == 0, quiet.summary()
    assert "notesInfo" not in {action for action, _ in anki.actions}      # the searches sufficed
    col.sched.empty_filtered_deck(cram)                       # done studying: the card goes home,
    home = sync_vault(vault, ankiconnect=anki.url)            # to the deck it was moved to by hand
    assert home.exit_code() == 0 and home.done["move"] == 1, home.summary()
    assert _decks(col, studied) == {"Studied"}
    assert len(col.find_notes("")) == 3 * len(decks)


def test_an_unchanged_resync_is_one_request_that_reads_no_note(tmp_path, anki):
    vault = _vault(tmp_path, [f"Deck {i % 3}" for i in range(12)], cards=5)
    assert sync_vault(vault, ankiconnect=anki.url).exit_code() == 0
    anki.requests.clear()
    anki.actions.clear()
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.plan.is_empty() and report.files_read == 0, report.summary()
    assert anki.requests == ["multi"]
    asked = {action for action, _ in anki.actions}
    assert asked.isdisjoint({"notesInfo", "getDecks", "cardsInfo"}), asked


def test_one_edited_file_reads_only_its_own_notes(tmp_path, anki):
    vault = _vault(tmp_path, [f"Deck {i % 3}" for i in range(12)], cards=5)
    assert sync_vault(vault, ankiconnect=anki.url).exit_code() == 0
    note = vault / "n4.md"
    note.write_text(note.read_text().replace("Answer 4.2", "Answer 4.2, edited"), encoding="utf-8")
    anki.requests.clear()
    anki.actions.clear()
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0 and report.done["update"] == 1, report.summary()
    read = [nid for action, params in anki.actions if action == "notesInfo" for nid in params["notes"]]
    assert sorted(read) == sorted(_ids(note))
    assert [params["note"] for action, params in anki.actions if action == "updateNote"] == \
        [{"id": _ids(note)[2], "fields": {"Front": "Question 4.2", "Back": "Answer 4.2, edited"}}]
    assert len(anki.requests) == 2, anki.actions       # what Anki holds and the edited notes; the update
    assert anki.col.get_note(_ids(note)[2])["Back"] == "Answer 4.2, edited"


def test_anki_closing_its_profile_while_the_sync_reads_is_one_line(tmp_path, anki):
    """The user closes the profile between the sync's first request and its reading of the edited
    notes: one line, nothing changed, and the next run does the edit."""
    vault = _vault(tmp_path, ["Deck"])
    assert sync_vault(vault, ankiconnect=anki.url).exit_code() == 0
    note = vault / "n0.md"
    note.write_text(note.read_text().replace("Answer 0.0", "Edited"), encoding="utf-8")
    before = note.read_text()
    read = anki.do_notesInfo

    def profile_closed(notes):
        anki.profile_picker = True
        return read(notes)
    anki.do_notesInfo = profile_closed
    stopped = sync_vault(vault, ankiconnect=anki.url)
    assert stopped.exit_code() == 1 and "\n" not in stopped.problem, stopped.summary()
    assert "profile picker" in stopped.problem and stopped.problem.endswith("nothing changed")
    assert note.read_text() == before
    anki.profile_picker = False
    anki.do_notesInfo = read
    done = sync_vault(vault, ankiconnect=anki.url)
    assert done.exit_code() == 0 and done.done["update"] == 1, done.summary()
    assert anki.col.get_note(_ids(note)[0])["Back"] == "Edited"
