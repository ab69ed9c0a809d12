"""SIGKILL a sync of 500 files at random moments: every note file is its old or its new version,
byte for byte, and the next sync finishes the job with no duplicate note in the collection."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402

from notecards.sync import sync_vault  # noqa: E402

FILES = 500
ROUNDS = 4
KILLS_PER_ROUND = 2
ID_LINE = re.compile(rb"<!--ID: (\d+)-->\r?\n")
SYNC = "from pathlib import Path; import sys; from notecards.sync import sync_vault; " \
       "sync_vault(Path(sys.argv[1]), collection=Path(sys.argv[2]))"


def _original(i: int) -> bytes:
    newline = b"\r\n" if i % 7 == 0 else b"\n"
    lines = [f"# Note {i}", "", "START", "Basic", f"Question number {i}?", f"Back: Answer {i}.", "END",
             "trailing text  "]
    return newline.join(x.encode() for x in lines) + (newline if i % 3 else b"")


def _is_old_or_new(data: bytes, original: bytes) -> bool:
    return data == original or ID_LINE.sub(b"", data, count=1) == original and len(ID_LINE.findall(data)) == 1


def _fresh(root: Path) -> tuple[Path, Path, dict[int, bytes]]:
    vault = root / "vault"
    (vault / "notes").mkdir(parents=True)
    originals = {i: _original(i) for i in range(FILES)}
    for i, data in originals.items():
        (vault / "notes" / f"n{i:03d}.md").write_bytes(data)
    col_path = root / "collection.anki2"
    Collection(str(col_path)).close()
    return vault, col_path, originals


def _spawn(vault: Path, col_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SYNC, str(vault), str(col_path)],
                            env=dict(os.environ, PYTHONHASHSEED="0"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _check_files(vault: Path, originals: dict[int, bytes]) -> int:
    """Every file is old or new, byte for byte; returns how many are new."""
    new = 0
    for i, original in originals.items():
        data = (vault / "notes" / f"n{i:03d}.md").read_bytes()
        assert _is_old_or_new(data, original), f"n{i:03d}.md torn after SIGKILL: {data!r}"
        new += data != original
    return new


def _check_complete(vault: Path, col_path: Path, originals: dict[int, bytes]) -> None:
    report = sync_vault(vault, collection=col_path)
    assert report.exit_code() == 0, report.summary()
    ids = []
    for i, original in originals.items():
        data = (vault / "notes" / f"n{i:03d}.md").read_bytes()
        assert _is_old_or_new(data, original) and data != original
        ids.append(int(ID_LINE.search(data).group(1)))
    col = Collection(str(col_path))
    try:
        assert sorted(col.find_notes("")) == sorted(ids), "a note is missing or duplicated"
        fronts = {nid: col.get_note(nid)["Front"] for nid in ids}
    finally:
        col.close()
    assert all(fronts[ids[i]] == f"Question number {i}?" for i in originals)
    assert not list(vault.rglob("*.notecards-tmp"))
    assert sync_vault(vault, collection=col_path).plan.is_empty()


def _with_ids(vault: Path) -> int:
    return sum(ID_LINE.search(path.read_bytes()) is not None for path in (vault / "notes").iterdir()
               if path.suffix == ".md")


def _kill_once(proc: subprocess.Popen, vault: Path, files_with_ids: int, deadline_s: float = 300) -> bool:
    """SIGKILL the sync the moment `files_with_ids` notes carry their ID line: the middle of its
    write-back, whatever the machine's speed. False when the sync ended before that."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if _with_ids(vault) >= files_with_ids:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        try:
            proc.wait(timeout=0.002)     # wakes at once if the sync ends
            return False
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()
    raise AssertionError(f"the sync neither wrote {files_with_ids} ID lines nor ended in {deadline_s} s")


def test_sigkill_mid_sync_never_tears_a_file_and_the_next_sync_completes(tmp_path):
    # each kill lands while the sync writes ID lines back: after a random number of files got
    # theirs (its notes are in the collection by then), so every kill catches it mid-work
    # (on a loaded machine this process can be descheduled after it saw the count and before the
    # signal lands, and the sync may then write every ID line first: such a kill is late, not a
    # failure, but most kills must land mid-write-back or the test would prove nothing)
    rng = random.Random(20261124)
    mid_work = 0
    for round_ in range(ROUNDS):
        vault, col_path, originals = _fresh(tmp_path / f"round{round_}")
        for _ in range(KILLS_PER_ROUND):
            before = _with_ids(vault)
            if before == FILES:
                break                                   # a late kill left nothing to interrupt
            proc = _spawn(vault, col_path)
            assert _kill_once(proc, vault, before + rng.randint(1, (FILES - before) // 2)), \
                "the sync finished before the kill"
            new = _check_files(vault, originals)
            assert before < new <= FILES
            mid_work += new < FILES
        _check_complete(vault, col_path, originals)
    assert mid_work >= ROUNDS * KILLS_PER_ROUND // 2, f"only {mid_work} kills landed mid-write-back"
