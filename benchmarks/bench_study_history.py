"""Benchmark the history actions: import of an Anki review log, and fitting FSRS parameters.

    python benchmarks/bench_study_history.py [--notes 1000] [--reviews 50000]

A vault of ~5,000 cards is synced to a new Anki collection (not timed), whose review log is
filled with `--reviews` rows (a learning answer, then reviews spread over two years, per card).
Prints: the import (vault build from the cache, reading the collection, one fsync'd append), an
import again (nothing new; the study start inside it replays the imported history), and the next
study start, warm.
Then the optimizer: a history of `--optimize-reviews` answers (bench_study's synthetic two-device
history over the same cards) and `notecards history optimize`'s fit of FSRS parameters to it,
evaluation before and after included. Targets on the 2-core dev machine: import of 50,000 reviews
<= 5 s; optimizing on 100,000 reviews <= 30 s.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_vault import generate  # noqa: E402

from notecards.cli import main as cli  # noqa: E402
from notecards.study.anki_import import import_anki_history  # noqa: E402
from notecards.study.engine import Study  # noqa: E402
from notecards.study.optimize import optimize_parameters  # noqa: E402

DAY_MS = 86_400_000


def fill_revlog(collection: Path, reviews: int) -> int:
    """`reviews` revlog rows over the collection's cards: per card a learning answer, then review
    answers at growing gaps (Again 1 in 8), all ending before now. Returns the rows written."""
    from anki.collection import Collection

    rng = random.Random(3)
    col = Collection(str(collection))
    cards = col.db.list("select id from cards order by id")
    per_card = max(1, reviews // len(cards))
    now = int(time.time() * 1000)
    rows = []
    for cid in cards:
        moment = now - 730 * DAY_MS + rng.randrange(30 * DAY_MS)
        gap = 1.0
        for k in range(per_card):
            ease = 3 if k == 0 else rng.choice((1, 2, 3, 3, 3, 3, 3, 4))
            rows.append((moment, cid, ease, 0 if k == 0 else 1))
            gap = 1.0 if ease == 1 else gap * (1.5 + rng.random() * 2)
            moment += int(min(gap, 700 / per_card) * DAY_MS) + rng.randrange(3_600_000)
    rows = sorted(rows[:reviews])
    for i in range(1, len(rows)):               # revlog ids are unique: Anki bumps a taken one
        if rows[i][0] <= rows[i - 1][0]:
            rows[i] = (rows[i - 1][0] + 1, *rows[i][1:])
    col.db.executemany("insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
                       "values (?, ?, -1, ?, 1, 0, 2500, 4000, ?)", rows)
    col.close()
    return len(rows)


def bench_optimize(vault: Path, notes: int, reviews: int) -> None:
    from bench_study import synthetic_history

    generate(vault, notes, 5, 0)
    study = Study.open(vault, device="desktop", simulate=False)
    synthetic_history(study, reviews, vault / "study-history")
    study.close()
    Study.open(vault, device="desktop", simulate=False).close()      # the replay cache, as after studying
    t, result = timed(lambda: optimize_parameters(vault, save=False, device="desktop"))
    print(f"optimize ({result.reviews} reviews, {result.items} items): {t * 1000:8.0f} ms   (log loss "
          f"{result.before.log_loss:.4f} -> {result.after.log_loss:.4f}, RMSE {result.before.rmse:.4f} -> "
          f"{result.after.rmse:.4f})")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--reviews", type=int, default=50_000)
    p.add_argument("--optimize-reviews", type=int, default=100_000)
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nc-bench-history-"))
    vault, collection = root / "vault", root / "collection.anki2"
    try:
        from anki.collection import Collection

        generate(vault, args.notes, 5, 0)
        Collection(str(collection)).close()
        print("syncing the vault to a new collection (not timed) …", flush=True)
        if cli(["sync", str(vault), "--collection", str(collection)]) != 0:
            raise SystemExit("sync failed")
        rows = fill_revlog(collection, args.reviews)
        Study.open(vault, device="desktop", simulate=False).close()       # the build cache, as after a study
        print(f"vault: {args.notes} notes synced; revlog: {rows} rows")
        t, report = timed(lambda: import_anki_history(vault, collection, device="desktop"))
        print(f"import ({report.reviews} reviews, {report.cards} cards):   {t * 1000:8.0f} ms")
        t, again = timed(lambda: import_anki_history(vault, collection, device="desktop"))
        print(f"import again ({again.already} already there; its start replays them): {t * 1000:8.0f} ms")
        t, study = timed(lambda: Study.open(vault, device="desktop", simulate=False))
        print(f"next study start (warm):               {t * 1000:8.0f} ms")
        study.close()
        bench_optimize(root / "optimize", args.notes, args.optimize_reviews)
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
