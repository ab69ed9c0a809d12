"""Ctrl-C as a terminal sends it (to the process group) and as `timeout` sends it (to the main
process alone): every command ends with one line and status 130, its workers and sandboxed runs
stopped, its temp files gone. Real commands in real subprocesses, interrupted while they work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write
from notecards.sim.sandbox import CHILD_SCRIPT

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")

SLOW_CODE = "```python sim\nimport time\ntime.sleep(120)\n```\n"


def slow_vault(root: Path, cards: int = 4) -> Path:
    vault = root / "vault"
    for i in range(cards):
        write(vault, f"note{i}.md", f"START\nBasic\nQuestion {i}\nBack: answer\n{SLOW_CODE}END\n")
    return vault


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X"):
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            out.add(pid)
    return out


def sandbox_launchers() -> set[int]:
    out = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(CHILD_SCRIPT).encode() in cmdline.read_bytes():
                out.add(int(cmdline.parent.name))
        except OSError:
            continue
    return out


def start(args: list, cwd: Path) -> subprocess.Popen:
    """The command with a private temp folder (`cwd`/tmp), so that what it leaves there is its own."""
    (cwd / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "CI": "true", "TMPDIR": str(cwd / "tmp")}
    return subprocess.Popen([sys.executable, "-m", "notecards", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_sandboxes(proc: subprocess.Popen, count: int, deadline: float = 120.0) -> None:
    """Poll until `count` sandboxed runs of this command are under way."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if len(sandbox_launchers() & descendants(proc.pid)) >= count:
            return
        if proc.poll() is not None:
            raise AssertionError(f"ended before it was interrupted: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the sandboxed runs never started")


def interrupt_and_collect(proc: subprocess.Popen, to_group: bool) -> tuple[int, str, str]:
    if to_group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)      # a hang guard, not a speed limit
    return proc.returncode, out, err


@pytest.mark.parametrize("to_group", [True, False], ids=["process group", "main process"])
def test_ctrl_c_during_a_cold_export_stops_workers_and_sandboxes_with_one_line(tmp_path, to_group):
    vault = slow_vault(tmp_path)
    proc = start(["export", vault, "-o", tmp_path / "out" / "deck.apkg", "--allow-code", "-j", "2"], tmp_path)
    wait_for_sandboxes(proc, 2)
    watched = descendants(proc.pid)
    status, out, err = interrupt_and_collect(proc, to_group)
    assert status == 130, (out, err)
    assert err.splitlines() == ["notecards: interrupted"]
    assert alive(watched) == set()               # pool workers and every sandboxed process
    assert list((tmp_path / "tmp").iterdir()) == []   # sandbox folders, the package's database
    assert list((tmp_path / "out").iterdir()) == []
    assert not [p for p in vault.rglob("*") if p.name.startswith(".") and p.suffix == ".tmp"]


def test_ctrl_c_during_sim_and_check_ends_them_the_same_way(tmp_path):
    vault = slow_vault(tmp_path, cards=1)
    for args in (["sim", vault / "note0.md", "--allow-code", "-o", tmp_path / "figs"],
                 ["check", vault, "--allow-code"]):
        proc = start(args, tmp_path)
        wait_for_sandboxes(proc, 1)
        watched = descendants(proc.pid)
        status, out, err = interrupt_and_collect(proc, to_group=True)
        assert (status, err.splitlines()) == (130, ["notecards: interrupted"]), (args, out, err)
        assert alive(watched) == set()
        assert list((tmp_path / "tmp").iterdir()) == []


def test_ctrl_c_stops_watch_after_it_said_how(tmp_path):
    from anki.collection import Collection

    vault = tmp_path / "vault"
    write(vault, "n.md", "START\nBasic\nQ\nBack: A\nEND\n")
    Collection(str(tmp_path / "collection.anki2")).close()
    proc = start(["watch", vault, "--collection", tmp_path / "collection.anki2", "--no-sim"], tmp_path)
    first = proc.stdout.readline()
    assert "watching" in first and "Ctrl-C" in first
    status, out, err = interrupt_and_collect(proc, to_group=False)
    assert status == 130, (out, err)
    assert err.splitlines()[-1:] == ["notecards: interrupted"] and "Traceback" not in err
