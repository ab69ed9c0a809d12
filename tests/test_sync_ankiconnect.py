"""The AnkiConnect backend against a loopback HTTP server that answers AnkiConnect's actions on top
of a real `anki` collection, as strictly as the real add-on (`ankiconnect_fake.py`)."""

from __future__ import annotations

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402
from anki.consts import MODEL_CLOZE  # noqa: E402
from ankiconnect_fake import FakeAnki, serve  # noqa: E402

from notecards.sync.ankiconnect import AnkiConnectBackend  # noqa: E402
from notecards.sync.connection import AnkiConnectError  # noqa: E402
from notecards.sync.plan import card_digest, make_plan  # noqa: E402
from notecards.types import Card, CardBlock, MediaFile  # noqa: E402


@pytest.fixture
def anki_server(tmp_path):
    path = tmp_path / "collection.anki2"
    col = Collection(str(path))
    fake = FakeAnki(col)
    server = serve(fake)
    yield f"http://127.0.0.1:{server.server_port}", fake
    server.shutdown()
    server.server_close()
    col.close()


def _card(front, back="b", *, nid=None, deck="Default", ordinal=0, note_type="Basic", media=()):
    fields = {"Front": front, "Back": back}
    block = CardBlock("n.md", 1 + 5 * ordinal, 4, "block", note_type, dict(fields), {}, ["t"], deck,
                      ordinal, anki_id=nid, id_insert=(4, 0))
    return Card(block, note_type, dict(fields), ["t"], deck, f"g{ordinal}", media=list(media))


def _sync(url, cards, recorded=None, gone=None):
    backend = AnkiConnectBackend(url)
    plan = make_plan(cards, [], backend, recorded or {}, {}, gone or {})
    applied = backend.apply(plan)
    return plan, [n.nid for n in applied.new_notes], applied.diagnostics


def test_add_update_move_delete_through_ankiconnect(anki_server):
    url, fake = anki_server
    png = MediaFile("fig-abc123.png", data=b"\x89PNG fake")
    plan, new_ids, diags = _sync(url, [_card("q1", media=[png]), _card("q2", ordinal=1)])
    assert not diags and len(new_ids) == 2
    nid1, nid2 = new_ids[0], new_ids[1]
    assert fake.col.media.have("fig-abc123.png")

    first = _card("q1 edited", nid=nid1, deck="A::B")
    second = _card("q2", nid=nid2, ordinal=1)
    plan, _, diags = _sync(url, [first, second], recorded={nid2: card_digest(second)})
    assert not diags and [u.changes.names() for u in plan.updates] == [["fields", "deck"]]
    note = fake.col.get_note(nid1)
    assert note["Front"] == "q1 edited"
    assert fake.col.decks.name(note.cards()[0].did) == "A::B"

    plan, _, _ = _sync(url, [first], recorded={nid1: card_digest(first)}, gone={nid2: ("n.md", 6)})
    assert [d.nid for d in plan.deletes] == [nid2] and plan.updates == []
    assert fake.col.find_notes("") == [nid1]


def test_requests_are_batched(anki_server):
    """Editing and moving 10 or 60 notes takes the same handful of requests: none per note."""
    url, fake = anki_server
    counts = []
    for n in (10, 60):
        cards = [_card(f"q{n}-{i}", ordinal=i) for i in range(n)]
        _, new_ids, _ = _sync(url, cards)
        fake.requests.clear()
        edited = [_card(f"q{n}-{i} v2", nid=new_ids[i], ordinal=i, deck=f"Other{n}") for i in range(n)]
        _sync(url, edited)
        counts.append(len(fake.requests))
        assert all(fake.col.get_note(new_ids[i])["Front"] == f"q{n}-{i} v2" for i in range(n))
        assert {fake.col.decks.name(c.did) for i in range(n) for c in fake.col.get_note(new_ids[i]).cards()} \
            == {f"Other{n}"}
    assert counts[0] == counts[1] <= 16, fake.requests


def test_stale_id_is_recreated_through_ankiconnect(anki_server):
    url, fake = anki_server
    plan, new_ids, _ = _sync(url, [_card("q", nid=1111111111111)])
    assert plan.adds[0].replaces == 1111111111111 and len(fake.col.find_notes("")) == 1


def test_unreachable_ankiconnect_is_a_plain_error(tmp_path):
    with pytest.raises(AnkiConnectError, match="cannot reach AnkiConnect"):
        AnkiConnectBackend("http://127.0.0.1:9").decks_of({1: "Default"})


