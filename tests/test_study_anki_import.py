"""Anki history import: a real collection, synced from a real vault and studied with Anki's own
scheduler (`col.sched.answer_card`), imported into the vault's history; the FSRS state it gives
must be the state of the same answers given in notecards at the same moments."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import run_cli, write
from notecards.study.anki_import import CollectionBusy, import_anki_history
from notecards.study.engine import Study

HISTORY = "study-history"
NOTES = """\
START
Basic
Q one
Back: A one
END

START
Basic (and reversed card)
Q two
Back: A two
END

START
Cloze
The {{c1::mean}} and {{c2::variance}}
END
"""


def _answer(col, cid: int, rating: int) -> None:
    from anki.scheduler.v3 import CardAnswer

    card = col.get_card(cid)
    card.start_timer()
    states = col._backend.get_scheduling_states(card.id)
    choice = getattr(CardAnswer, {1: "AGAIN", 2: "HARD", 3: "GOOD", 4: "EASY"}[rating])
    col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=choice))


def _memory(row: tuple) -> str | None:
    """What Anki's FSRS makes of a revlog row (id, cid, ease, type, factor): an answer, a reset
    (Forget), or nothing (set due date, cramming in a preview deck)."""
    _, _, ease, kind, factor = row
    if kind == 4:
        return "reset" if ease == 0 and factor == 0 else None
    return "review" if ease and not (kind == 3 and factor == 0) else None


def _synced_vault(tmp_path: Path) -> tuple[Path, Path, int]:
    """A vault synced to a new collection, plus an Obsidian_to_Anki-style block: a note made in
    Anki whose id the block's ID line carries (its GUID is Anki's own). Returns the O2A note id."""
    from anki.collection import Collection

    vault, path = tmp_path / "notes", tmp_path / "collection.anki2"
    write(vault, "n.md", NOTES)
    Collection(str(path)).close()
    run_cli("sync", vault, "--collection", path, check=True)
    col = Collection(str(path))
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "Q o2a", "A o2a"
    col.add_note(note, col.decks.id("Default"))
    foreign = col.new_note(col.models.by_name("Basic"))
    foreign["Front"], foreign["Back"] = "not in the vault", "x"
    col.add_note(foreign, col.decks.id("Default"))
    col.close()
    write(vault, "o2a.md", f"START\nBasic\nQ o2a\nBack: A o2a\n<!--ID: {note.id}-->\nEND\n")
    return vault, path, note.id


def _study_in_anki(path: Path) -> tuple[dict[int, tuple[str, int]], list[tuple]]:
    """Answers, a set due date, a Forget and a cram in a preview deck, as a person does in Anki.
    Returns Anki card id -> (its note's first field, ord), and the revlog rows."""
    from anki.collection import Collection

    col = Collection(str(path))
    cards = {}
    for nid in col.db.list("select id from notes"):
        note = col.get_note(nid)
        for card in note.cards():
            cards[card.id] = (note.fields[0], card.ord)
    by_text = {v: k for k, v in cards.items()}
    one, two_back, cloze2, o2a = (by_text[("Q one", 0)], by_text[("Q two", 1)],
                                 by_text[("The {{c1::mean}} and {{c2::variance}}", 1)], by_text[("Q o2a", 0)])
    for cid, ratings in ((one, [3, 3, 1, 3, 4]), (two_back, [1, 2, 3]), (o2a, [4]),
                         (by_text[("not in the vault", 0)], [3])):
        for rating in ratings:
            _answer(col, cid, rating)
    col.sched.set_due_date([one], "5")                 # a manual row: no memory in it
    col.sched.schedule_cards_as_new([two_back])        # Forget: the card is new again
    _answer(col, two_back, 3)
    deck = col.decks.new_filtered("Preview")
    config = col.decks.get(deck)
    config["resched"], config["terms"] = False, [[f"cid:{cloze2}", 10, 0]]
    col.decks.save(config)
    col.sched.rebuild_filtered_deck(deck)
    _answer(col, cloze2, 2)                            # cramming: Anki's FSRS ignores it
    col.sched.empty_filtered_deck(deck)
    rows = col.db.all("select id, cid, ease, type, factor from revlog order by id")
    col.close()
    assert {r[3] for r in rows} >= {0, 1, 3, 4}, rows        # learn, review, filtered and manual rows
    return cards, rows


def _give_in_notecards(vault: Path, cards, rows) -> dict[str, dict]:
    """The same answers given in notecards, each at its Anki moment; the states they lead to."""
    moment = [datetime.now(timezone.utc)]
    study = Study.open(vault, device="laptop", simulate=False, clock=lambda: moment[0], tz=timezone.utc)
    faces = {(f.note.fields[next(iter(f.note.fields))], f.ordinal): f.id for f in study.faces.values()}
    for rid, cid, ease, kind, factor in rows:
        text, ordinal = cards[cid]
        face = faces.get((text, ordinal + 1))
        if face is None:
            continue
        moment[0] = datetime.fromtimestamp(rid / 1000, timezone.utc)
        if _memory((rid, cid, ease, kind, factor)) == "reset":
            study.reset(face)
        elif _memory((rid, cid, ease, kind, factor)) == "review":
            study.answer(face, ease)
    states = _states(study)
    study.close()
    return states


def _states(study: Study) -> dict[str, dict]:
    return {cid: {k: v for k, v in state.to_dict().items() if k != "last_key"}
            for cid, state in study.replay.states.items()}


def test_anki_reviews_give_the_same_fsrs_state_as_the_same_answers_in_notecards(tmp_path):
    vault, path, _ = _synced_vault(tmp_path)
    by_hand = tmp_path / "by-hand" / "notes"                 # the same vault (same name, same GUIDs)
    shutil.copytree(vault, by_hand)
    cards, rows = _study_in_anki(path)

    report = import_anki_history(vault, path, device="laptop")

    assert (report.notes, report.other_notes) == (4, 1)
    assert (report.reviews, report.resets) == (10, 1)       # the foreign note's answer is not taken
    assert report.skipped == {"set due date": 1, "cramming": 1}
    lines = [json.loads(x) for x in (vault / HISTORY / "laptop.jsonl").read_text().splitlines()]
    imported = [x for x in lines if x["id"].startswith("anki.revlog:")]
    ours = [r for r in rows if cards[r[1]][0] != "not in the vault" and _memory(r)]
    assert [(x["id"], x["type"], x.get("rating")) for x in imported] == [
        (f"anki.revlog:{r[0]}", _memory(r), r[2] if _memory(r) == "review" else None) for r in ours]
    assert [x["time"] for x in imported] == [
        datetime.fromtimestamp(r[0] / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for r in ours]

    after = Study.open(vault, device="laptop", simulate=False, tz=timezone.utc)
    imported_states = _states(after)
    assert not [d for d in after.diagnostics if "not in the vault" in d.message]
    after.close()
    expected = _give_in_notecards(by_hand, cards, rows)
    assert imported_states == expected
    assert len(expected) == 3 and {s["queue"] for s in expected.values()} >= {"review", "learning"}  # cram only: new


def test_importing_twice_adds_nothing(tmp_path):
    vault, path, _ = _synced_vault(tmp_path)
    _study_in_anki(path)
    first = import_anki_history(vault, path, device="laptop")
    before = (vault / HISTORY / "laptop.jsonl").read_bytes()
    again = import_anki_history(vault, path, device="laptop")
    assert (again.reviews, again.resets, again.already) == (0, 0, first.reviews + first.resets)
    assert (vault / HISTORY / "laptop.jsonl").read_bytes() == before
    # another device that has the first device's file adds nothing either
    other = import_anki_history(vault, path, device="phone")
    assert other.reviews == 0 and not (vault / HISTORY / "phone.jsonl").exists()


def test_a_collection_open_in_anki_is_said_plainly_and_nothing_is_imported(tmp_path):
    from anki.collection import Collection

    vault, path, _ = _synced_vault(tmp_path)
    _study_in_anki(path)
    history = vault / HISTORY
    before = {p.name: p.read_bytes() for p in history.glob("*")} if history.exists() else {}
    held = Collection(str(path))                    # Anki running with this profile
    try:
        with pytest.raises(CollectionBusy, match="Anki has this collection open"):
            import_anki_history(vault, path, device="laptop")
        proc = run_cli("history", "import", vault, path)
        assert proc.returncode == 1 and "Anki has this collection open" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        held.close()
    after = {p.name: p.read_bytes() for p in history.glob("*")} if history.exists() else {}
    assert after == before
    proc = run_cli("history", "import", vault, path, check=True)
    assert "imported 10 reviews and 1 reset of 3 cards into study-history/" in proc.stdout
    assert "1 row skipped: set due date" in proc.stdout and "1 row skipped: cramming" in proc.stdout
    assert "nothing new to import" in run_cli("history", "import", vault, path, check=True).stdout


def test_a_missing_collection_is_an_error_not_a_traceback(tmp_path):
    write(tmp_path / "notes", "n.md", NOTES)
    proc = run_cli("history", "import", tmp_path / "notes", tmp_path / "nope.anki2")
    assert proc.returncode == 1 and "no Anki collection at" in proc.stderr and "Traceback" not in proc.stderr
