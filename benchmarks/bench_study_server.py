"""Benchmark the study server as the page sees it: real `notecards study` subprocess, real HTTP.

    python benchmarks/bench_study_server.py [--notes 1000] [--repeat 40]

Prints the time from starting the command to the first card over HTTP (cold: no `.notecards/`;
warm: second start), then medians of one kept-alive connection's round trips, as a browser
makes them: GET api/next (refresh included), POST api/answer (fsync included), GET api/decks,
and a static file (KaTeX). `bench_study.py` times the engine alone; the difference is the
server's share.

Then a slider redraw on a model card (a vault of that one note): POST api/redraw, request to new
figure (the caption's HTML; the figure file is then one GET), cold (a value never drawn) and
cached (the same values again, served by the content-keyed cache).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_vault import generate  # noqa: E402


class Page:
    """One kept-alive HTTP connection to the study server, as the browser keeps one."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.prefix = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None) -> bytes:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, self.prefix + path, body=json.dumps(body) if body is not None else None,
                          headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
        return data


def start(vault: Path) -> tuple[subprocess.Popen, str, float]:
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "notecards", "study", str(vault), "--no-browser", "--port", "0", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "CI": "true"})
    url = proc.stdout.readline().strip()
    Page(url).request("GET", "api/next")
    return proc, url, time.perf_counter() - began


MODEL_NOTE = """START
Basic
The marginal variance of X?
Back: lambda plus one.
```sim
lambda = 4
theta ~ Normal(0, lambda)
X ~ Normal(theta, 1)
n = 2000
check: var(X) ≈ lambda + 1
```
END
"""


def redraws(root: Path, repeat: int) -> dict[str, list[float]]:
    """Median request-to-figure times of slider moves on a model card, cold then cached."""
    vault = root / "model-vault"
    vault.mkdir()
    (vault / "model.md").write_text(MODEL_NOTE, encoding="utf-8")
    proc, url, _ = start(vault)
    try:
        page = Page(url)
        card = json.loads(page.request("GET", "api/next"))["card"]["id"]
        slider = json.loads(page.request("GET", f"api/sliders?card_id={card}"))["sliders"][0]
        picks = [slider["values"][i] for i in range(0, len(slider["values"]), max(1, len(slider["values"]) // repeat))]
        out: dict[str, list[float]] = {"POST api/redraw (cold)": [], "POST api/redraw (cached)": []}
        for name in out:
            for value in picks:
                began = time.perf_counter()
                page.request("POST", "api/redraw", {"card_id": card, "values": {slider["name"]: value}})
                out[name].append(time.perf_counter() - began)
        return out
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=1000, help="notes of 5 cards each")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-study-server-"))
    try:
        vault = root / "vault"
        generate(vault, args.notes, 5, 0)
        proc, _, cold = start(vault)
        stop(proc)
        proc, url, warm = start(vault)
        page = Page(url)
        timings: dict[str, list[float]] = {"GET api/next": [], "POST api/answer": [], "GET api/decks": [],
                                           "GET static/katex/katex.min.js": []}

        def timed(name: str, method: str, path: str, body: dict | None = None) -> bytes:
            began = time.perf_counter()
            data = page.request(method, path, body)
            timings[name].append(time.perf_counter() - began)
            return data

        for _ in range(args.repeat):
            card = json.loads(timed("GET api/next", "GET", "api/next"))["card"]
            timed("POST api/answer", "POST", "api/answer", {"card_id": card["id"], "rating": 3})
            timed("GET api/decks", "GET", "api/decks")
            timed("GET static/katex/katex.min.js", "GET", "static/katex/katex.min.js")
        stop(proc)
        timings.update(redraws(root, min(args.repeat, 20)))
        print(f"{args.notes * 5} cards: command start to first card over HTTP: cold {cold:.2f} s, warm {warm:.2f} s")
        for name, values in timings.items():
            print(f"  {name:32} median {statistics.median(values) * 1000:6.1f} ms over {len(values)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
