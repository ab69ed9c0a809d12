"""Time a vault's simulations: 200 cards with ```sim blocks, cold (empty cache) then warm; the
CPU of one figure in a warm worker, the figures' bytes, and the size of the deck they make.

    python benchmarks/bench_sim.py [--cards 200] [--workers 2] [--new-card-only]

It also times `notecards export` of a vault whose one new card has a model (the other 60 notes
come from the build cache) and of a new vault of 300 notes with 2 model cards: the workers start
as soon as a model is found uncached, so their imports overlap the rest of the build.
`--new-card-only` prints just those figures; run it with PYTHONPATH pointing at another checkout
to compare (the export runs in a subprocess).

Targets: ≤ 20 ms CPU per figure in a warm worker, median figure ≤ 20 KiB, on 2 cores cold
< 15 s, warm < 1 s with 0 figures rendered. The cards vary their constants so that every one
draws a different figure, as a real vault's would. Wall time depends on what else the machine
runs, so the CPU time (this process and the pool's workers) is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from notecards.sim.lang import parse_sim
from notecards.models.run import SimJob, run_simulations

MODELS = [
    "lambda = {a}\nsigma = 1\ntheta ~ Normal(0, lambda)\nX ~ Normal(theta, sigma^2)\n"
    "check: var(X) ≈ lambda + sigma^2\n",
    "a = 3\nb = {a}\nsigma2 ~ InverseGamma(a, b)\ny ~ Normal(0, sigma2)\ncheck: mean(sigma2) ≈ b / (a - 1)\n",
    "J = 8\nmu = 0\ntau = {a}\ns = [15, 10, 16, 11, 9, 11, 10, 18]\ntheta[1..J] ~ Normal(mu, tau^2)\n"
    "y[j] ~ Normal(theta[j], s[j]^2)\n",
    "rate = {a}\nk ~ Poisson(rate)\nx ~ Gamma(k + 1, 1)\ncheck: mean(k) ≈ rate\n",
]


def make_jobs(count: int) -> list[SimJob]:
    jobs = []
    for i in range(count):
        text = MODELS[i % len(MODELS)].format(a=2 + i % 17)
        spec, diagnostics = parse_sim(text, f"note{i}.md", 5)
        if spec is None:
            raise SystemExit("\n".join(d.format() for d in diagnostics))
        jobs.append(SimJob(key=f"bench-card-{i}", path=f"note{i}.md", line=4, spec=spec))
    return jobs


def _cpu_seconds() -> float:
    """CPU used by this process and its finished children (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_run(jobs: list[SimJob], cache: Path, workers: int) -> tuple[float, int, float]:
    start, cpu = time.perf_counter(), _cpu_seconds()
    outcomes = run_simulations(jobs, cache, workers=workers)
    elapsed, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    errors = [d for o in outcomes for d in o.diagnostics if d.severity == "error"]
    if errors:
        raise SystemExit("\n".join(d.format() for d in errors[:5]))
    return elapsed, sum(len(o.figures) for o in outcomes if o.rendered), cpu


def warm_worker_cpu(jobs: list[SimJob], warmup: int = 8) -> tuple[float, float]:
    """(median, mean) CPU ms to simulate and draw one card in a worker whose imports and figures
    are already warm, as the pool's workers are after their first cards."""
    from notecards.models.run import cache_key, environment, render_job

    env = environment()
    for job in jobs[:warmup]:
        render_job(job, cache_key(job, env, None), None)
    times = []
    for job in jobs[warmup:]:
        start = time.process_time()
        render_job(job, cache_key(job, env, None), None)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), statistics.fmean(times)


