"""Benchmark the stats page: a vault of 5,000 cards with a history of 100,000 answers (two
devices, two years), the engine warm (replay cached), then the median time of what
`GET api/stats` does — the numbers (every answer read from the replay cache) and the SVG charts —
for the whole vault and for one deck. The server reads the answers on a thread when it starts
(`AnswerLog.prepare`), so its first opening costs the background read (printed on its own: it
runs while the person studies) and then a page drawn from the kept log; without it (a cache kept
in memory), the first opening costs the "every answer read" line.

    python benchmarks/bench_study_stats.py [--notes 1000] [--reviews 100000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_study import cpu_note, open_study, synthetic_history, timed  # noqa: E402
from gen_vault import generate  # noqa: E402

from notecards.study.charts import charts  # noqa: E402
from notecards.study.stats import AnswerLog, compute  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--reviews", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nc-bench-stats-"))
    vault = root / "vault"
    try:
        generate(vault, args.notes, 5, 0)
        study = open_study(vault)
        synthetic_history(study, args.reviews, vault / "study-history")
        study.close()
        study = open_study(vault)
        deck = sorted({face.deck for face in study.faces.values()})[0]
        print(f"{len(study.faces)} cards, {args.reviews:,} answers")
        for name, chosen in (("whole vault", None), (f"deck {deck}", deck)):
            seconds, _ = timed(lambda: charts(compute(study, chosen)), args.repeat)
            print(f"  stats, {name}, first opening (every answer read): median {seconds * 1000:.0f} ms {cpu_note()}")
        def background_then_page() -> tuple[float, float]:
            log = AnswerLog(study.tz, study.study_settings.day_start_hour)
            start = time.perf_counter()
            log.prepare(study.replay.store.db, study.replay.alias)
            log.wait()
            read = time.perf_counter() - start
            start = time.perf_counter()
            charts(compute(study, None, log))
            return read, time.perf_counter() - start

        runs = [background_then_page() for _ in range(args.repeat)]
        print(f"  stats, whole vault, server's first opening: background read at start median "
              f"{statistics.median(r[0] for r in runs) * 1000:.0f} ms, then the page median "
              f"{statistics.median(r[1] for r in runs) * 1000:.0f} ms")
        log = AnswerLog(study.tz, study.study_settings.day_start_hour)
        compute(study, None, log)
        cards = sorted(study.faces)

        def answer_then_stats(state={"i": 0}) -> None:
            study.answer(cards[state["i"]], 3)
            state["i"] += 1
            charts(compute(study, None, log))

        seconds, _ = timed(answer_then_stats, args.repeat)
        print(f"  stats, whole vault, opened again after an answer (answer included): median "
              f"{seconds * 1000:.0f} ms {cpu_note()}")
        study.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
