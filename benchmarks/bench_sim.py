"""Time a vault's simulations: 200 cards with ```sim blocks, cold (empty cache) then warm.

    python benchmarks/bench_sim.py [--cards 200] [--workers 2]

Targets on 2 cores: cold < 15 s, warm < 1 s with 0 figures rendered. The cards vary their
constants so that every one draws a different figure, as a real vault's would. Wall time
depends on what else the machine runs, so the CPU time (this process and the pool's workers)
is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = make_jobs(args.cards)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / ".notecards" / "sims"
        cold, rendered, cold_cpu = timed_run(jobs, cache, args.workers)
        warm, rerendered, _ = timed_run(jobs, cache, args.workers)
        size = sum(p.stat().st_size for p in cache.glob("*.png"))
    print(f"cards: {args.cards}, workers: {args.workers}, cores: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(f"cold: {cold:.2f} s, {rendered} figures rendered, "
          f"{cold / max(rendered, 1) * 1000:.0f} ms per figure wall, "
          f"{cold * args.workers / max(rendered, 1) * 1000:.0f} ms per figure per worker; "
          f"{size / max(rendered, 1) / 1024:.0f} KiB per figure")
    print(f"cold CPU: {cold_cpu:.1f} s (workers included), {cold_cpu / max(rendered, 1) * 1000:.0f} ms per figure; "
          f"on {args.workers} otherwise idle cores that is about {cold_cpu / args.workers:.1f} s wall")
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    print(f"warm: {warm:.3f} s, {rerendered} figures rendered")


if __name__ == "__main__":
    main()
