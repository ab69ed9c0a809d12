"""Sync through AnkiConnect when things go wrong, against the strict loopback imitation of the add-on
(`ankiconnect_fake.py`): answers lost after the work was done, bodies too big to send, a busy or
locked-out Anki, an API key. Whatever happens: no duplicate note, ever; one line saying what was
done, what was not, and that running again is safe; the next run finishes the job."""

from __future__ import annotations

import re
import socket
import threading
from pathlib import Path

import pytest

pytest.importorskip("anki")
from ankiconnect_fake import FakeAnki, running  # noqa: E402
from conftest import run_cli  # noqa: E402

from notecards.sync import connection, sync_vault  # noqa: E402

ID_RE = re.compile(r"<!--ID: (\d+)-->")
# fields that Anki's search syntax would misread unless escaped: wildcards, quotes, colons, math
TRICKY = ['Why is $\\alpha_1 * \\beta$ "odd"?', "a_b: c*d (e) -f \\ g", "plain question"]


@pytest.fixture
def anki(tmp_path):
    with running(tmp_path / "collection.anki2") as fake:
        yield fake


def _vault(tmp_path, files: int, cards: int, fronts=None):
    vault = tmp_path / "vault"
    vault.mkdir()
    for f in range(files):
        blocks = [f"START\nBasic\n{(fronts or {}).get((f, c), f'Question {f}.{c}')}\nBack: Answer {f}.{c}\nEND\n"
                  for c in range(cards)]
        (vault / f"n{f:03d}.md").write_text(f"TARGET DECK: Deck{f % 3}\n\n" + "\n".join(blocks))
    return vault


def _ids(vault) -> list[int]:
    return [int(n) for p in sorted(vault.glob("*.md")) for n in ID_RE.findall(p.read_text())]


def _assert_in_step(vault, fake: FakeAnki, notes: int) -> None:
    """Every block has one ID line naming a note of its deck, and Anki holds no other note."""
    ids = _ids(vault)
    assert len(ids) == notes == len(set(ids))
    assert sorted(fake.col.find_notes("")) == sorted(ids)
    for p in vault.glob("*.md"):
        deck = p.read_text().split("\n", 1)[0].removeprefix("TARGET DECK: ")
        for nid in map(int, ID_RE.findall(p.read_text())):
            assert {fake.col.decks.name(c.did) for c in fake.col.get_note(nid).cards()} == {deck}


@pytest.mark.parametrize("action", ["importPackage", "notesInfo", "addNotes"])
def test_answer_lost_after_the_adds_were_done_adds_no_duplicate(tmp_path, anki, action):
    """The connection drops after Anki imported the package (or while the sync checks where its
    notes went, or after `addNotes`) and before the answer arrived: the next run finds the notes
    by content and writes their ID lines."""
    fronts = {(0, i): t for i, t in enumerate(TRICKY)}
    vault = _vault(tmp_path, 2, 3, fronts)
    anki.without_import = action == "addNotes"
    anki.lose_answer_after = action
    first = sync_vault(vault, ankiconnect=anki.url)
    assert first.exit_code() == 1 and "\n" not in first.problem
    assert "running the sync again is safe" in first.problem.lower()
    assert len(anki.col.find_notes("")) == 6 and _ids(vault) == []     # in Anki, not in the vault
    second = sync_vault(vault, ankiconnect=anki.url)
    assert second.exit_code() == 0, second.summary()
    assert second.plan.counts()["add"] == 0 and second.ids_written == 6
    _assert_in_step(vault, anki, 6)
    assert sync_vault(vault, ankiconnect=anki.url).plan.is_empty()


def test_failure_in_a_later_batch_keeps_the_earlier_batches(tmp_path, anki):
    """Batch 2 is added and answered, then the user closes the profile: the requests that would
    move its cards fail. Batch 1 is done and written; batch 2's notes are known; 3 is not sent.
    (An add-on without `importPackage`: batches of `addNotes`.)"""
    anki.without_import = True
    vault = _vault(tmp_path, 30, 20)                 # 600 notes: three batches of adds
    sent = anki.do_addNotes
    calls = []

    def profile_closed_after_the_second_batch(notes):
        calls.append(len(notes))
        if len(calls) == 2:
            anki.profile_picker = True
        return sent(notes)
    anki.do_addNotes = profile_closed_after_the_second_batch
    first = sync_vault(vault, ankiconnect=anki.url)
    assert first.exit_code() == 1 and "profile picker" in first.problem and "\n" not in first.problem
    written = len(_ids(vault))
    assert written == calls[0] and f"Done: {calls[0] + calls[1]} of 600 notes added, {written} ID lines" \
        in first.problem, first.problem
    assert max(calls) <= connection.MAX_NOTES
    anki.profile_picker = False
    anki.do_addNotes = sent
    second = sync_vault(vault, ankiconnect=anki.url)
    assert second.exit_code() == 0, second.summary()
    _assert_in_step(vault, anki, 600)