def test_sync_vault_through_ankiconnect_writes_ids(anki_server, tmp_path):
    from notecards.sync import sync_vault

    url, fake = anki_server
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "n.md").write_text("START\nBasic\nWhat?\nBack: This.\nEND\n")
    report = sync_vault(vault, ankiconnect=url)
    assert report.exit_code() == 0, report.summary()
    nid = fake.col.find_notes("")[0]
    assert (vault / "n.md").read_text() == f"START\nBasic\nWhat?\nBack: This.\n<!--ID: {nid}-->\nEND\n"
    again = sync_vault(vault, ankiconnect=url)
    assert again.plan.is_empty() and len(fake.col.find_notes("")) == 1


@pytest.mark.parametrize("action", ["importPackage", "addNotes"])
def test_note_saved_while_anki_adds_its_card_is_synced_by_the_next_run(anki_server, tmp_path, action):
    """The user saves the note in Obsidian while the sync is talking to Anki: that edit was not
    sent, so the file must not be remembered as synced (adding by package, or one by one)."""
    from notecards.sync import sync_vault

    url, fake = anki_server
    fake.without_import = action == "addNotes"
    vault = tmp_path / "vault"
    vault.mkdir()
    note = vault / "n.md"
    note.write_text("START\nBasic\nWhat?\nBack: This.\nEND\n")
    add = getattr(fake, "do_" + action)

    def add_while_the_user_saves(**params):
        note.write_text("START\nBasic\nWhat?\nBack: That, saved meanwhile.\nEND\n")
        return add(**params)

    setattr(fake, "do_" + action, add_while_the_user_saves)
    first = sync_vault(vault, ankiconnect=url)
    assert first.exit_code() == 0, first.summary()
    assert action in fake.requests
    setattr(fake, "do_" + action, add)
    second = sync_vault(vault, ankiconnect=url)
    assert second.exit_code() == 0 and second.files_read == 1, second.summary()
    [nid] = fake.col.find_notes("")
    assert fake.col.get_note(nid)["Back"] == "That, saved meanwhile."
    assert f"<!--ID: {nid}-->" in note.read_text()


def _without_note_type(col: Collection, name: str) -> None:
    col.models.remove(col.models.id_for_name(name))
    assert name not in [m.name for m in col.models.all_names_and_ids()]


def test_missing_cloze_type_is_created_as_a_cloze_type(anki_server, tmp_path):
    """A profile without the stock Cloze type: the sync makes one, and its note gives one card per
    cloze number, shown with the cloze hidden, as a fresh Anki's Cloze type would."""
    from notecards.sync import sync_vault

    url, fake = anki_server
    _without_note_type(fake.col, "Cloze")
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "n.md").write_text("START\nCloze\n{{c1::Paris}} is the capital of {{c2::France}}.\n"
                                "Back Extra: since 987\nEND\n")
    report = sync_vault(vault, ankiconnect=url)
    assert report.exit_code() == 0, report.summary()
    model = fake.col.models.by_name("Cloze")
    assert model["type"] == MODEL_CLOZE
    assert fake.col.models.field_names(model) == ["Text", "Back Extra"]
    [nid] = fake.col.find_notes("")
    cards = sorted(fake.col.get_note(nid).cards(), key=lambda c: c.ord)
    assert [c.ord for c in cards] == [0, 1]
    question = cards[1].question()
    assert ">Paris</span> is the capital of" in question and ">[...]</span>" in question
    assert ">France<" not in question
    assert "since 987" in cards[0].answer()


def test_missing_reversed_type_is_created_with_both_templates(anki_server):
    url, fake = anki_server
    _without_note_type(fake.col, "Basic (and reversed card)")
    _, new_ids, diags = _sync(url, [_card("q", "a", note_type="Basic (and reversed card)")])
    assert not diags
    cards = sorted(fake.col.get_note(new_ids[0]).cards(), key=lambda c: c.ord)
    assert len(cards) == 2 and "a" in cards[1].question() and "q" not in cards[1].question()


def test_missing_custom_type_takes_the_card_fields(anki_server):
    url, fake = anki_server
    card = _card("q", "a", note_type="Vocab")
    card.fields = {"Word": "der Hund", "Meaning": "the dog"}
    _, new_ids, diags = _sync(url, [card])
    assert not diags
    note = fake.col.get_note(new_ids[0])
    assert note.keys() == ["Word", "Meaning"] and note["Meaning"] == "the dog"
    [only] = note.cards()
    assert "der Hund" in only.question() and "the dog" in only.answer()


def test_missing_custom_cloze_type_clozes_its_first_field(anki_server):
    url, fake = anki_server
    card = _card("q", "a", note_type="My Cloze")
    card.fields = {"Passage": "{{c1::x}} and {{c2::y}} and {{c3::z}}", "Source": "book"}
    _, new_ids, diags = _sync(url, [card])
    assert not diags
    note = fake.col.get_note(new_ids[0])
    assert note.note_type()["type"] == MODEL_CLOZE and len(note.cards()) == 3
    assert all("book" in c.answer() for c in note.cards())
