"""`notecards study` as a user runs it: a real subprocess, real HTTP, real signals."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import write
from test_study_server import make_vault

URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/s/[A-Za-z0-9_-]{40,}/$")


class Running:
    """`python -m notecards study VAULT [--no-browser] ARGS` with its output read line by line."""

    def __init__(self, vault: Path, *args: str, browser: bool = False, **env_extra: str) -> None:
        env = {**os.environ, "CI": "true", **env_extra}
        flags = [] if browser else ["--no-browser"]
        self.proc = subprocess.Popen([sys.executable, "-m", "notecards", "study", str(vault), *flags, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def url(self, timeout: float = 120) -> str:
        """The URL line, waiting for it as long as the build takes (a deadline, not a sleep)."""
        while (line := self.lines.get(timeout=timeout)) is not None:
            if line.startswith("http://"):
                return line
        raise AssertionError(f"no URL printed; exit {self.proc.wait(10)}: {self.proc.stderr.read()}")

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return code, self.proc.stderr.read()


@pytest.fixture
def vault(tmp_path):
    return make_vault(tmp_path)


def free_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


def test_study_prints_its_url_serves_the_page_and_ctrl_c_stops_it_with_exit_0(vault):
    run = Running(vault, "--port", "0")
    try:
        url = run.url()
        assert URL.match(url), url
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "notecards study" in page.text
        card = httpx.get(url + "api/next", timeout=30).json()["card"]
        assert card["deck"].startswith("Maths::")
    finally:
        code, err = run.stop()
    assert code == 0
    assert "Traceback" not in err


def test_the_browser_is_opened_at_the_url(vault, tmp_path):
    opened = tmp_path / "opened.txt"
    fake_browser = write(tmp_path, "browser.sh", f'#!/bin/sh\necho "$1" > {opened}\n')
    fake_browser.chmod(0o755)
    run = Running(vault, "--port", "0", browser=True, BROWSER=str(fake_browser))
    try:
        url = run.url()
        deadline = time.monotonic() + 60
        while not (opened.exists() and opened.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)                    # a poll with a deadline: the browser is another process
        assert opened.read_text().strip() == url
    finally:
        run.stop()


def test_without_a_graphical_browser_the_url_is_printed_with_a_hint(vault):
    """As on a server reached over ssh: no display, no browser on PATH."""
    run = Running(vault, "--port", "0", browser=True, PATH="/nonexistent", DISPLAY="", WAYLAND_DISPLAY="", BROWSER="")
    try:
        assert URL.match(run.url())
    finally:
        code, err = run.stop()
    assert code == 0
    assert "no graphical browser found" in err


def test_a_busy_port_given_with_port_is_a_one_line_error_with_exit_2(vault):
    with free_port() as busy:
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "notecards", "study", str(vault), "--no-browser",
                               "--port", str(port)], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "CI": "true"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"notecards: error: port {port} is in use; choose another with --port, or leave it out"]
    assert not (vault / "study-history").exists()


def test_without_port_a_busy_usual_port_gives_another_free_one(vault):
    from notecards.study.command import DEFAULT_PORT

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", DEFAULT_PORT))
        holder.listen(1)
    except OSError:
        pass                                    # someone else holds it: busy all the same
    run = Running(vault)
    try:
        port = int(URL.match(run.url()).group(1))
        assert port != DEFAULT_PORT
    finally:
        code, _ = run.stop()
        holder.close()
    assert code == 0


def test_a_vault_without_cards_says_so(tmp_path):
    write(tmp_path / "empty", "Just notes.md", "# Only prose here\n\nNo cards at all.\n")
    proc = subprocess.run([sys.executable, "-m", "notecards", "study", str(tmp_path / "empty"), "--no-browser"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "CI": "true"})
    assert proc.returncode == 1
    assert "no cards" in proc.stderr
    assert "http://" not in proc.stdout


def test_ext_reads_other_extensions_as_notes_as_in_the_other_commands(tmp_path):
    write(tmp_path / "txt", "Saved as text.txt", "START\nBasic\nA card in a .txt note?\nBack: yes\nEND\n")
    without = subprocess.run([sys.executable, "-m", "notecards", "study", str(tmp_path / "txt"), "--no-browser"],
                             capture_output=True, text=True, timeout=120, env={**os.environ, "CI": "true"})
    assert without.returncode == 1 and "no cards" in without.stderr
    run = Running(tmp_path / "txt", "--port", "0", "--ext", ".txt", "-q")
    try:
        url = run.url()
        card = httpx.get(url + "api/next", timeout=30).json()["card"]
        assert card["path"] == "Saved as text.txt"
    finally:
        code, _ = run.stop()
    assert code == 0


def test_an_unknown_deck_a_bad_port_or_a_missing_vault_is_bad_usage(vault, tmp_path):
    env = {**os.environ, "CI": "true"}
    deck = subprocess.run([sys.executable, "-m", "notecards", "study", str(vault), "--no-browser", "--deck", "Nope"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert deck.returncode == 2 and "no deck named 'Nope'" in deck.stderr and "Maths::Algebra" in deck.stderr
    for port in ("-1", "70000", "http"):
        bad = subprocess.run([sys.executable, "-m", "notecards", "study", str(vault), "--port", port],
                             capture_output=True, text=True, timeout=120, env=env)
        assert bad.returncode == 2 and "not a port number" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "notecards", "study", str(tmp_path / "nowhere")],
                             capture_output=True, text=True, timeout=120, env=env)
    assert missing.returncode == 2 and "not a folder" in missing.stderr


def test_problems_in_the_notes_are_printed_as_path_line_level_message(vault):
    write(vault, "Broken.md", "START\nBasic\nWhere is the picture?\nBack: ![[nowhere.png]]\nEND\n")
    run = Running(vault, "--port", "0", "--deck", "Maths::Algebra")
    try:
        assert run.url().endswith("?deck=Maths%3A%3AAlgebra")
    finally:
        code, err = run.stop()
    assert code == 0
    assert re.search(r"Broken\.md:4: warning: .*nowhere\.png", err), err


def test_sigkill_during_answers_loses_at_most_the_answer_in_flight(vault):
    """Answers are acknowledged only once on disk: after a SIGKILL, every acknowledged answer is
    in the history, at most one more, and the file still reads (a torn line at worst)."""
    run = Running(vault, "--port", "0")
    url = run.url()
    acknowledged = []
    enough = threading.Event()
    stop = threading.Event()

    def answer_forever() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                try:
                    card = client.get("api/next").json()["card"]
                    reply = client.post("api/answer", json={"card_id": card["id"], "rating": 3})
                except httpx.HTTPError:
                    return                          # the server is gone
                if reply.status_code == 200:
                    acknowledged.append(card["id"])
                if len(acknowledged) >= 6:
                    enough.set()

    worker = threading.Thread(target=answer_forever, daemon=True)
    worker.start()
    assert enough.wait(120), "the server acknowledged fewer than 6 answers in 120 s"
    run.proc.kill()                               # SIGKILL while answers keep coming
    run.proc.wait(30)
    stop.set()
    worker.join(30)
    files = list((vault / "study-history").glob("*.jsonl"))
    assert len(files) == 1
    lines = files[0].read_bytes().split(b"\n")
    reviews = []
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            reviews.append(json.loads(raw))
        except ValueError:
            assert i == len(lines) - 1, "only the last line may be torn"
    assert len(acknowledged) <= len(reviews) <= len(acknowledged) + 1
    from notecards.study.engine import Study
    study = Study.open(vault, simulate=False, device=files[0].stem)
    try:
        assert study.writable
        assert not [d for d in study.diagnostics if d.severity == "error"]
    finally:
        study.close()
