"""Inference benchmark: eight schools (4 chains), the seeds' three-level school model (a normal
hyperprior on the overall mean, integrated out in the collapsed block with the school means), a
100-group x 50-observation hierarchy, and one fitted card through the export pipeline.

Prints wall and CPU time (on a shared machine the CPU time is the steadier figure; ESS/s uses
wall time), the sampler of each node, and bulk/tail ESS and ESS per second for every
parameter (the 100-group model prints the minimum over groups). The pipeline part builds a
one-note vault holding the eight-schools card: cold (fit + four figures), warm from the
simulation cache (the note is parsed again, nothing fitted or drawn), and warm from the file
cache (as a second `notecards export` runs). The figures part draws a fitted card's four figures
again from one fit (eight schools, and the seeds' school model) and prints their CPU per card
and bytes per figure. Run:
    /tmp/venv/bin/python benchmarks/bench_infer.py
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from notecards.infer import fit
from notecards.sim.lang import parse_sim

EIGHT_SCHOOLS = """\
y = [28, 8, -3, 7, -1, 1, 18, 12]
s = [15, 10, 16, 11, 9, 11, 10, 18]
J = 8
mu ~ Normal(0, 100)
tau ~ HalfCauchy(5)
theta[1..J] ~ Normal(mu, tau^2)
y[j] ~ Normal(theta[j], s[j]^2)
"""


THREE_LEVELS = """\
score = [72, 65, 80, 70, 68, 77, 74, 63, 58, 62, 55, 66, 60, 85, 78, 90, 82, 76, 88, 81, 70, 79, 61]
school = [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4]
I = 23
J = 4
mu0 ~ Normal(70, 400)
tau2 ~ InverseGamma(2, 50)
mu[1..J] ~ Normal(mu0, tau2)
sigma2[1..J] ~ InverseGamma(3, 200)
score[i] ~ Normal(mu[school[i]], sigma2[school[i]])
"""


def many_groups_text(groups: int = 100, per_group: int = 50, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    theta = 70 + 5 * rng.standard_normal(groups)
    school = np.repeat(np.arange(1, groups + 1), per_group)
    y = np.round(theta[school - 1] + 10 * rng.standard_normal(school.size), 2)
    return (f"y = {y.tolist()}\nschool = {school.tolist()}\nI = {y.size}\nJ = {groups}\n"
            "mu ~ Normal(0, 10000)\ntau ~ HalfCauchy(10)\nsigma2 ~ InverseGamma(0.01, 0.01)\n"
            "theta[1..J] ~ Normal(mu, tau^2)\ny[i] ~ Normal(theta[school[i]], sigma2)\n")


def run(title: str, text: str, seed: int) -> None:
    spec, diagnostics = parse_sim(text, "bench.md", 1)
    assert not [d for d in diagnostics if d.severity == "error"], diagnostics
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fit(spec, seed=seed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"\n{title}: {seconds:.2f} s wall, {cpu:.2f} s CPU for {result.chains} chains x "
          f"({result.warmup} warmup + {result.iterations} draws)")
    for node, label in result.samplers.items():
        print(f"  {node:8s} {label}")
    rows = {}
    for name, p in result.params.items():
        base = name.split("[")[0]
        ess = min(p.ess, p.ess_tail)
        if base not in rows or ess < rows[base][1]:
            rows[base] = (name, ess, p)
    print(f"  {'parameter':12s} {'mean':>9s} {'sd':>8s} {'R-hat':>7s} {'bulk ESS':>9s} "
          f"{'tail ESS':>9s} {'ESS/s':>8s}")
    names = result.params if len(result.params) <= 12 else [r[0] for r in rows.values()]
    for name in names:
        p = result.params[name]
        print(f"  {name:12s} {p.mean:9.3f} {p.sd:8.3f} {p.rhat:7.4f} {p.ess:9.0f} "
              f"{p.ess_tail:9.0f} {min(p.ess, p.ess_tail) / seconds:8.0f}")
    worst = min(min(p.ess, p.ess_tail) for p in result.params.values())
    print(f"  min ESS over all {len(result.params)} parameters: {worst:.0f} "
          f"({worst / seconds:.0f}/s); warnings: {len(result.diagnostics)}")


CARD = "START\nBasic\nHow much do the eight schools shrink?\nBack: see the fit.\n```sim\n{sim}```\nEND\n"


def pipeline() -> None:
    """One fitted card through `notecards export` in a fresh process, as a user runs it."""
    root = Path(tempfile.mkdtemp(prefix="bench-fit-"))
    vault = root / "vault"
    vault.mkdir()
    try:
        (vault / "Eight schools.md").write_text(CARD.format(sim=EIGHT_SCHOOLS), encoding="utf-8")
        print("\none fitted card through `notecards export` (eight schools, 4 chains x 2000 draws):")
        for label in ("cold: fit + 4 figures", "warm: file cache", "warm: simulation cache"):
            if label.endswith("simulation cache"):
                (vault / ".notecards" / "cache.sqlite").unlink()
            start = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([sys.executable, "-m", "notecards", "export", str(vault), "-o",
                                   str(root / "out.apkg")], capture_output=True, text=True, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds = time.perf_counter() - start
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            summary = next(line.strip() for line in done.stdout.splitlines() if "simulations:" in line)
            print(f"  {label:24s} {seconds:6.2f} s wall, {cpu:6.2f} s CPU  ({summary})")
    finally:
        shutil.rmtree(root)


def figures(title: str, text: str, repeats: int = 5) -> None:
    """CPU of drawing one fitted card's figures (the fit done once before), and their bytes."""
    from notecards.infer.figures import fit_figures

    spec, _ = parse_sim(text, "bench.md", 1)
    result = fit(spec, seed=1)
    fit_figures(spec, result)                       # warm: imports and font loaded once, as in a worker
    cpu_start = time.process_time()
    for _ in range(repeats):
        drawn = fit_figures(spec, result)
    cpu = (time.process_time() - cpu_start) / repeats
    sizes = ", ".join(f"{kind} {len(data) / 1024:.1f}" for kind, data in drawn)
    print(f"  {title:14s} {cpu * 1000:5.0f} ms CPU per card; KiB: {sizes}; "
          f"total {sum(len(d) for _, d in drawn) / 1024:.1f}")


def main() -> None:
    run("eight schools", EIGHT_SCHOOLS, seed=1)
    run("three levels, the seeds' school scores (hyperprior on the overall mean)", THREE_LEVELS, seed=1)
    run("100 groups x 50 observations (minimum-ESS group shown)", many_groups_text(), seed=1)
    print("\na fitted card's figures, drawn again from one fit (warm):")
    figures("eight schools", EIGHT_SCHOOLS)
    figures("three levels", THREE_LEVELS)
    pipeline()


if __name__ == "__main__":
    main()
