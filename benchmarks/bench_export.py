"""Time `notecards export` on a synthetic vault: cold, unchanged re-run, one file changed.

    python benchmarks/bench_export.py [--notes 1000] [--cards-per-note 5] [--images 0]

With `--images N` the vault also holds N already-compressed pictures (see gen_vault.py), as a
real vault of screenshots and plots does; the package's size is printed too.

Each run is a real subprocess (`python -m notecards export`), so the figures include start-up and
imports, as a user sees them. Peak memory is the child's max RSS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_vault import generate  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, float, int, str, str]:
    """Wall time, peak RSS (MiB) of this one child, exit status, stdout, stderr."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out.read(), err.read()


def run(vault: Path, out: Path) -> tuple[float, float, str]:
    wall, peak, code, stdout, stderr = timed(
        [sys.executable, "-m", "notecards", "export", str(vault), "-o", str(out)])
    if code not in (0, 1):
        raise SystemExit(stderr)
    lines = stdout.strip().splitlines()
    return wall, peak, " | ".join([lines[0], lines[-1]]) if lines else f"exit {code}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--cards-per-note", type=int, default=5)
    p.add_argument("--images", type=int, default=0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault, out = Path(tmp) / "vault", Path(tmp) / "out.apkg"
        generate(vault, args.notes, args.cards_per_note, sims=0, images=args.images)
        cold = run(vault, out)
        size = out.stat().st_size
        warm = run(vault, out)
        changed = next(vault.rglob("note00007.md"))
        changed.write_text(changed.read_text(encoding="utf-8").replace("Question 7.0", "Question 7.0 (edited)"),
                           encoding="utf-8")
        one = run(vault, out)
        cards = args.notes * args.cards_per_note + min(args.notes, args.images)
        print(f"vault: {args.notes} notes, {cards} cards, {args.images} images; "
              f"package {size / 2**20:.1f} MiB")
        for name, (wall, mem, summary) in (("cold", cold), ("unchanged", warm), ("one file changed", one)):
            print(f"{name:>17}: {wall:6.3f} s   peak RSS {mem:6.1f} MiB   {summary}")


if __name__ == "__main__":
    main()
