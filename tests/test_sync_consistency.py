"""Both backends hold the same line: a card with an error is not added, note types notecards makes
look like Anki's own, cards end in their decks and are put back when moved, an edit to an embedded
note reaches the card that embeds it, and the summary counts what was really done."""

from __future__ import annotations

import re
import threading

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402
from ankiconnect_fake import FakeAnki, serve  # noqa: E402

from notecards.sync import sync_vault  # noqa: E402
from notecards.sync.watch import watch_vault  # noqa: E402

ID_RE = re.compile(r"<!--ID: (\d+)-->")


@pytest.fixture(params=["collection", "ankiconnect"])
def target(request, tmp_path):
    """(sync keyword arguments, a way to open the collection while no sync runs)."""
    path = tmp_path / "collection.anki2"
    if request.param == "collection":
        Collection(str(path)).close()

        class Opened:
            def __enter__(self):
                self.col = Collection(str(path))
                return self.col

            def __exit__(self, *exc):
                self.col.close()
        yield {"collection": path}, Opened
        return
    col = Collection(str(path))
    server = serve(FakeAnki(col))

    class Shared:
        def __enter__(self):
            return col

        def __exit__(self, *exc):
            pass
    yield {"ankiconnect": f"127.0.0.1:{server.server_port}"}, Shared
    server.shutdown()
    server.server_close()
    col.close()


def _write(vault, name, text):
    (vault / name).parent.mkdir(parents=True, exist_ok=True)
    (vault / name).write_text(text, encoding="utf-8")


def test_a_cloze_with_no_deletion_is_not_added(tmp_path, target):
    kwargs, opened = target
    vault = tmp_path / "vault"
    _write(vault, "n.md", "START\nCloze\nno deletion here\nEND\n\nSTART\nBasic\nGood?\nBack: yes\nEND\n")
    report = sync_vault(vault, **kwargs)
    assert report.exit_code() == 1
    assert [d.line for d in report.diagnostics if d.severity == "error"] == [1]
    text = (vault / "n.md").read_text()
    assert text.count("<!--ID:") == 1 and text.index("<!--ID:") > text.index("Good?")
    with opened() as col:
        [nid] = col.find_notes("")
        assert col.get_note(nid)["Front"] == "Good?"
    again = sync_vault(vault, **kwargs)             # still an error, still not added
    assert again.plan.counts()["add"] == 0
    with opened() as col:
        assert len(col.find_notes("")) == 1


def test_a_cloze_type_notecards_creates_highlights_its_clozes(tmp_path, target):
    kwargs, opened = target
    vault = tmp_path / "vault"
    _write(vault, ".obsidian/plugins/obsidian-to-anki-plugin/data.json",
           '{"fields_dict": {"My Cloze": ["Text", "Source"]}}')
    _write(vault, "n.md", "START\nMy Cloze\n{{c1::Paris}} is in France\nSource: atlas\nEND\n")
    report = sync_vault(vault, **kwargs)
    assert report.exit_code() == 0, report.summary()
    with opened() as col:
        model = col.models.by_name("My Cloze")
        stock = col.models.by_name("Cloze")
        assert ".cloze" in model["css"] and model["css"] == stock["css"]


def test_a_card_moved_out_of_its_deck_in_anki_is_put_back(tmp_path, target):
    kwargs, opened = target
    vault = tmp_path / "vault"
    _write(vault, "a.md", "TARGET DECK: Maths::Stats\n\nSTART\nBasic\nQ?\nBack: A\nEND\n")
    _write(vault, "b.md", "TARGET DECK: Other\n\nSTART\nBasic\nR?\nBack: B\nEND\n")
    assert sync_vault(vault, **kwargs).exit_code() == 0
    nid = int(ID_RE.search((vault / "a.md").read_text()).group(1))
    with opened() as col:
        assert {col.decks.name(c.did) for c in col.get_note(nid).cards()} == {"Maths::Stats"}
        col.set_deck(col.get_note(nid).card_ids(), col.decks.id("Elsewhere", create=True))
    report = sync_vault(vault, **kwargs)           # no file changed: the deck check finds it
    assert report.exit_code() == 0 and report.done["move"] == 1, report.summary()
    with opened() as col:
        assert {col.decks.name(c.did) for c in col.get_note(nid).cards()} == {"Maths::Stats"}
    assert sync_vault(vault, **kwargs).plan.is_empty()


def test_an_edit_to_an_embedded_note_reaches_the_card_without_full(tmp_path, target):
    kwargs, opened = target
    vault = tmp_path / "vault"
    _write(vault, "card.md", "START\nBasic\nWhat does the lemma say?\nBack: ![[lemma]]\nEND\n")
    _write(vault, "lemma.md", "The first version.\n\nSTART\nBasic\nLemma's own card\nBack: x\nEND\n")
    assert sync_vault(vault, **kwargs).exit_code() == 0
    quiet = sync_vault(vault, **kwargs)             # the ID line written into lemma.md is no edit
    assert quiet.files_read == 0 and quiet.plan.is_empty(), quiet.summary()
    _write(vault, "lemma.md", "The second version.\n")
    report = sync_vault(vault, **kwargs)
    assert report.exit_code() == 0 and report.done["update"] == 1, report.summary()
    nid = int(ID_RE.search((vault / "card.md").read_text()).group(1))
    with opened() as col:
        assert "second version" in col.get_note(nid)["Back"]


def test_refused_mass_deletion_says_nothing_was_deleted(tmp_path):
    path = tmp_path / "collection.anki2"
    Collection(str(path)).close()
    vault = tmp_path / "vault"
    _write(vault, "a.md", "".join(f"START\nBasic\nq{i}\nBack: b\nEND\n\n" for i in range(12)))
    sync_vault(vault, collection=path)
    _write(vault, "a.md", "no cards any more\n")
    stopped = sync_vault(vault, collection=path)
    problem, counts = stopped.summary().splitlines()
    assert "nothing changed" in problem
    assert "delete 0," in counts and "1 file (1 read)" in counts and "1 error" in counts


def test_watch_stops_when_there_is_no_collection(tmp_path):
    pytest.importorskip("watchdog")
    vault = tmp_path / "vault"
    _write(vault, "a.md", "START\nBasic\nq\nBack: b\nEND\n")
    reports = []
    done = threading.Event()
    result = []

    def run():
        result.append(watch_vault(vault, collection=tmp_path / "missing.anki2", on_report=reports.append))
        done.set()
    threading.Thread(target=run, daemon=True).start()
    assert done.wait(30), "watch kept running without a collection"
    assert result == [2] and "no Anki collection" in reports[0].problem
