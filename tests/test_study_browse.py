"""Browse and card info: a search over the vault's cards and one card's history and memory.

What a person relies on: the search finds a card by any word of it, and by deck, tag, state and
due; a card's info lists each answer with the interval it gave (the one the button showed),
its stability, difficulty and retrievability now, and where it is in the notes; suspend,
unsuspend and reset from there are events in the history like the review screen's.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import write
from notecards.study.browse import BadQuery, Browser
from notecards.study.engine import Study
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
