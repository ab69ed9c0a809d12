"""Time one ```python sim block in the sandbox: the fixed cost of a run (namespaces, the private
filesystem view, a fresh interpreter) and a matplotlib figure, re-encoded on the way back.

    PYTHONPATH=src python benchmarks/bench_sandbox.py [RUNS]

Prints the median wall time of RUNS runs (default 8) of each block.
"""

from __future__ import annotations

import statistics
import sys
import time

from notecards.sim.sandbox import run_python_sim

BLOCKS = {
    "print(1)": "print(1)\n",
    "matplotlib figure": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.savefig('a.png')\n",
}


def main(runs: int) -> None:
    for label, code in BLOCKS.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = run_python_sim(code, timeout=120)
            times.append(time.perf_counter() - start)
            if result.error is not None:
                raise SystemExit(f"{label}: {result.error}")
        print(f"{label}: median {statistics.median(times):.3f} s over {runs} runs "
              f"({', '.join(result.isolation)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
