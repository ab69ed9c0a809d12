"""Time `notecards sync` into a collection: first sync of 5,000 cards into an empty collection,
an unchanged re-sync, then a re-sync after one edited file; with `--ankiconnect`, the same through
a real Anki with the AnkiConnect add-on (run headless, see docs/sync.md), beside the direct backend.

    python benchmarks/bench_sync.py [--notes 1000] [--cards-per-note 5]
    NOTECARDS_ANKICONNECT_ADDON=/path/to/anki-connect/plugin \
        python benchmarks/bench_sync.py --notes 200 --ankiconnect     # 1,000 cards both ways
    NOTECARDS_ANKICONNECT_ADDON=… python benchmarks/bench_sync.py --notes 2000 --ankiconnect   # 10,000 cards
    … --repeat 7                        # re-sync and edit 7 times each: medians, and the range
    NOTECARDS_ANKICONNECT_ADDON=… python benchmarks/bench_sync.py --notes 500 --cards-per-note 0 \
        --sims 500 --ankiconnect                                      # 500 model cards with figures
    NOTECARDS_ANKICONNECT_ADDON=… python benchmarks/bench_sync.py --limits   # the add-on's limits

Targets on 2 cores: first sync under 5 s, unchanged re-sync under 0.5 s, one edited file under
0.5 s; through AnkiConnect, a first sync within 2x of the direct backend, re-syncs within ~3x
(each request waits for the add-on's 25 ms poll: the requests column is their count and the time
spent waiting for their answers). Each sync runs in this
process (imports are warmed by an untimed sync of a one-card vault), so the figures are the sync's
own work; the first-sync figure includes writing every ID line with fsync, which is disk-bound.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from gen_vault import generate  # noqa: E402

LABELS = ("first sync (empty collection)", "unchanged re-sync", "one edited file")


class RequestMeter:
    """Requests to AnkiConnect and the time spent waiting for their answers (Anki's part, with
    the add-on's 25 ms poll), counted by wrapping the client's one HTTP method."""

    def __init__(self):
        from notecards.sync import connection

        self.count, self.seconds = 0, 0.0
        post = connection.AnkiConnect._post

        def timed(client, body, timeout, action):
            start = time.perf_counter()
            try:
                return post(client, body, timeout, action)
            finally:
                self.count += 1
                self.seconds += time.perf_counter() - start
        connection.AnkiConnect._post = timed

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0


def _timed_sync(vault: Path, collection: Path | None = None, ankiconnect: str | None = None):
    from notecards.sync import sync_vault

    start = time.perf_counter()
    report = sync_vault(vault, collection=collection, ankiconnect=ankiconnect)
    return time.perf_counter() - start, report


def _edit_one_file(vault: Path, n: int) -> Path:
    note = sorted(vault.rglob("*.md"))[0]
    text = note.read_text(encoding="utf-8")
    note.write_text(text.replace("Back:", f"Back:\nEdited for the benchmark ({n}).", 1), encoding="utf-8")
    return note


def _three_syncs(vault: Path, repeat: int, meter: RequestMeter, **target) -> list[tuple]:
    """The first sync, then `repeat` rounds of an unchanged re-sync and a one-file edit (each
    figure the median of its rounds)."""
    rows = []
    for label in LABELS:
        runs = []
        for n in range(1 if label == LABELS[0] else repeat):
            if label == "one edited file":
                _edit_one_file(vault, n)
            meter.reset()
            seconds, report = _timed_sync(vault, **target)
            if report.exit_code() != 0 and report.problem:
                raise SystemExit(report.summary())
            runs.append((seconds, meter.count, meter.seconds, report))
        runs.sort(key=lambda r: r[0])
        seconds, count, waited, report = runs[len(runs) // 2]
        counts = report.plan.counts() if report.plan else {}
        spread = (runs[0][0], runs[-1][0]) if len(runs) > 1 else None
        rows.append((label, seconds, spread, count, waited, report.files_read, counts))
    return rows


def _print(title: str, rows: list[tuple]) -> None:
    print(title)
    for label, seconds, spread, count, waited, read, counts in rows:
        between = f" ({spread[0]:.3f}-{spread[1]:.3f})" if spread else ""
        asked = f"  requests {count:3d} ({waited:6.3f} s)" if count else ""
        print(f"  {label:32s} {seconds:7.3f} s{between}{asked}  files read {read:5d}  add {counts.get('add', 0):5d}  "
              f"update {counts.get('update', 0):4d}  unchanged {counts.get('unchanged', 0):5d}")


def _direct(root: Path, args, meter: RequestMeter) -> list[tuple]:
    from anki.collection import Collection

    vault = root / "vault-direct"
    vault.mkdir()
    generate(vault, args.notes, args.cards_per_note, args.sims)
    collection = root / "collection.anki2"
    Collection(str(collection)).close()
    return _three_syncs(vault, args.repeat, meter, collection=collection)


def _through_ankiconnect(root: Path, args, meter: RequestMeter) -> list[tuple]:
    from anki_desktop import AnkiDesktop

    vault = root / "vault-ankiconnect"
    vault.mkdir()
    generate(vault, args.notes, args.cards_per_note, args.sims)
    with AnkiDesktop(root / "anki") as anki:
        return _three_syncs(vault, args.repeat, meter, ankiconnect=anki.url)


def _limits(root: Path) -> None:
    """What the add-on can take: body size against time to answer, notes per request."""
    import base64
    import os

    from anki_desktop import AnkiDesktop

    with AnkiDesktop(root / "anki") as anki:
        start = time.perf_counter()
        for _ in range(20):
            anki.call("version")
        print(f"round trip (version): {(time.perf_counter() - start) / 20 * 1000:.0f} ms")
        for mb in (0.25, 0.5, 1, 2, 4, 8):
            data = base64.b64encode(os.urandom(int(mb * 1e6 * 3 / 4))).decode()
            start = time.perf_counter()
            anki.call("storeMediaFile", filename=f"limit-{mb}.bin", data=data)
            print(f"request body {mb:5.2f} MB: {time.perf_counter() - start:6.2f} s")
        for n in (100, 500, 1000):
            notes = [{"deckName": "Default", "modelName": "Basic", "tags": ["t"],
                      "fields": {"Front": f"limit {n}.{i} " + "x" * 200, "Back": "y" * 300},
                      "options": {"allowDuplicate": True}} for i in range(n)]
            start = time.perf_counter()
            ids = anki.call("addNotes", notes=notes)
            added = time.perf_counter() - start
            start = time.perf_counter()
            anki.call("notesInfo", notes=ids)
            info = time.perf_counter() - start
            print(f"addNotes {n:5d}: {added:6.2f} s ({added / n * 1000:.1f} ms/note); notesInfo {info:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--cards-per-note", type=int, default=5)
    parser.add_argument("--sims", type=int, default=0, help="this many notes get a model card with figures")
    parser.add_argument("--ankiconnect", action="store_true", help="also through a real Anki (AnkiConnect)")
    parser.add_argument("--limits", action="store_true", help="measure the AnkiConnect add-on's limits")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of re-sync and edit (medians printed)")
    args = parser.parse_args()

    from anki.collection import Collection

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.limits:
            _limits(root)
            return
        warm = root / "warm"
        warm.mkdir()
        (warm / "w.md").write_text("START\nBasic\nwarm-up\nBack: x\nEND\n")
        Collection(str(root / "warm.anki2")).close()
        _timed_sync(warm, root / "warm.anki2")
        print(f"vault: {args.notes} notes x {args.cards_per_note} cards, {args.sims} model cards with figures")
        meter = RequestMeter()
        _print("direct (--collection):", _direct(root, args, meter))
        if args.ankiconnect:
            _print("through AnkiConnect (real Anki, headless):", _through_ankiconnect(root, args, meter))


if __name__ == "__main__":
    main()
