"""The stats page's numbers from a history studied on a fixed clock, and its charts over HTTP.

What a person reads there: how many answers each day, what is due, how often they remembered
cards in review (young and mature apart, undone answers not counted), how many cards are in each
state, how they used the answer buttons; for a deck or the whole vault.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import write
from notecards.study.engine import Study
from notecards.study.events import format_time, split_card_id
from notecards.study.stats import AnswerLog, compute
from test_study_server import StudyServer, make_vault

START = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
NOTES = "".join(f"START\nBasic\nQuestion {i}\nBack: answer {i}\nEND\n\n" for i in range(3))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def studied(tmp_path):
    """Three cards in two decks: A answered Good on day 0, then again 30 days later (Again);
    B Good on day 0 and 3 (young), then an answer undone; C never studied, suspended."""
    vault = tmp_path / "vault"
    write(vault, "one.md", "TARGET DECK: One\n\n" + NOTES.split("\n\n")[0] + "\n\n" + NOTES.split("\n\n")[1] + "\n")
    write(vault, "two.md", "TARGET DECK: Two\n\n" + NOTES.split("\n\n")[2] + "\n")
    clock = Clock(START)
    study = Study.open(vault, simulate=False, device="dev", clock=clock, tz=timezone.utc, fuzz=False)
    ids = {study.card(i).front_html: i for i in study.faces}
    a, b, c = ids["Question 0"], ids["Question 1"], ids["Question 2"]
    for card in (a, b):
        study.answer(card, 3)
        study.answer(card, 3)          # the second learning step: now in review
    clock.now = START + timedelta(days=3)
    study.answer(b, 3)                 # young, passed
    study.answer(b, 1)
    study.undo()                       # not counted
    clock.now = START + timedelta(days=30)
    study.answer(a, 1)                 # mature (30 days since its last answer), failed
    study.suspend(c)
    yield study, (a, b, c), clock
    study.close()


def test_answers_per_day_retention_and_buttons_count_what_stands(studied):
    study, _, _ = studied
    stats = compute(study, None)
    assert stats.today == "2026-04-01" and stats.total_reviews == 6
    assert stats.reviews_per_day == {"2026-03-02": 4, "2026-03-05": 1, "2026-04-01": 1}
    last7, last30, last365 = stats.retention
    assert (last7.total, last7.passed) == ({"young": 0, "mature": 1}, {"young": 0, "mature": 0})
    assert (last30.total, last30.passed) == ({"young": 1, "mature": 1}, {"young": 1, "mature": 0})
    assert last365.total == last30.total
    assert stats.buttons == {"learning": [0, 0, 4, 0], "young": [0, 0, 1, 0], "mature": [1, 0, 0, 0]}


def test_counts_forecast_and_a_deck_of_its_own(studied):
    study, (a, b, c), _ = studied
    whole = compute(study, None)
    assert whole.counts == {"new": 1, "learning": 1, "review": 1, "suspended": 1, "leech": 0}
    assert sum(whole.forecast) == 2                     # a relearning, b in review; c is new
    assert study.replay.states[b].due < START + timedelta(days=30)   # b is overdue: day 0 holds it
    assert whole.forecast[0] == 2                       # with a, relearning in minutes
    two = compute(study, "Two")
    assert two.total_reviews == 0 and two.counts["new"] == 1 and two.counts["suspended"] == 1
    one = compute(study, "One")
    assert one.total_reviews == 6 and one.counts["new"] == 0


def test_the_stats_api_draws_every_chart_as_svg(tmp_path):
    with StudyServer(make_vault(tmp_path)) as served, served.client() as client:
        card = client.get("api/next").json()["card"]
        assert client.post("api/answer", json={"card_id": card["id"], "rating": 3}).status_code == 200
        data = client.get("api/stats").json()
        assert set(data["charts"]) == {"heatmap", "forecast", "retention", "counts", "buttons"}
        for svg in data["charts"].values():
            assert svg.startswith("<svg") and svg.endswith("</svg>") and "<title>" in svg
            assert not re.search(r"(fill|stroke)=\"#", svg)          # colours come from the theme's CSS
        assert data["stats"]["total_reviews"] == 1 and "Maths::Algebra" in data["decks"]
        geometry = client.get("api/stats", params={"deck": "Maths::Geometry"}).json()["stats"]
        assert geometry["total_reviews"] == (1 if card["deck"] == "Maths::Geometry" else 0)


def test_stats_kept_between_calls_match_a_fresh_reading_after_answers_undo_and_reset(studied):
    """The page's log adds a session's answers on; anything else reads the history again."""
    study, (a, b, c), clock = studied
    log = AnswerLog(study.tz, study.study_settings.day_start_hour)
    compute(study, None, log)
    steps = [lambda: study.answer(b, 3), lambda: study.answer(a, 4), lambda: study.undo(),
             lambda: study.reset(b), lambda: study.answer(b, 2), lambda: study.unsuspend(c)]
    for step in steps:
        clock.now += timedelta(hours=7)
        step()
        assert compute(study, None, log).to_dict() == compute(study, None).to_dict()


def test_stats_read_in_the_background_at_start_match_a_fresh_reading(studied):
    """The server reads the history on a thread when it starts; answers given meanwhile are
    added on when the page opens."""
    study, (a, b, _c), clock = studied
    log = AnswerLog(study.tz, study.study_settings.day_start_hour)
    log.prepare(study.replay.store.db, study.replay.alias)
    clock.now += timedelta(hours=7)
    study.answer(b, 3)
    assert compute(study, None, log).to_dict() == compute(study, None).to_dict()
    assert compute(study, None, log).total_reviews == 7


def test_a_first_reading_takes_answers_in_history_order_not_file_order(tmp_path):
    """Two devices' files: the file read first holds the later answer. It is a mature review
    (30 days after the card's answers in the other file), not a first answer."""
    vault = tmp_path / "vault"
    write(vault, "one.md", NOTES.split("\n\n")[0] + "\n")
    clock = Clock(START + timedelta(days=31))
    study = Study.open(vault, simulate=False, device="dev", clock=clock, tz=timezone.utc, fuzz=False)
    guid, ordinal = split_card_id(next(iter(study.faces)))
    study.close()

    def line(device: str, seq: int, day: int, rating: int) -> str:
        return json.dumps({"id": f"{device}:{seq}", "type": "review", "guid": guid, "ord": ordinal, "ms": 4000,
                           "time": format_time(START + timedelta(days=day, minutes=seq)), "rating": rating})

    history = vault / "study-history"
    history.mkdir(exist_ok=True)
    (history / "a-phone.jsonl").write_text(line("a-phone", 1, 30, 1) + "\n", encoding="utf-8")
    (history / "b-laptop.jsonl").write_text(line("b-laptop", 1, 0, 3) + "\n" + line("b-laptop", 2, 0, 3) + "\n",
                                            encoding="utf-8")
    study = Study.open(vault, simulate=False, device="dev", clock=clock, tz=timezone.utc, fuzz=False)
    try:
        stats = compute(study, None)
        assert stats.buttons == {"learning": [0, 0, 2, 0], "young": [0, 0, 0, 0], "mature": [1, 0, 0, 0]}
        assert stats.retention[1].to_dict() == {"days": 30, "passed": {"young": 0, "mature": 0},
                                                "total": {"young": 0, "mature": 1}}
    finally:
        study.close()
