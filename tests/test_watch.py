"""`watch` re-syncs after a note is saved, and ignores its own ID writes and state files."""

from __future__ import annotations

import queue
import threading

import pytest

pytest.importorskip("anki")
pytest.importorskip("watchdog")
from anki.collection import Collection  # noqa: E402

from notecards.sync.watch import watch_vault  # noqa: E402


def test_saving_a_note_syncs_it(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text("START\nBasic\nFirst?\nBack: one\nEND\n")
    col_path = tmp_path / "collection.anki2"
    Collection(str(col_path)).close()
    reports: queue.Queue = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=watch_vault, args=(vault,), kwargs=dict(
        collection=col_path, debounce=0.2, on_report=reports.put, stop=stop))
    thread.start()
    try:
        first = reports.get(timeout=30)
        assert first.plan.counts()["add"] == 1
        (vault / "b.md").write_text("START\nBasic\nSecond?\nBack: two\nEND\n")
        second = reports.get(timeout=30)
        assert second.plan.counts()["add"] == 1 and second.exit_code() == 0
        with pytest.raises(queue.Empty):
            reports.get(timeout=1.5)       # the ID line it wrote does not start a sync loop
    finally:
        stop.set()
        thread.join(timeout=30)
    assert "<!--ID: " in (vault / "b.md").read_text()
    col = Collection(str(col_path))
    try:
        assert len(col.find_notes("")) == 2
    finally:
        col.close()
