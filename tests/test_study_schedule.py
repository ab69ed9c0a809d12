"""Scheduling: FSRS as the `fsrs` package computes it, Anki's steps, limits, day start, siblings, leeches."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler

from conftest import write
from notecards.study.engine import Study
from notecards.study.schedule import CardState, Schedule, interval_label
from notecards.study.settings import StudySettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A fixed clock the test moves by hand."""

    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def basic_vault(root: Path, n: int, deck: str = "Stats") -> Path:
    cards = "".join(f"START\nBasic\nQuestion {i}?\nBack: Answer {i}.\nEND\n\n" for i in range(n))
    write(root, "notes.md", f"TARGET DECK: {deck}\n\n{cards}")
    return root


def open_study(vault: Path, clock: Clock, **kw) -> Study:
    return Study.open(vault, clock=clock, tz=timezone.utc, device="laptop", simulate=False, **kw)


def test_replay_matches_the_fsrs_package_for_the_same_history():
    ratings = [3, 3, 1, 3, 2, 4, 3, 1, 1, 3, 3, 4]
    ours = Schedule(StudySettings(), fuzz=False)
    theirs = Scheduler(enable_fuzzing=False)
    state, card, when = CardState(), FsrsCard(card_id=1, due=T0), T0
    for rating in ratings:
        state = ours.review(state, rating, when, "c")
        card, _ = theirs.review_card(card, Rating(rating), when)
        assert state.due == card.due
        assert state.stability == pytest.approx(card.stability, rel=1e-12)
        assert state.difficulty == pytest.approx(card.difficulty, rel=1e-12)
        assert state.queue == card.state.name.lower()
        when = card.due + timedelta(hours=3)     # answered a little late, as people do


def test_engine_intervals_are_anki_defaults_for_a_new_card(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 1), clock, fuzz=False)
    card = study.next_card()
    assert card.state == "new"
    theirs = Scheduler(enable_fuzzing=False)
    expected = {r: theirs.review_card(FsrsCard(card_id=1, due=T0), Rating(r), T0)[0].due - T0 for r in (1, 2, 3, 4)}
    assert study.intervals(card.id) == {r: interval_label(d) for r, d in expected.items()}
    assert study.intervals(card.id)[1] == "1m" and study.intervals(card.id)[3] == "10m"


def test_fuzz_is_deterministic_and_within_the_fsrs_range():
    ours, plain = Schedule(StudySettings()), Schedule(StudySettings(), fuzz=False)
    state, when = CardState(), T0
    while state.due is None or state.due - when < timedelta(days=10):
        when = state.due or T0
        state = plain.review(state, 3, when, "card")
    when = state.due
    base = plain.review(state, 3, when, "card").due - when
    fuzzed = {ours.review(state, 3, when, f"card{i}").due - when for i in range(200)}
    again = {ours.review(state, 3, when, f"card{i}").due - when for i in range(200)}
    assert fuzzed == again                          # same card, same review count: same interval
    assert len(fuzzed) > 1                          # and it does spread
    d = base.days                                   # fsrs's FUZZ_RANGES: 15 % to 7 d, 10 % to 20 d, then 5 %
    delta = 1 + 0.15 * (min(d, 7) - 2.5) + 0.1 * max(0, min(d, 20) - 7) + 0.05 * max(0, d - 20)
    assert min(x.days for x in fuzzed) >= round(d - delta) and max(x.days for x in fuzzed) <= round(d + delta)


def test_learning_card_comes_back_within_the_session(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 2), clock)
    first = study.next_card()
    study.answer(first.id, 1)                       # Again: 1 minute
    second = study.next_card()
    assert second.id != first.id                    # the other card first …
    study.answer(second.id, 3)
    assert study.next_card().id == first.id         # … then, nothing else left, learn ahead
    clock.advance(minutes=1)
    assert study.next_card().id == first.id
    study.answer(first.id, 3)                       # step 2: 10 minutes
    study.answer(second.id, 3)                      # graduates
    assert study.card(second.id).state == "review"
    assert study.next_card().id == first.id         # due in 10 min, within the 20 min learn-ahead
    clock.advance(minutes=10)
    assert study.answer(first.id, 3).state == "review"
    assert study.next_card() is None


