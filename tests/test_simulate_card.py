"""One way to simulate a card: `notecards sim` draws exactly what the export drew, and
`simulate_card` (the study server's sliders) sets a model's constants and shares the cache."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from conftest import run_cli, write

from notecards.config import Settings
from notecards.models.card import simulate_card
from notecards.pipeline import BuildOptions, build

SIM_CARD = ("START\nBasic\nWhat is Var(X)?\nBack: lambda plus one.\n```sim\nlambda = 4\n"
            "theta ~ Normal(0, lambda)\nX ~ Normal(theta, 1)\nn = 2000\n```\nEND\n")
PLAIN_CARD = "START\nBasic\nA question\nBack: an answer\nEND\n"


def package_media(apkg: Path) -> set[str]:
    with zipfile.ZipFile(apkg) as z:
        return set(json.loads(z.read("media")).values())


def test_notecards_sim_draws_what_the_export_drew_after_a_card_was_inserted_above(tmp_path):
    """The card has no ID line, so its identity (and seed) comes from the export state, which
    follows it down the note; a report working out identity by position would draw other numbers."""
    vault = tmp_path / "vault"
    note = write(vault, "models.md", PLAIN_CARD + "\n" + SIM_CARD)
    run_cli("export", vault, "-o", tmp_path / "first.apkg", check=True)
    write(vault, "models.md", PLAIN_CARD + "\n" + PLAIN_CARD.replace("A question", "A new question")
          + "\n" + SIM_CARD)
    run_cli("export", vault, "-o", tmp_path / "second.apkg", check=True)
    exported = {n for n in package_media(tmp_path / "second.apkg") if n.startswith("nc-sim-")}
    assert exported == {n for n in package_media(tmp_path / "first.apkg") if n.startswith("nc-sim-")}

    line = note.read_text(encoding="utf-8").split("\n").index("What is Var(X)?") + 1
    done = run_cli("sim", f"{note}:{line}", "--json", "-o", tmp_path / "figures")
    assert done.returncode == 0, done.stdout + done.stderr
    [card] = json.loads(done.stdout)["cards"]
    assert {Path(p).name for p in card["figures"]} == exported


def built_card(vault: Path):
    built = build(vault, Settings(), None, BuildOptions(simulate=False, read_only=True))
    [card] = built.cards
    return card, built.parsed[0].source.text


def test_a_slider_value_redraws_the_card_and_comes_from_the_cache_the_second_time(tmp_path):
    vault = tmp_path / "vault"
    write(vault, "models.md", SIM_CARD)
    card, text = built_card(vault)
    cache = tmp_path / "sims"
    plain = simulate_card(card, text, cache).outcome
    moved = simulate_card(card, text, cache, overrides={"lambda": 9.0})
    assert moved.diagnostics == [] and moved.outcome.rendered
    assert "λ = 9<" in moved.outcome.html and "λ = 4<" in plain.html   # the caption states the values drawn
    assert moved.outcome.figures[0].name != plain.figures[0].name
    again = simulate_card(card, text, cache, overrides={"lambda": 9.0}).outcome
    assert not again.rendered and again.figures[0].data == moved.outcome.figures[0].data
    assert simulate_card(card, text, cache).outcome.figures[0].name == plain.figures[0].name


def test_a_slider_on_something_that_is_not_a_constant_or_out_of_the_laws_support_is_an_error(tmp_path):
    vault = tmp_path / "vault"
    write(vault, "models.md", SIM_CARD)
    card, text = built_card(vault)
    drawn = simulate_card(card, text, tmp_path / "sims", overrides={"theta": 1.0})
    assert drawn.outcome is None
    assert [(d.severity, d.message) for d in drawn.diagnostics] == [
        ("error", "theta cannot be set: not a constant of this model")]
    negative = simulate_card(card, text, tmp_path / "sims", overrides={"lambda": -1.0})
    assert negative.outcome is None and "variance must be > 0" in negative.diagnostics[0].message
