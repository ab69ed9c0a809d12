"""Deck names as Anki keeps them: the vault's deck and the collection's must agree, or every sync
moves the cards again."""

from __future__ import annotations

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402

from notecards.deck_names import anki_deck_name, same_deck  # noqa: E402
from notecards.sync import sync_vault  # noqa: E402

NAMES = ["Stats :: Sub ", " A::::B ", "X ::  ", "a\tb", "Ünï :: ", "A:: B::C", "::lead", "x\u00a0:: y",
         "Cafe\u0301::Menu", "say \"hi\"", "a:b", "tail:", ":::", "Deck\x7f"]


@pytest.mark.parametrize("name", NAMES)
def test_a_deck_name_is_what_anki_makes_of_it(tmp_path, name):
    col = Collection(str(tmp_path / "c.anki2"))
    try:
        assert anki_deck_name(name) == col.decks.name(col.decks.id(name, create=True))
    finally:
        col.close()


def test_names_that_differ_in_case_or_spacing_are_one_deck():
    assert same_deck("Stats :: Sub", "stats::sub") and not same_deck("Stats::Sub", "Stats::Sub2")


def test_a_deck_written_with_spaces_round_its_separator_is_not_moved_on_every_sync(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text('---\ndeck: "Stats :: Sub "\n---\nSTART\nBasic\nQ1\nBack: A1\nEND\n', encoding="utf-8")
    collection = tmp_path / "c.anki2"
    Collection(str(collection)).close()
    assert sync_vault(vault, collection=collection).exit_code() == 0
    again = sync_vault(vault, collection=collection)          # re-reads the file: its ID line is new
    assert again.plan.counts()["update"] == again.plan.counts()["move"] == 0, again.summary()
    col = Collection(str(collection))
    try:
        assert [col.decks.name(c.did) for c in (col.get_card(i) for i in col.find_cards(""))] == ["Stats::Sub"]
    finally:
        col.close()
