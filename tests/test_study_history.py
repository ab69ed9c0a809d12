"""History files: user data appended, never rewritten; merged across devices; cached replay."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta, timezone
from pathlib import Path

from conftest import write
from notecards.study.engine import Study
from notecards.study.events import card_id
from test_study_schedule import T0, Clock, basic_vault

HISTORY = "study-history"


def open_study(vault: Path, clock: Clock, device: str = "laptop") -> Study:
    return Study.open(vault, clock=clock, tz=timezone.utc, device=device, simulate=False)


def study_some(study: Study, clock: Clock, answers: int, ratings=(3, 1, 4, 2)) -> None:
    for i in range(answers):
        card = study.next_card()
        if card is None:
            clock.advance(days=1)
            card = study.next_card()
        study.answer(card.id, ratings[i % len(ratings)], 1000 + i)
        clock.advance(minutes=7)


def schedule_of(study: Study) -> dict[str, tuple]:
    return {cid: (s.queue, s.due, s.reps, s.lapses, round(s.stability or 0, 9))
            for cid, s in study.replay.states.items()}


def test_answers_are_one_json_line_each_in_this_devices_file(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 3), clock)
    study_some(study, clock, 3)
    lines = (tmp_path / HISTORY / "laptop.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["id"] for e in events] == ["laptop:1", "laptop:2", "laptop:3"]
    assert [e["type"] for e in events] == ["review"] * 3
    assert events[0]["time"] == "2026-03-02T09:00:00.000Z" and events[0]["ms"] == 1000
    assert {e["rating"] for e in events} == {3, 1, 4}


def test_two_devices_merged_in_either_order_give_the_same_schedule(tmp_path):
    base = basic_vault(tmp_path / "base" / "notes", 6)   # the vault's folder name is part of each GUID
    runs = {}
    for device, start in (("laptop", T0), ("phone", T0 + timedelta(minutes=3))):
        vault = tmp_path / device / "notes"
        shutil.copytree(base, vault)
        clock = Clock(start)
        study_some(open_study(vault, clock, device), clock, 12)
        runs[device] = (vault / HISTORY / f"{device}.jsonl").read_bytes()
    results = []
    for order in (("laptop", "phone"), ("phone", "laptop")):
        merged = tmp_path / f"merged-{order[0]}" / "notes"
        shutil.copytree(base, merged)
        for device in order:                     # files arrive one after the other, with a study in between
            write(merged, f"{HISTORY}/{device}.jsonl", runs[device].decode())
            study = open_study(merged, Clock(T0 + timedelta(days=3)), "desktop")
        results.append(schedule_of(study))
        cold = tmp_path / f"cold-{order[0]}" / "notes"
        shutil.copytree(merged, cold)
        shutil.rmtree(cold / ".notecards")
        assert schedule_of(open_study(cold, Clock(T0 + timedelta(days=3)), "desktop")) == results[-1]
    assert results[0] == results[1]
    assert sum(reps for _, _, reps, _, _ in results[0].values()) == 24   # both devices' answers count


def test_deleting_the_cache_changes_no_due_date(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 5), clock)
    study_some(study, clock, 20)
    study.undo()
    before = schedule_of(study)
    study.close()
    shutil.rmtree(tmp_path / ".notecards")
    assert schedule_of(open_study(tmp_path, clock)) == before


def test_warm_start_reads_only_new_lines_and_an_earlier_line_of_another_device_replays_its_card(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 4), clock)
    study_some(study, clock, 8)
    study.close()
    warm = open_study(tmp_path, clock)
    assert warm.replay.replayed_events == 0
    card = next(iter(warm.replay.states))
    guid, ordinal = warm.faces[card].guid, warm.faces[card].ordinal
    # the phone answered that card an hour before the laptop's first answer, offline
    early = {"id": "phone:1", "type": "review", "time": "2026-03-02T08:00:00.000Z", "guid": guid, "ord": ordinal,
             "rating": 1, "ms": 900}
    write(tmp_path, f"{HISTORY}/phone.jsonl", json.dumps(early) + "\n")
    warm.close()
    merged = open_study(tmp_path, clock)
    assert 0 < merged.replay.replayed_events < 8    # that card only, from its first event
    shutil.rmtree(tmp_path / ".notecards")
    assert schedule_of(open_study(tmp_path, clock)) == schedule_of(merged)


def test_corrupt_and_foreign_lines_are_warned_about_with_file_and_line_and_never_rewritten(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 2), clock)
    study_some(study, clock, 1)
    good = json.loads((tmp_path / HISTORY / "laptop.jsonl").read_text())
    card = {k: good[k] for k in ("guid", "ord")}
    lines = [
        "this is not json",
        json.dumps({"id": "tablet:1", "type": "review", "time": "2026-03-01T10:00:00Z", "guid": "no-such-card",
                    "ord": 1, "rating": 3}),
        json.dumps({"id": "tablet:2", "type": "teleport", "time": "2026-03-01T10:00:00Z", **card}),
        json.dumps({"id": "tablet:3", "type": "review", "time": "2031-01-01T00:00:00Z", **card, "rating": 3}),
        json.dumps({"id": "tablet:4", "type": "review", "time": "2026-03-01T10:00:00Z", **card, "rating": 7}),
        json.dumps({"id": "tablet:5", "type": "review", "time": "2026-03-01T11:00:00Z", **card, "rating": 3}),
    ]
    data = ("\n".join(lines) + "\n").encode() + b'{"id": "tablet:6", "guid": "\xff\xfe"}\n'
    path = tmp_path / HISTORY / "tablet.jsonl"
    path.write_bytes(data)
    for _ in range(2):                           # cold, then warm from the cache: the same warnings
        study = open_study(tmp_path, clock)
        warnings = [d.format() for d in study.diagnostics]
        assert warnings == [
            f"{HISTORY}/tablet.jsonl:1: warning: not JSON; line skipped, kept in the file",
            f"{HISTORY}/tablet.jsonl:2: warning: card no-such-card (card 1 of its note) is not in the vault; "
            "its 1 events are kept, unused until it comes back",
            f"{HISTORY}/tablet.jsonl:3: warning: unknown event type 'teleport'; line skipped, kept in the file",
            f"{HISTORY}/tablet.jsonl:4: warning: time 2031-01-01T00:00:00Z is in the future; line skipped, kept in the file",
            f"{HISTORY}/tablet.jsonl:5: warning: rating must be 1, 2, 3 or 4, not 7; line skipped, kept in the file",
            f"{HISTORY}/tablet.jsonl:7: warning: not UTF-8 text; line skipped, kept in the file",
        ]
        assert study.replay.states[card_id(card["guid"], card["ord"])].reps == 2   # laptop:1 and tablet:5
        study.answer(study.next_card().id, 3)
        assert path.read_bytes() == data


def test_a_torn_last_line_is_skipped_and_the_next_answer_starts_a_new_line(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 3), clock)
    study_some(study, clock, 2)
    study.close()
    own = tmp_path / HISTORY / "laptop.jsonl"
    whole = own.read_bytes()
    torn = whole + b'{"id":"laptop:3","type":"review","ti'
    own.write_bytes(torn)
    study = open_study(tmp_path, clock)
    assert [d.format() for d in study.diagnostics] == [
        f"{HISTORY}/laptop.jsonl:3: warning: last line is incomplete (a write cut short); skipped"]
    study.answer(study.next_card().id, 3)
    data = own.read_bytes()
    assert data.startswith(torn + b"\n")         # the torn bytes stay; the answer is on a line of its own
    assert json.loads(data.splitlines()[-1])["id"] == "laptop:3"
    again = open_study(tmp_path, clock)
    assert sum(s.reps for s in again.replay.states.values()) == 3
    assert [d.format() for d in again.diagnostics] == [
        f"{HISTORY}/laptop.jsonl:3: warning: not JSON; line skipped, kept in the file"]


def test_a_card_that_leaves_the_vault_keeps_its_history_and_gets_it_back(tmp_path):
    clock = Clock()
    note = "START\nBasic\nWhat is a prior?\nBack: A belief before data.\nEND\n"
    write(tmp_path, "keep.md", "START\nBasic\nStay\nBack: here\nEND\n")
    write(tmp_path, "bayes.md", note)
    study = open_study(tmp_path, clock)
    prior = next(c for c in map(study.card, study.faces) if "prior" in c.front_html)
    study.answer(prior.id, 4)
    (tmp_path / "bayes.md").unlink()
    study.refresh()
    assert prior.id not in study.faces
    assert any("is not in the vault" in d.message for d in study.diagnostics)
    write(tmp_path, "bayes.md", note)
    study.refresh()
    assert study.card(prior.id).state == "review"


CHILD = textwrap.dedent("""\
    import sys
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    from notecards.study.engine import Study

    t = [datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)]
    study = Study.open(Path(sys.argv[1]), clock=lambda: t[0], tz=timezone.utc, device="laptop", simulate=False)
    card = study.next_card()
    n = 0
    while True:
        study.answer(card.id, 3 if n % 2 else 1, n)
        n += 1
        if n == 20:
            print("ready", flush=True)
        t[0] += timedelta(seconds=1)
