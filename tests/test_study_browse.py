"""Browse and card info: a search over the vault's cards and one card's history and memory.

What a person relies on: the search finds a card by any word of it, and by deck, tag, state and
due; a card's info lists each answer with the interval it gave (the one the button showed),
its stability, difficulty and retrievability now, and where it is in the notes; suspend,
unsuspend and reset from there are events in the history like the review screen's.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from conftest import write
from notecards.study.browse import BadQuery, Browser
from notecards.study.engine import Study
from notecards.study.events import BadEvent, Event
from test_study_server import DEVICE, StudyServer, history_lines, make_vault

NOTES = """\
TARGET DECK: Stats::Bayes

START
Basic
What is a conjugate prior?
Back: a prior whose posterior stays in its family
Tags: bayes priors
END

START
Basic
The posterior mean of a normal mean?
Back: a precision-weighted average
END
"""
OTHER = "TARGET DECK: Calculus\n\nSTART\nBasic\nThe derivative of sin?\nBack: cosine\nEND\n"
START = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def study(tmp_path):
    vault = tmp_path / "vault"
    write(vault, "bayes.md", NOTES)
    write(vault, "calculus.md", OTHER)
    clock = Clock()
    opened = Study.open(vault, simulate=False, device=DEVICE, clock=clock, tz=timezone.utc)
    opened.test_clock = clock              # the test moves time on
    yield opened
    opened.close()


def ids(browser: Browser, query: str) -> list[str]:
    return [row.text for row in browser.search(query)[0]]


def test_the_search_finds_cards_by_words_deck_tag_state_and_due(study):
    browser = Browser(study)
    conjugate = next(i for i in study.faces if "conjugate" in study.card(i).front_html)
    study.answer(conjugate, 3)
    study.answer(conjugate, 3)             # in review, due in a few days
    assert ids(browser, "family") == ["What is a conjugate prior?"]            # a word of the back
    assert ids(browser, "PRECISION-weighted") == ["The posterior mean of a normal mean?"]
    assert ids(browser, '"stays in its"') == ["What is a conjugate prior?"]
    assert len(ids(browser, "deck:stats")) == 2 and ids(browser, "deck:calc*") == ["The derivative of sin?"]
    assert ids(browser, "tag:priors") == ["What is a conjugate prior?"]
    assert ids(browser, "is:review") == ["What is a conjugate prior?"] and len(ids(browser, "is:new")) == 2
    assert ids(browser, "is:due") == [] and ids(browser, "due:30") == ["What is a conjugate prior?"]
    assert ids(browser, "-deck:Stats") == ["The derivative of sin?"]
    assert browser.search("")[1] == 3
    with pytest.raises(BadQuery, match="is:later"):
        browser.search("is:later")


def test_card_info_gives_the_history_with_each_answers_interval_and_the_memory_now(study):
    browser = Browser(study)
    card = next(i for i in study.faces if "derivative" in study.card(i).front_html)
    given = []
    for rating, later in ((3, 0), (3, 10), (1, 60 * 24 * 3), (3, 10)):
        study.test_clock.now += timedelta(minutes=later)
        given.append(study.answer(card, rating).interval)
    study.test_clock.now += timedelta(days=2)
    info = browser.info(card)
    assert [(h.kind, h.rating, h.interval) for h in info.history] == \
        [("review", r, i) for r, i in zip((3, 3, 1, 3), given)]
    state = study.replay.states[card]
    assert (info.stability, info.difficulty, info.reviews, info.lapses) == \
        (state.stability, state.difficulty, 4, 1)
    assert 0 < info.retrievability < 1
    assert (info.row.path, info.row.line) == ("calculus.md", 3)


def test_suspend_unsuspend_and_reset_from_browse_are_history_events(tmp_path):
    with StudyServer(make_vault(tmp_path)) as served, served.client() as client:
        found = client.get("api/browse", params={"q": "circle"}).json()
        assert found["total"] == 1
        card = found["rows"][0]["id"]
        assert client.post("api/answer", json={"card_id": card, "rating": 3}).status_code == 200
        for action in ("suspend", "unsuspend", "reset"):
            assert client.post(f"api/{action}", json={"card_id": card}).json() == {"done": action, "card_id": card}
        info = client.get("api/card", params={"card_id": card}).json()
        assert [h["kind"] for h in info["history"]] == ["review", "suspend", "unsuspend", "reset"]
        assert info["card"]["state"] == "new" and info["obsidian_url"].startswith("obsidian://open?vault=vault")
        assert client.get("api/browse", params={"q": "is:new circle"}).json()["total"] == 1
        bad = client.get("api/browse", params={"q": '"open'})
        assert bad.status_code == 400 and bad.json()["error"] == "a quote is not closed"
        assert client.get("api/card", params={"card_id": "nope-1"}).status_code == 404
    assert [e["type"] for e in history_lines(served.vault)] == ["review", "suspend", "unsuspend", "reset"]


def test_set_due_moves_a_studied_card_and_a_replay_of_the_file_agrees(study, tmp_path):
    card = next(i for i in study.faces if "derivative" in study.card(i).front_html)
    with pytest.raises(ValueError, match="new card"):
        study.set_due(card, 3)                               # nothing to move yet
    study.answer(card, 3)
    study.answer(card, 3)
    study.set_due(card, 10)
    due = study.replay.states[card].due
    assert due == datetime(2026, 5, 14, 4, 0, tzinfo=timezone.utc)    # the study day's 4 am start
    assert [h.kind for h in Browser(study).info(card).history] == ["review", "review", "set_due"]
    assert Browser(study).info(card).history[-1].interval == "10d"
    vault = study.vault
    shutil.rmtree(vault / ".notecards")                      # the cache gone: only the file is read
    again = Study.open(vault, simulate=False, device=DEVICE, clock=study.test_clock, tz=timezone.utc)
    try:
        assert again.replay.states[card].due == due
    finally:
        again.close()


def test_set_due_over_http_refuses_a_new_card_in_words(tmp_path):
    with StudyServer(make_vault(tmp_path)) as served, served.client() as client:
        card = client.get("api/next").json()["card"]["id"]
        refused = client.post("api/set_due", json={"card_id": card, "days": 2})
        assert refused.status_code == 400 and "new card" in refused.json()["error"]
        assert client.post("api/set_due", json={"card_id": card, "days": -1}).status_code == 400
        client.post("api/answer", json={"card_id": card, "rating": 4})
        assert client.post("api/set_due", json={"card_id": card, "days": 0}).json()["done"] == "set_due"
        assert client.get("api/browse", params={"q": "is:due"}).json()["total"] == 1
    assert [e["type"] for e in history_lines(served.vault)] == ["review", "set_due"]
    assert "due" in history_lines(served.vault)[-1]


def test_a_set_due_line_without_its_time_is_refused_with_the_reason():
    line = {"id": "laptop:1", "type": "set_due", "time": "2026-05-04T09:00:00.000Z", "guid": "g", "ord": 1}
    with pytest.raises(BadEvent, match="set_due event without the time the card is due"):
        Event.from_dict(line)
    moved = Event.from_dict({**line, "due": "2026-05-14T04:00:00.000Z"})
    assert Event.from_dict(json.loads(moved.to_line())) == moved
    assert moved.to_dict()["due"] == "2026-05-14T04:00:00.000Z"