def test_requests_stay_inside_the_addons_size_budget(tmp_path, anki):
    """Big notes and big media: no request is ever over the budget (the imitation does not answer
    one, as the real add-on takes minutes to read it), and media go by path."""
    vault = _vault(tmp_path, 1, 0)
    big = "x" * 40_000
    (vault / "big.md").write_text("\n".join(f"START\nBasic\nBig {i} {big}\nBack: ![[fig{i}.png]]\nEND\n"
                                            for i in range(60)))
    for i in range(60):
        (vault / f"fig{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([i]) * 300_000)
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0, report.summary()
    assert max(anki.bodies) <= connection.MAX_BODY + 4096
    assert len(_ids(vault)) == 60
    _assert_media_match(anki, vault, 60)


def test_media_go_as_bounded_base64_when_anki_cannot_read_our_paths(tmp_path, anki):
    vault = _vault(tmp_path, 1, 0)
    (vault / "n.md").write_text("".join(f"START\nBasic\nQ{i}\nBack: ![[p{i}.png]]\nEND\n" for i in range(8)))
    for i in range(8):
        (vault / f"p{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([i]) * 200_000)
    stored = anki.do_storeMediaFile

    def sandboxed(filename, data=None, path=None):
        if path is not None:
            raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
        return stored(filename, data=data)
    anki.do_storeMediaFile = sandboxed
    report = sync_vault(vault, ankiconnect=anki.url)
    assert report.exit_code() == 0, report.summary()
    assert max(anki.bodies) <= connection.MAX_BODY + 4096
    _assert_media_match(anki, vault, 8)


def _assert_media_match(fake: FakeAnki, vault, notes: int) -> None:
    """Each note's image is in Anki's media folder, byte for byte one of the vault's images."""
    images = {p.read_bytes() for p in vault.glob("*.png")}
    seen = set()
    for nid in fake.col.find_notes(""):
        [src] = re.findall(r'src="([^"]+)"', fake.col.get_note(nid)["Back"])
        data = (Path(fake.col.media.dir()) / src).read_bytes()
        assert data in images
        seen.add(data)
    assert len(seen) == notes


def test_busy_anki_is_said_to_be_busy(tmp_path, monkeypatch):
    """Anki accepts the connection but its main thread never answers (a modal dialog)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    held: list[socket.socket] = []
    accepting = threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True)
    accepting.start()
    monkeypatch.setattr(connection, "BASE_TIMEOUT", 0.5)
    vault = _vault(tmp_path, 1, 1)
    report = sync_vault(vault, ankiconnect=f"127.0.0.1:{listener.getsockname()[1]}")
    listener.close()
    for s in held:
        s.close()
    assert report.exit_code() == 1 and "Anki is busy" in report.problem and "nothing changed" in report.problem
    assert "is Anki running" not in report.problem


def test_closed_anki_and_profile_picker_are_one_line_each(tmp_path, anki):
    vault = _vault(tmp_path, 1, 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    closed = run_cli("sync", vault, "--ankiconnect", f"localhost:{free}")
    assert closed.returncode == 1 and "cannot reach AnkiConnect" in closed.stdout
    anki.profile_picker = True
    picker = run_cli("sync", vault, "--ankiconnect", anki.url.removeprefix("http://"))
    assert picker.returncode == 1 and "profile picker" in picker.stdout
    for proc in (closed, picker):
        assert "Traceback" not in proc.stderr and len(proc.stdout.strip().splitlines()) == 2
    assert _ids(vault) == [] and anki.col.find_notes("") == []


def test_api_key_from_the_option_or_the_environment(tmp_path, anki, monkeypatch):
    anki.key = "s3cret"
    vault = _vault(tmp_path, 1, 1)
    without = run_cli("sync", vault, "--ankiconnect", anki.url)
    assert without.returncode == 1 and "--ankiconnect-key" in without.stdout
    with_option = run_cli("sync", vault, "--ankiconnect", anki.url, "--ankiconnect-key", "s3cret")
    assert with_option.returncode == 0, with_option.stdout + with_option.stderr
    (vault / "n000.md").write_text((vault / "n000.md").read_text().replace("Answer 0.0", "Edited"))
    monkeypatch.setenv("NOTECARDS_ANKICONNECT_KEY", "s3cret")
    with_env = run_cli("sync", vault, "--ankiconnect", anki.url)
    assert with_env.returncode == 0, with_env.stdout + with_env.stderr
    [nid] = anki.col.find_notes("")
    assert anki.col.get_note(nid)["Back"] == "Edited"