""")


def test_sigkill_while_appending_loses_at_most_the_line_being_written(tmp_path):
    basic_vault(tmp_path, 1)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    data = (tmp_path / HISTORY / "laptop.jsonl").read_bytes()
    whole = data[:data.rfind(b"\n") + 1].splitlines()
    assert len(whole) >= 20
    assert [json.loads(line)["id"] for line in whole] == [f"laptop:{i}" for i in range(1, len(whole) + 1)]
    study = open_study(tmp_path, Clock())
    assert sum(s.reps for s in study.replay.states.values()) == len(whole)
    assert all("incomplete" in d.message for d in study.diagnostics)
    study.answer(study.next_card().id, 3)
    last = (tmp_path / HISTORY / "laptop.jsonl").read_bytes().splitlines()[-1]
    assert json.loads(last)["id"] == f"laptop:{len(whole) + 1}"


def test_a_real_clock_gives_the_same_due_dates_after_the_cache_is_deleted(tmp_path):
    from datetime import datetime

    basic_vault(tmp_path, 3)
    study = Study.open(tmp_path, clock=lambda: datetime.now(timezone.utc), tz=timezone.utc, device="laptop",
                       simulate=False)
    for rating in (1, 3, 4, 3):
        study.answer(study.next_card().id, rating)
    before = schedule_of(study)
    study.close()
    shutil.rmtree(tmp_path / ".notecards")
    again = Study.open(tmp_path, clock=lambda: datetime.now(timezone.utc), tz=timezone.utc, device="laptop",
                       simulate=False)
    assert schedule_of(again) == before          # microseconds of the clock never reach the schedule


def test_a_damaged_cache_is_rebuilt_from_the_history(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 3), clock)
    study_some(study, clock, 6)
    before = schedule_of(study)
    study.close()
    (tmp_path / ".notecards" / "study.sqlite").write_bytes(b"this is not a database" * 100)
    assert schedule_of(open_study(tmp_path, clock)) == before


def test_a_history_file_replays_to_what_the_fsrs_package_computes(tmp_path):
    from fsrs import Card as FsrsCard
    from fsrs import Rating, Scheduler

    basic_vault(tmp_path, 1)
    probe = Study.open(tmp_path, clock=Clock(), tz=timezone.utc, device="laptop", simulate=False)
    face = next(iter(probe.faces.values()))
    card, theirs, when, lines = FsrsCard(card_id=1, due=T0), Scheduler(enable_fuzzing=False), T0, []
    for i, rating in enumerate([3, 3, 1, 3, 4, 2, 3]):
        lines.append(json.dumps({"id": f"phone:{i + 1}", "type": "review", "time": when.isoformat(),
                                 "guid": face.guid, "ord": face.ordinal, "rating": rating, "ms": 3000}))
        card, _ = theirs.review_card(card, Rating(rating), when)
        when = card.due + timedelta(hours=5)
    write(tmp_path, f"{HISTORY}/phone.jsonl", "\n".join(lines) + "\n")
    study = Study.open(tmp_path, clock=Clock(when), tz=timezone.utc, device="laptop", simulate=False, fuzz=False)
    state = study.replay.states[face.id]
    assert (state.due, state.stability, state.difficulty) == (card.due, card.stability, card.difficulty)
    assert study.card(face.id).due == card.due.isoformat()