def test_custom_learning_steps_from_notecards_toml(tmp_path):
    basic_vault(tmp_path, 1)
    write(tmp_path, "notecards.toml", '[study]\nlearning_steps = ["2m", "30m", "2h"]\n')
    study = open_study(tmp_path, Clock())
    card = study.next_card()
    assert study.intervals(card.id)[1] == "2m"
    assert study.intervals(card.id)[3] == "30m"
    assert study.diagnostics == []


def test_bad_study_setting_is_an_error_naming_file_key_and_type_and_keeps_the_default(tmp_path):
    basic_vault(tmp_path, 1)
    write(tmp_path, "notecards.toml", '[study]\nnew_per_day = "lots"\ndesired_retention = 0.85\n')
    study = open_study(tmp_path, Clock())
    [diag] = study.diagnostics
    assert diag.format().startswith("notecards.toml:2: error: [study] new_per_day must be an integer")
    assert study.study_settings.new_per_day == 20
    assert study.study_settings.desired_retention == 0.85


def test_new_cards_per_day_limit_per_deck_and_parent(tmp_path):
    write(tmp_path, "a.md", "TARGET DECK: Math::Algebra\n\n" +
          "".join(f"START\nBasic\nA{i}\nBack: a\nEND\n\n" for i in range(4)))
    write(tmp_path, "b.md", "TARGET DECK: Math::Calculus\n\n" +
          "".join(f"START\nBasic\nC{i}\nBack: c\nEND\n\n" for i in range(4)))
    write(tmp_path, "notecards.toml", "[study]\nnew_per_day = 3\n")
    clock = Clock()
    study = open_study(tmp_path, clock)
    counts = {d.name: d.new for d in study.decks()}
    assert counts == {"Math": 3, "Math::Algebra": 3, "Math::Calculus": 3}
    seen = []
    while (card := study.next_card("Math")) is not None and card.state == "new":
        seen.append(card.deck)
        study.answer(card.id, 4)                    # Easy: straight to review, days away
    assert len(seen) == 3                           # the parent's limit caps its subdecks together
    assert {d.name: d.new for d in study.decks()} == {"Math": 0, "Math::Algebra": 0, "Math::Calculus": 0}
    clock.advance(days=1)
    assert {d.name: d.new for d in study.decks()}["Math"] == 3


def test_review_limit_per_day(tmp_path):
    basic_vault(tmp_path, 5)
    write(tmp_path, "notecards.toml", "[study]\nreviews_per_day = 2\nnew_per_day = 50\n")
    clock = Clock()
    study = open_study(tmp_path, clock)
    while (card := study.next_card()) is not None:
        study.answer(card.id, 4)
    clock.advance(days=60)
    assert [(d.new, d.review) for d in study.decks()] == [(0, 2)]
    for _ in range(2):
        study.answer(study.next_card().id, 3)
    assert study.next_card() is None


def test_the_day_starts_at_4_am_local_time(tmp_path):
    from zoneinfo import ZoneInfo

    basic_vault(tmp_path, 3)
    write(tmp_path, "notecards.toml", "[study]\nnew_per_day = 1\n")
    tz = ZoneInfo("Europe/Berlin")                  # UTC+1 in March
    clock = Clock(datetime(2026, 3, 2, 23, 0, tzinfo=tz))
    study = Study.open(tmp_path, clock=clock, tz=tz, device="laptop", simulate=False)
    study.answer(study.next_card().id, 4)
    assert study.decks()[0].new == 0
    clock.now = datetime(2026, 3, 3, 3, 59, tzinfo=tz)   # still the same study day
    assert study.decks()[0].new == 0
    clock.now = datetime(2026, 3, 3, 4, 0, tzinfo=tz)    # a new day
    assert study.decks()[0].new == 1


