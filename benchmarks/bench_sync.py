"""Time `notecards sync` into a collection: first sync of 5,000 cards into an empty collection,
an unchanged re-sync, then a re-sync after one edited file.

    python benchmarks/bench_sync.py [--notes 1000] [--cards-per-note 5]

Targets on 2 cores: first sync under 5 s, unchanged re-sync under 0.5 s, one edited file under
0.5 s. Each sync runs in this process (imports are warmed by an untimed sync of a one-card vault),
so the figures are the sync's own work; the first-sync figure includes writing every ID line with
fsync, which is disk-bound.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_vault import generate  # noqa: E402


def _timed_sync(vault: Path, collection: Path):
    from notecards.sync import sync_vault

    start = time.perf_counter()
    report = sync_vault(vault, collection=collection)
    return time.perf_counter() - start, report


def _edit_one_file(vault: Path) -> Path:
    note = sorted(vault.rglob("*.md"))[0]
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("Back:", "Back:\nEdited for the benchmark.", 1), encoding="utf-8")
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--cards-per-note", type=int, default=5)
    args = parser.parse_args()

    from anki.collection import Collection

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = root / "warm"
        warm.mkdir()
        (warm / "w.md").write_text("START\nBasic\nwarm-up\nBack: x\nEND\n")
        Collection(str(root / "warm.anki2")).close()
        _timed_sync(warm, root / "warm.anki2")

        vault = root / "vault"
        vault.mkdir()
        generate(vault, args.notes, args.cards_per_note, 0)
        collection = root / "collection.anki2"
        Collection(str(collection)).close()

        rows = []
        for label in ("first sync (empty collection)", "unchanged re-sync", "one edited file"):
            if label == "one edited file":
                _edit_one_file(vault)
            seconds, report = _timed_sync(vault, collection)
            if report.exit_code() != 0 and report.problem:
                raise SystemExit(report.summary())
            counts = report.plan.counts() if report.plan else {}
            rows.append((label, seconds, report.files_read, counts))
        col = Collection(str(collection))
        notes = col.note_count()
        col.close()

    print(f"vault: {args.notes} notes x {args.cards_per_note} cards; collection holds {notes} notes")
    for label, seconds, read, counts in rows:
        print(f"{label:32s} {seconds:7.3f} s  files read {read:5d}  add {counts.get('add', 0):5d}  "
              f"update {counts.get('update', 0):4d}  unchanged {counts.get('unchanged', 0):5d}")


if __name__ == "__main__":
    main()
