"""`notecards watch`: sync again shortly after a note is saved.

File events come from watchdog (inotify, FSEvents, ReadDirectoryChangesW), not a polling loop.
Editors save in bursts (temp file, rename, metadata), so a sync starts only once the vault has been
quiet for `debounce` seconds. Events in `.notecards/`, `.obsidian/`, `.git/` and our own temp files
are ignored; the ID lines a sync writes do cause one more event, whose sync finds nothing to do
(the state already knows those files) and reports nothing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from notecards.options import CommandOptions
from notecards.sync.writeback import TEMP_SUFFIX

IGNORED_DIRS = {".notecards", ".obsidian", ".git", ".trash"}


def _is_note_event(vault: Path, path: str, extensions: tuple[str, ...]) -> bool:
    try:
        rel = Path(path).resolve().relative_to(vault.resolve())
    except ValueError:
        return False
    if any(part in IGNORED_DIRS for part in rel.parts):
        return False
    name = rel.name
    return not name.endswith(TEMP_SUFFIX) and name.lower().endswith(extensions)


def watch_vault(vault: Path, *, collection: Path | None = None, ankiconnect: str | None = None,
                ankiconnect_key: str | None = None, dry_run: bool = False, yes: bool = False,
                full: bool = False, progress: bool = False, debounce: float = 0.3,
                on_report: Callable = lambda report: None, stop: threading.Event | None = None,
                options: CommandOptions = CommandOptions()) -> int:
    """Sync now, then after every quiet spell following a change, until `stop` is set or Ctrl-C.

    Returns the exit code of the last sync that did something (0 when all went well). A sync that
    cannot run because of what was asked (no collection at that path) ends the watch: waiting
    would not make it work.
    """
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    from notecards.sync import sync_vault

    vault = Path(vault)
    stop = stop or threading.Event()
    extensions = tuple(e.lower() for e in options.settings_for(vault, []).extensions)
    changed = threading.Event()
    last_event = [0.0]

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                return
            paths = [event.src_path, getattr(event, "dest_path", "") or ""]
            if any(p and _is_note_event(vault, str(p), extensions) for p in paths):
                last_event[0] = time.monotonic()
                changed.set()

    def run_sync(first: bool) -> int:
        report = sync_vault(vault, collection=collection, ankiconnect=ankiconnect,
                            ankiconnect_key=ankiconnect_key, dry_run=dry_run, yes=yes,
                            full=full and first, progress=progress, options=options)
        if first or report.problem or report.diagnostics or (report.plan and not report.plan.is_empty()):
            on_report(report)
        if report.usage_error:
            stop.set()
        return report.exit_code()

    observer = Observer()
    observer.schedule(Handler(), str(vault), recursive=True)
    observer.start()
    status = 0
    try:
        status = run_sync(first=True)
        while not stop.is_set():
            if not changed.wait(timeout=0.1):
                continue
            quiet = time.monotonic() - last_event[0]
            if quiet < debounce:
                stop.wait(debounce - quiet)
                continue
            changed.clear()
            status = run_sync(first=False)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join()
    return status
