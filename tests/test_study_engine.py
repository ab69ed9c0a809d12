"""The Study engine over real vaults: cards and their HTML, identity across edits, moves and sync,
a read-only vault, the vault changing while the session runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from datetime import timezone
from pathlib import Path

import pytest

from conftest import SEEDS, run_cli, write
from notecards.study.engine import HistoryReadOnly, Study, UnknownCard
from test_study_schedule import Clock

HISTORY = "study-history"


def open_study(vault: Path, clock: Clock | None = None, **kw) -> Study:
    return Study.open(vault, clock=clock or Clock(), tz=timezone.utc, device="laptop", simulate=False, **kw)


def test_cards_follow_ankis_stock_templates(tmp_path):
    write(tmp_path, "n.md", textwrap.dedent("""\
        START
        Basic
        What is $x^2$?
        Back: A square.
        END

        START
        Basic (and reversed card)
        Forward
        Back: Backward
        END

        START
        Basic (optional reversed card)
        Only one way
        Back: one
        END

        START
        Basic (optional reversed card)
        Both ways
        Back: two
        Add Reverse: y
        END

        START
        Cloze
        The {{c1::mean}} and the {{c2::variance::spread}} of $$N$$
        END
        """))
    study = open_study(tmp_path)
    cards = sorted((study.card(cid) for cid in study.faces), key=lambda c: (c.line, c.ordinal))
    assert [(c.note_type, c.ordinal) for c in cards] == [
        ("Basic", 1), ("Basic (and reversed card)", 1), ("Basic (and reversed card)", 2),
        ("Basic (optional reversed card)", 1), ("Basic (optional reversed card)", 1),
        ("Basic (optional reversed card)", 2), ("Cloze", 1), ("Cloze", 2)]
    basic, fwd, rev = cards[:3]
    assert basic.front_html == r"What is \(x^2\)?"
    assert basic.back_html == r"What is \(x^2\)?<hr id=answer>A square."
    assert (rev.front_html, rev.back_html) == ("Backward", "Backward<hr id=answer>Forward")
    c1, c2 = cards[6:]
    assert c1.front_html == ('The <span class="cloze" data-ordinal="1">[...]</span> and the '
                             '<span class="cloze-inactive" data-ordinal="2">variance</span> of \\[N\\]')
    assert '<span class="cloze" data-ordinal="2">[spread]</span>' in c2.front_html
    assert '<span class="cloze" data-ordinal="2">variance</span>' in c2.back_html
    assert json.loads(json.dumps(study.card(c1.id).to_dict()))["state"] == "new"


def test_nested_cloze_renders_as_anki_does():
    from notecards.study.cards import render_cloze

    text = "{{c1::outer {{c2::inner}} end}} and \\(\\frac{a}{b}\\)"
    assert render_cloze(text, 2, answer=False) == (
        '<span class="cloze-inactive" data-ordinal="1">outer <span class="cloze" data-ordinal="2">[...]</span>'
        ' end</span> and \\(\\frac{a}{b}\\)')
    assert render_cloze(text, 1, answer=False) == '<span class="cloze" data-ordinal="1">[...]</span> and \\(\\frac{a}{b}\\)'


def test_media_and_figures_on_the_answer_side(tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 4), "red").save(tmp_path / "plot.png")
    write(tmp_path, "n.md", "START\nBasic\nWhat does it look like?\nBack: ![[plot.png]]\nEND\n")
    study = open_study(tmp_path)
    card = study.next_card()
    [name] = [n for n in study._media]
    assert f'src="{name}"' in card.back_html and name not in card.front_html
    assert study.media(name).read() == (tmp_path / "plot.png").read_bytes()
    assert study.media("../secret.png") is None


def test_a_sim_card_shows_its_figures_only_on_the_back(tmp_path):
    write(tmp_path, "m.md", "START\nBasic\nVariance of X?\nBack: They add.\n\n```sim\nlambda = 4\nsigma = 1\n"
                            "theta ~ Normal(0, lambda)\nX ~ Normal(theta, sigma^2)\ncheck: var(X) ≈ lambda + sigma^2\n"
                            "```\nEND\n")
    study = Study.open(tmp_path, clock=Clock(), tz=timezone.utc, device="laptop", simulate=True)
    card = study.next_card()
    assert "nc-sim" in card.back_html and "nc-sim" not in card.front_html
    assert "<img" in card.back_html


def test_no_cards_says_so(tmp_path):
    write(tmp_path, "n.md", "# just prose\n")
    study = open_study(tmp_path)
    assert study.next_card() is None and study.decks() == []
    assert any("no cards" in d.message for d in study.diagnostics)


def test_unknown_card_and_bad_rating_are_refused_without_writing(tmp_path):
    write(tmp_path, "n.md", "START\nBasic\nQ\nBack: A\nEND\n")
    study = open_study(tmp_path)
    with pytest.raises(UnknownCard):
        study.answer("00-1", 3)
    with pytest.raises(ValueError):
        study.answer(study.next_card().id, 7)
    assert not (tmp_path / HISTORY).exists()


def test_history_folder_and_device_from_notecards_toml(tmp_path):
    write(tmp_path, "n.md", "START\nBasic\nQ\nBack: A\nEND\n")
    write(tmp_path, "notecards.toml", '[study]\nhistory_folder = "reviews/log"\ndevice = "My Phone"\n')
    study = Study.open(tmp_path, clock=Clock(), tz=timezone.utc, simulate=False)
    study.answer(study.next_card().id, 3)
    assert (tmp_path / "reviews/log/my-phone.jsonl").is_file()
    write(tmp_path, "notecards.toml", '[study]\nhistory_folder = ".hidden"\n')
    study = Study.open(tmp_path, clock=Clock(), tz=timezone.utc, simulate=False)
    assert [d.format().split(" must ")[0] for d in study.diagnostics] == [
        "notecards.toml:2: error: [study] history_folder"]
    assert study.study_settings.history_folder == HISTORY


def test_editing_the_text_keeps_the_history(tmp_path):
    write(tmp_path, "n.md", "START\nBasic\nWhat is a prior?\nBack: belief\nEND\n")
    clock = Clock()
    study = open_study(tmp_path, clock)
    card = study.next_card()
    study.answer(card.id, 4)
    write(tmp_path, "n.md", "START\nBasic\nWhat is a *prior* distribution?\nBack: belief before data\nEND\n")
    study.refresh()
    edited = study.card(card.id)
    assert "distribution" in edited.front_html      # the new text shows on the next card …
    assert edited.state == "review"                 # … with its history


def test_moving_the_file_keeps_the_history(tmp_path):
    write(tmp_path, "inbox/n.md", "START\nBasic\nQ1\nBack: A\nEND\n\nSTART\nBasic\nQ2\nBack: B\nEND\n")
    clock = Clock()
    study = open_study(tmp_path, clock)
    card = study.next_card()
    study.answer(card.id, 4)
    study.close()
    (tmp_path / "stats").mkdir()
    shutil.move(tmp_path / "inbox/n.md", tmp_path / "stats/n.md")
    moved = open_study(tmp_path, clock)
    assert moved.card(card.id).path == "stats/n.md"
    assert moved.card(card.id).state == "review"


def test_syncing_to_anki_writes_id_lines_and_the_history_follows(tmp_path):
    from anki.collection import Collection

    vault = tmp_path / "notes"
    write(vault, "n.md", "START\nBasic\nQ1\nBack: A\nEND\n\nSTART\nCloze\nThe {{c1::mean}} {{c2::var}}\nEND\n")
    clock = Clock()
    study = open_study(vault, clock)
    answered = []
    for _ in range(2):
        card = study.next_card()
        study.answer(card.id, 4)
        answered.append((card.ordinal, card.front_html))
    study.close()
    Collection(str(tmp_path / "collection.anki2")).close()
    run_cli("sync", vault, "--collection", tmp_path / "collection.anki2", check=True)
    assert (vault / "n.md").read_text().count("<!--ID:") == 2
    for keep_state in (True, False):
        if not keep_state:
            shutil.rmtree(vault / ".notecards")     # and without the state: the positional GUID is found
            lines = (vault / HISTORY / "laptop.jsonl").read_text().splitlines()
            (vault / HISTORY / "laptop.jsonl").write_text("\n".join(lines[:2]) + "\n")   # no alias events
        synced = open_study(vault, clock)
        states = {(c.ordinal, c.front_html): c.state for c in map(synced.card, synced.faces)}
        assert [states[a] for a in answered] == ["review", "review"]
    open_study(vault, clock).close()                # once linked, never linked again
    aliases = [json.loads(x) for x in (vault / HISTORY / "laptop.jsonl").read_text().splitlines()[2:]]
    assert [a["type"] for a in aliases] == ["alias", "alias"]


CHILD = textwrap.dedent("""\
    import json, os, sys
    from datetime import datetime, timezone
    from pathlib import Path
    from notecards.study.engine import HistoryReadOnly, Study
    import notecards.pipeline, notecards.parse, notecards.render, notecards.embed_check, sqlite3, tomllib, encodings.idna
    if os.geteuid() == 0:     # root writes anywhere: become nobody (everything imported first)
        os.setgid(65534)
        os.setuid(65534)
    study = Study.open(Path(sys.argv[1]), clock=lambda: datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
                       tz=timezone.utc, device="laptop", simulate=False)
    card = study.next_card()
    try:
        study.answer(card.id, 3)
        saved = "saved"
    except HistoryReadOnly as exc:
        saved = str(exc)
    print(json.dumps({"writable": study.writable, "reason": study.read_only_reason, "front": card.front_html,
                      "answer": saved, "decks": [d.to_dict() for d in study.decks()]}))
