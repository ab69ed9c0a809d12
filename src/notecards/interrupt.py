"""Ctrl-C: every command ends within a second, with one line and exit status 130.

A terminal sends SIGINT to the whole process group; `timeout` and `kill` send it to the main
process alone. Either way the main process alone decides:

* worker processes (the render and simulation pools) ignore SIGINT, so they print no traceback and
  never sit waiting for work that will not come; the main process terminates them with SIGTERM,
  on which a worker runs its registered cleanups (a sandboxed run it started is killed and its
  folder removed) and ends at once;
* the main process prints one line and raises KeyboardInterrupt, so `finally` blocks remove temp
  files on the way out;
* if the main thread is stuck in C code and has not exited after `GRACE` seconds, a watchdog runs
  the registered cleanups and ends the process with status 130. A second Ctrl-C does so at once.

Code that leaves something behind when a process ends abruptly (temp files, a sandbox) registers
its cleanup with `cleanup_on_exit` (or `temporary` for a path) for as long as it needs it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Callable, Iterator

EXIT_STATUS = 130
GRACE = 0.8
MESSAGE = "notecards: interrupted"
_cleanups: dict[int, Callable[[], None]] = {}
_interrupted = threading.Event()


@contextlib.contextmanager
def cleanup_on_exit(action: Callable[[], None]) -> Iterator[None]:
    """Run `action` should the process be ended abruptly while the block runs (the block still
    cleans up after itself in the normal way)."""
    key = id(action)
    _cleanups[key] = action
    try:
        yield
    finally:
        _cleanups.pop(key, None)


@contextlib.contextmanager
def temporary(path: Path) -> Iterator[Path]:
    """`cleanup_on_exit` for a temp file or folder: removed if the process is ended abruptly."""
    def remove() -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    with cleanup_on_exit(remove):
        yield path


def install() -> None:
    """In the main process of a command: Ctrl-C as described above. The watchdog thread starts
    here, not in the signal handler: a handler that interrupts the main thread while it starts a
    thread of its own would wait forever for threading's lock."""
    signal.signal(signal.SIGINT, _on_interrupt)
    signal.signal(signal.SIGTERM, _on_interrupt)
    threading.Thread(target=_watchdog, name="notecards-interrupt", daemon=True).start()


def quiet_worker() -> None:
    """In a pool worker: SIGINT is the main process's business; SIGTERM unwinds (finally runs)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_worker)


def _exit_worker(_signum, _frame) -> None:
    _hard_exit()


def _on_interrupt(_signum, _frame) -> None:
    """Runs in the main thread between two bytecodes, wherever it was: it takes no lock (the
    line goes straight to the file descriptor) and leaves the rest to the watchdog thread."""
    if _interrupted.is_set():
        _hard_exit()
    with contextlib.suppress(OSError, ValueError):
        os.write(2, (MESSAGE + "\n").encode())
    _interrupted.set()
    raise KeyboardInterrupt


def stop_workers() -> None:
    """Terminate this process's pool workers (multiprocessing children)."""
    try:
        children = multiprocessing.active_children()
    except RuntimeError:  # the main thread was starting one right now: the set changed size
        children = []
    for child in children:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            child.terminate()


def _watchdog() -> None:
    _interrupted.wait()
    stop_workers()
    threading.Event().wait(GRACE)
    _hard_exit()


def _hard_exit() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the cleanup itself must not be cut short
    for action in reversed(list(_cleanups.values())):  # the innermost first: a run is killed before its folder goes
        with contextlib.suppress(Exception):
            action()
    stop_workers()
    os._exit(EXIT_STATUS)