def test_answering_one_card_buries_its_siblings_until_the_next_day(tmp_path):
    write(tmp_path, "r.md", "START\nBasic (and reversed card)\nFront side\nBack: Back side\nEND\n\n"
                            "START\nCloze\nThe {{c1::mean}} and the {{c2::variance}}\nEND\n")
    clock = Clock()
    study = open_study(tmp_path, clock)
    cards = [study.next_card()]
    assert [d.new for d in study.decks()] == [4]
    study.answer(cards[0].id, 4)
    nxt = study.next_card()
    assert nxt.guid != cards[0].guid               # the reversed card waits for tomorrow
    study.answer(nxt.id, 4)
    assert study.next_card() is None
    clock.advance(days=1)
    assert study.decks()[0].new == 2


def test_leech_at_eight_lapses_is_tagged_suspended_and_said(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 1), clock)
    card = study.next_card()
    study.answer(card.id, 4)
    results = []
    for _ in range(8):
        clock.now = datetime.fromisoformat(study.card(card.id).due) + timedelta(minutes=1)
        results.append(study.answer(card.id, 1))      # a lapse
        clock.advance(minutes=15)
        study.answer(card.id, 3)                      # relearnt
    assert [r.leech for r in results] == [False] * 7 + [True]
    leech = study.card(card.id)
    assert leech.suspended and "leech" in leech.tags
    assert study.next_card() is None
    study.unsuspend(card.id)
    assert not study.card(card.id).suspended


def test_suspend_unsuspend_and_bury(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 2), clock)
    first = study.next_card()
    study.suspend(first.id)
    assert study.next_card().id != first.id
    study.unsuspend(first.id)
    assert study.next_card().id == first.id
    study.bury(first.id)
    assert study.next_card().id != first.id
    clock.advance(days=1)
    assert study.next_card().id == first.id


def test_undo_puts_the_card_back_and_restores_its_state(tmp_path):
    clock = Clock()
    study = open_study(basic_vault(tmp_path, 2), clock)
    first = study.next_card()
    study.answer(first.id, 4)
    assert study.card(first.id).state == "review"
    assert study.undo() == first.id
    assert study.card(first.id).state == "new"
    assert study.next_card().id == first.id
    assert study.summary().studied == 0
    assert study.undo() is None


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_the_kept_queue_always_agrees_with_one_sorted_afresh(tmp_path, seed):
    import random

    from notecards.study.queue import Queue

    write(tmp_path, "a.md", "TARGET DECK: A::B\n\n" + "".join(
        f"START\nBasic (and reversed card)\nQ{i}\nBack: R{i}\nEND\n\n" for i in range(6)))
    write(tmp_path, "b.md", "TARGET DECK: A\n\nSTART\nCloze\n{{c1::x}} {{c2::y}} {{c3::z}}\nEND\n")
    write(tmp_path, "notecards.toml", "[study]\nnew_per_day = 5\n")
    clock = Clock()
    study = open_study(tmp_path, clock)
    rng = random.Random(seed)
    for _ in range(150):
        card = study.next_card()
        fresh = Queue(list(study.faces.values()), study.replay.states, study.study_settings, timezone.utc, clock())
        assert study.decks() == fresh.counts()
        if study._pinned is None:             # an undone card comes back first, whatever the queue says
            assert (card.id if card else None) == (f.id if (f := fresh.next(None)) else None)
        action = rng.random()
        if card is None:
            clock.advance(hours=rng.choice((1, 6, 20)))
        elif action < 0.75:
            study.answer(card.id, rng.choice((1, 2, 3, 3, 4)))
        elif action < 0.85:
            study.undo()
        elif action < 0.92:
            study.bury(card.id)
        else:
            study.suspend(card.id)
        clock.advance(minutes=rng.choice((0, 1, 5, 12)))


def test_the_study_day_of_a_daylight_saving_change_is_23_hours_long():
    from zoneinfo import ZoneInfo

    from notecards.study.queue import day_bounds

    start, end = day_bounds(datetime(2026, 3, 28, 12, tzinfo=timezone.utc), ZoneInfo("Europe/Berlin"), 4)
    assert (start, end - start) == (datetime(2026, 3, 28, 3, tzinfo=timezone.utc), timedelta(hours=23))
