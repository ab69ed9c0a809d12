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

import pytest

pytest.importorskip("anki")
from anki.collection import Collection  # noqa: E402

try:
    from notecards.parse import parse_file  # noqa: F401
except ImportError:
    pytest.skip("parse stage not available", allow_module_level=True)

from notecards.sync import sync_vault  # noqa: E402

FILES = 500
KILLS = 6
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


def test_sigkill_mid_sync_never_tears_a_file_and_the_next_sync_completes(tmp_path):
    vault = tmp_path / "vault"
    (vault / "notes").mkdir(parents=True)
    originals = {}
    for i in range(FILES):
        originals[i] = _original(i)
        (vault / "notes" / f"n{i:03d}.md").write_bytes(originals[i])
    col_path = tmp_path / "collection.anki2"
    Collection(str(col_path)).close()

    rng = random.Random(20261124)
    env = dict(os.environ, PYTHONHASHSEED="0")
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", SYNC, str(vault), str(col_path)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for i in range(FILES):
            data = (vault / "notes" / f"n{i:03d}.md").read_bytes()
            assert _is_old_or_new(data, originals[i]), f"n{i:03d}.md torn after SIGKILL: {data!r}"

    report = sync_vault(vault, collection=col_path)
    assert report.exit_code() == 0, report.summary()
    ids = []
    for i in range(FILES):
        data = (vault / "notes" / f"n{i:03d}.md").read_bytes()
        assert _is_old_or_new(data, originals[i]) and data != originals[i]
        ids.append(int(ID_LINE.search(data).group(1)))
    col = Collection(str(col_path))
    try:
        assert sorted(col.find_notes("")) == sorted(ids), "a note is missing or duplicated"
        fronts = {nid: col.get_note(nid)["Front"] for nid in ids}
    finally:
        col.close()
    assert all(fronts[ids[i]] == f"Question number {i}?" for i in range(FILES))
    assert not list(vault.rglob("*.notecards-tmp"))
    assert sync_vault(vault, collection=col_path).plan.is_empty()
