"""Benchmark the study engine: a vault of ~5,000 cards and 100,000 reviews from two devices.

    python benchmarks/bench_study.py [--notes 1000] [--reviews 100000] [--repeat 30]

Prints medians: ready (cold: no `.notecards/`; cold replay: render cache kept, replay cache
deleted; warm: both kept), next card (with and without the `refresh()` the server does before
it), answer (fsync included), deck list. Targets on the 2-core dev machine: ready <= 1 s warm,
<= 5 s cold; next card and answer <= 30 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_vault import generate  # noqa: E402

from notecards.study.engine import Study  # noqa: E402
from notecards.study.events import format_time, split_card_id  # noqa: E402

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def synthetic_history(study: Study, reviews: int, folder: Path) -> None:
    """`reviews` answers spread over the cards and two years, alternating two devices' files."""
    rng = random.Random(7)
    cards = sorted(study.faces)
    per_card = max(1, reviews // len(cards))
    events = []
    for cid in cards:
        guid, ordinal = split_card_id(cid)
        start = NOW - timedelta(days=730) + timedelta(minutes=rng.randrange(60 * 24 * 30))
        for k in range(per_card):
            moment = start + timedelta(days=k * 730 / per_card, minutes=rng.randrange(600))
            events.append((moment, guid, ordinal, rng.choice((1, 3, 3, 3, 4, 2))))
    events = events[:reviews]
    events.sort()
    folder.mkdir(parents=True, exist_ok=True)
    seq = {"laptop": 0, "phone": 0}
    files = {d: open(folder / f"{d}.jsonl", "w", encoding="utf-8") for d in seq}
    for i, (moment, guid, ordinal, rating) in enumerate(events):
        device = "laptop" if i % 2 else "phone"
        seq[device] += 1
        files[device].write(json.dumps({"id": f"{device}:{seq[device]}", "type": "review", "time": format_time(moment),
                                        "guid": guid, "ord": ordinal, "rating": rating, "ms": 4000},
                                       separators=(",", ":")) + "\n")
    for f in files.values():
        f.close()


CPU: list[float] = []      # process time of the last `timed` call's median run (the machine is shared)


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` runs, and the last result; CPU[0] the median process time."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[:] = [statistics.median(cpu)]
    return statistics.median(times), result


def cpu_note() -> str:
    return f"(CPU {CPU[0] * 1000:.0f} ms)"


def open_study(vault: Path) -> Study:
    return Study.open(vault, clock=lambda: NOW, tz=timezone.utc, device="desktop", simulate=False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--reviews", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=30)
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="nc-bench-study-"))
    vault = root / "vault"
    try:
        generate(vault, args.notes, 5, 0)
        study = open_study(vault)
        print(f"vault: {len(study.faces)} study cards in {args.notes} notes; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        synthetic_history(study, args.reviews, vault / "study-history")
        study.close()
        shutil.rmtree(vault / ".notecards")
        cold, study = timed(lambda: open_study(vault), 1)
        print(f"history: {sum(s.reps for s in study.replay.states.values())} reviews replayed, two devices")
        print(f"ready, cold (no .notecards/):           {cold * 1000:8.0f} ms   {cpu_note()} "
              "(render workers' CPU not counted)")
        study.close()
        samples, cpus = [], []
        for _ in range(3):
            (vault / ".notecards" / "study.sqlite").unlink()
            t, study = timed(lambda: open_study(vault), 1)
            study.close()
            samples.append(t)
            cpus.append(CPU[0])
        CPU[:] = [statistics.median(cpus)]
        print(f"ready, cold replay (render cache kept): {statistics.median(samples) * 1000:8.0f} ms   {cpu_note()}")
        warm, study = timed(lambda: open_study(vault), 5)
        print(f"ready, warm:                            {warm * 1000:8.0f} ms   {cpu_note()} (events replayed: "
              f"{study.replay.replayed_events})")
        t, _ = timed(lambda: study.next_card(), args.repeat)
        print(f"next card:                              {t * 1000:8.1f} ms   {cpu_note()}")
        t, _ = timed(lambda: (study.refresh(), study.next_card()), args.repeat)
        print(f"refresh + next card:                    {t * 1000:8.1f} ms   {cpu_note()}")
        t, _ = timed(lambda: study.answer(study.next_card().id, 3, 2000), args.repeat)
        print(f"next card + answer (fsync):             {t * 1000:8.1f} ms   {cpu_note()}")
        t, decks = timed(lambda: study.decks(), args.repeat)
        print(f"deck list ({len(decks)} decks):                  {t * 1000:8.1f} ms   {cpu_note()}")
        study.close()
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