def deck_megabytes(count: int, cache: Path) -> float:
    """The .apkg of a vault of `count` model cards (figures from `cache`, already drawn)."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault"
        (vault / ".notecards").mkdir(parents=True)
        os.symlink(cache, vault / ".notecards" / "sims")
        for i in range(count):
            text = MODELS[i % len(MODELS)].format(a=2 + i % 17)
            (vault / f"note{i}.md").write_text(f"START\nBasic\nModel {i}?\nBack: see below\n```sim\n{text}```\nEND\n",
                                               encoding="utf-8")
        out = Path(tmp) / "deck.apkg"
        subprocess.run([sys.executable, "-m", "notecards", "export", str(vault), "-o", str(out)], check=True,
                       capture_output=True)
        return out.stat().st_size / 1e6


def export_with_new_models(notes: int = 60, models: int = 1, exported_before: bool = True,
                           reps: int = 5) -> tuple[float, float]:
    """(median wall s, median CPU s of the export and its workers) of `notecards export` on a
    vault of `notes` plain notes (exported once before, so they come from the build cache, when
    `exported_before`) to which `models` cards with new models were added."""
    import subprocess

    walls, cpus = [], []
    for rep in range(reps):
        with tempfile.TemporaryDirectory() as tmp:
            vault = Path(tmp) / "vault"
            vault.mkdir()
            for i in range(notes):
                (vault / f"n{i}.md").write_text(f"# Note {i}\n\nProse with $x^2$ and **bold**.\n\n"
                                                f"START\nBasic\nQuestion {i}?\nBack: answer {i}\nEND\n", encoding="utf-8")
            command = [sys.executable, "-m", "notecards", "export", str(vault), "-o", str(Path(tmp) / "deck.apkg"), "-q"]
            if exported_before:
                subprocess.run(command, check=True, capture_output=True)
            for i in range(models):
                model = MODELS[0].format(a=100 + rep * models + i)
                (vault / f"model{i}.md").write_text(f"START\nBasic\nModel {i}?\nBack: see below\n```sim\n{model}```\nEND\n",
                                                    encoding="utf-8")
            start, cpu = time.perf_counter(), _cpu_seconds()
            subprocess.run(command, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
            cpus.append(_cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def print_new_model_exports() -> None:
    for label, kwargs in (("a vault of 60 exported notes and one new model card", {}),
                          ("a new vault of 300 notes and 2 model cards", {"notes": 300, "models": 2,
                                                                         "exported_before": False})):
        wall, cpu = export_with_new_models(**kwargs)
        print(f"export of {label}: {wall:.2f} s wall, {cpu:.2f} s CPU (median of 5; "
              f"load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--new-card-only", action="store_true",
                        help="time only the exports of vaults with new model cards")
    args = parser.parse_args()
    print_new_model_exports()
    if args.new_card_only:
        return
    jobs = make_jobs(args.cards)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / ".notecards" / "sims"
        cold, rendered, cold_cpu = timed_run(jobs, cache, args.workers)
        warm, rerendered, _ = timed_run(jobs, cache, args.workers)
        sizes = sorted(p.stat().st_size for p in cache.glob("nc-sim-*.svg"))
        deck = deck_megabytes(args.cards, cache)
    median_ms, mean_ms = warm_worker_cpu(make_jobs(48))
    print(f"cards: {args.cards}, workers: {args.workers}, cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(f"one figure in a warm worker: {median_ms:.0f} ms CPU median, {mean_ms:.0f} ms mean")
    print(f"figure bytes: median {statistics.median(sizes) / 1024:.1f} KiB, mean {statistics.fmean(sizes) / 1024:.1f} KiB, "
          f"largest {sizes[-1] / 1024:.1f} KiB")
    print(f"cold: {cold:.2f} s, {rendered} figures rendered, "
          f"{cold / max(rendered, 1) * 1000:.0f} ms per figure wall")
    print(f"cold CPU: {cold_cpu:.1f} s (workers and their start included), "
          f"{cold_cpu / max(rendered, 1) * 1000:.0f} ms per figure; "
          f"on {args.workers} otherwise idle cores that is about {cold_cpu / args.workers:.1f} s wall")
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    print(f"warm: {warm:.3f} s, {rerendered} figures rendered")
    print(f"deck of the {args.cards} model cards: {deck:.2f} MB")


if __name__ == "__main__":
    main()