""")


def test_a_read_only_vault_studies_but_says_answers_cannot_be_saved():
    tmp_path = Path(tempfile.mkdtemp(prefix="nc-ro-"))     # pytest's tmp is private to root; nobody must reach it
    vault = tmp_path / "ro"
    write(vault, "n.md", "START\nBasic\nQ\nBack: A\nEND\n")
    open_study(vault).close()                     # a cache from an earlier, writable session
    before = {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()}
    for p in [vault, *vault.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    tmp_path.chmod(0o755)
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
        proc = subprocess.run([sys.executable, "-c", CHILD, str(vault)], capture_output=True, text=True, env=env,
                              timeout=120, cwd="/")
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        after = {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()}
    finally:
        for p in [vault, *vault.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(tmp_path)
    assert out["writable"] is False and "not writable" in out["reason"]
    assert out["front"] == "Q" and out["decks"][0]["new"] == 1
    assert "not writable" in out["answer"]
    assert after == before


def test_study_survives_the_seed_notes(tmp_path):
    for seed in sorted(SEEDS.glob("*.txt"))[:6]:
        shutil.copy(seed, tmp_path / seed.name)
    study = Study.open(tmp_path, clock=Clock(), tz=timezone.utc, device="laptop", simulate=False,
                       extensions=[".txt"])
    clock_answers = 0
    while (card := study.next_card()) is not None and clock_answers < 30:
        assert study.intervals(card.id)[3]
        study.answer(card.id, 3)
        clock_answers += 1
    assert clock_answers > 0
