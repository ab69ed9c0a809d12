"""Every card of the example vault and of the user's seed notes, as Anki's reviewer shows it on a
phone (tests/card_pages.py builds the page): each answer side laid out in Debian's Chromium at
390 px, light and night, with MathJax typesetting the math. Two ways the cards reach Anki:

- exported, then imported into a real collection with the `anki` package: the notecards note
  types, whose CSS is ours;
- synced (`notecards sync --collection`, a real subprocess) into a fresh collection, which, like
  every real user's, already has Anki's stock `Basic` and `Cloze`: the cards become notes of
  those types, with the stock CSS the user owns (`.card { font-family: arial; … }`), so a
  caption or table that leans on our CSS shows here.

On each: no sideways scroll, figures inside the screen and loaded, a table too wide for the
screen scrolls inside its own box, no word of a table cell broken over two lines, pass/fail
marks in view and coloured apart from the text and the background, and no figure mostly white
at night.

Set NOTECARDS_SHOTS=<folder> to also keep screenshots of every card with a figure at 390 and
1280 px, light and night.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from card_pages import LAUNCH_ARGS, cards_of, check_cards, vault_of_examples_and_seeds
from conftest import import_apkg, run_cli

SHOTS = Path(os.environ["NOTECARDS_SHOTS"]) if os.environ.get("NOTECARDS_SHOTS") else None
WIDTHS = (390, 1280) if SHOTS else (390,)


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    return vault_of_examples_and_seeds(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def exported(vault):
    """The cards of the exported deck imported into a collection, and its media folder."""
    pytest.importorskip("anki")
    from anki.collection import Collection

    root = vault.parent
    run_cli("export", vault, "-o", root / "deck.apkg", check=True)
    col = Collection(str(root / "imported.anki2"))
    try:
        import_apkg(col, root / "deck.apkg")
        return cards_of(col), Path(col.media.dir())
    finally:
        col.close()


@pytest.fixture(scope="module")
def synced(vault, exported):
    """The cards synced into a fresh collection (stock note types), its media folder, and the
    note type of each card. The sync runs on a copy of the vault (it writes ID lines), made after
    the export so that the simulations' cache is reused."""
    from anki.collection import Collection

    root = vault.parent
    copy = root / "synced-vault"
    shutil.copytree(vault, copy)
    path = root / "synced.anki2"
    Collection(str(path)).close()                    # a new profile's collection: stock types only
    run_cli("sync", copy, "--collection", path, check=True)
    col = Collection(str(path))
    try:
        types = {cid: col.get_card(cid).note().note_type() for cid in col.find_cards("")}
        return cards_of(col), Path(col.media.dir()), [types[cid] for cid in sorted(types)]
    finally:
        col.close()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        yield instance
        instance.close()


def test_every_exported_card_fits_a_phone_light_and_night(exported, browser):
    cards, media = exported
    found = check_cards(browser, media, cards, WIDTHS, SHOTS, prefix="card")
    assert found.figures > 0 and found.marks > 0
    assert not found.problems + found.wide_math, "\n".join(found.problems + found.wide_math)


@pytest.fixture(scope="module")
def in_stock_basic(synced, browser):
    """What the synced cards look like in the user's stock note types, at every width and theme."""
    cards, media, note_types = synced
    model_cards = [i for i, c in enumerate(cards) if 'class="nc-fig"' in c.answer]
    assert model_cards, "the example vault's model cards carry figures"
    for i in model_cards:                            # the user's own stock type, CSS knowing nothing of ours
        assert note_types[i]["name"] == "Basic"
        assert "nc-" not in note_types[i]["css"] and "font-family: arial" in note_types[i]["css"]
    found = check_cards(browser, media, cards, WIDTHS, SHOTS, prefix="basic")
    assert found.figures >= len(model_cards) and found.marks > 0
    return found


def test_every_synced_card_fits_a_phone_in_stock_basic_light_and_night(in_stock_basic):
    assert not in_stock_basic.problems, "\n".join(in_stock_basic.problems)
