"""History files: read every device's `<history_folder>/*.jsonl`, append to this device's own.

History is user data, so reading never changes a byte: a line notecards cannot use is skipped
with a `path:line: warning:` and left where it is. A line without its newline at the end of a
file is a write torn by a crash (or a file still being synced): it is skipped, and this device's
next append starts on a new line, so the torn line never swallows a good one.

An append is written, flushed and fsync'd before it returns (and the folder fsync'd when the file
is new), so an answer the page was told about survives a power cut; a process killed mid-write
loses at most the line it was writing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from notecards.study.events import BadEvent, Event
from notecards.types import Diagnostic


class HistoryReadOnly(Exception):
    """The history folder cannot be written: answers cannot be saved, so none is pretended."""


@dataclass(frozen=True)
class Appended:
    """An event on disk: where its line starts in the file, and the line's bytes."""

    event: Event
    offset: int
    data: bytes


@dataclass
class FileRead:
    """What one read of a history file found, from a byte offset on."""

    events: list[Event] = field(default_factory=list)
    line_of: dict[str, int] = field(default_factory=dict)   # event id -> its line in the file
    text_of: dict[str, str] = field(default_factory=dict)   # event id -> the line as written
    diagnostics: list[Diagnostic] = field(default_factory=list)
    consumed: int = 0        # bytes up to the end of the last line that will never need reading again
    consumed_lines: int = 0  # lines in those bytes
    sha: str = ""            # sha256 of those bytes (with the prefix before the offset)
    digest: "hashlib._Hash | None" = None   # the running hash behind `sha`, to extend on append


def history_files(folder: Path) -> list[Path]:
    """Every device's file, in name order."""
    try:
        return sorted(p for p in folder.glob("*.jsonl") if p.is_file())
    except OSError:
        return []


def read_history_file(path: Path, display: str, now: datetime, offset: int = 0, line_no: int = 0,
                      prefix_hash: "hashlib._Hash | None" = None) -> FileRead:
    """Parse the lines after `offset` (which ends line `line_no`); `display` names the file in
    warnings. A torn last line and lines dated in the future are not consumed: the next read
    looks at them again (a future line may become valid once the clock catches up)."""
    out = FileRead(consumed=offset, consumed_lines=line_no)
    digest = prefix_hash.copy() if prefix_hash is not None else hashlib.sha256()
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError as exc:
        out.diagnostics.append(Diagnostic(display, 1, "warning", f"cannot read history: {exc.strerror or exc}"))
        out.sha, out.digest = digest.hexdigest(), digest
        return out
    position, number, holding = offset, line_no, False
    for raw in data.splitlines(keepends=True):
        number += 1
        if not raw.endswith(b"\n"):
            out.diagnostics.append(Diagnostic(display, number, "warning",
                                              "last line is incomplete (a write cut short); skipped"))
            break
        event, problem, future = _parse_line(raw, now)
        if problem:
            out.diagnostics.append(Diagnostic(display, number, "warning", f"{problem}; line skipped, kept in the file"))
        if event is not None:
            out.events.append(event)
            out.line_of[event.id] = number
            out.text_of[event.id] = raw.decode("utf-8")
        holding = holding or future
        position += len(raw)
        if not holding:
            digest.update(raw)
            out.consumed, out.consumed_lines = position, number
    out.sha, out.digest = digest.hexdigest(), digest
    return out


def _parse_line(raw: bytes, now: datetime) -> tuple[Event | None, str, bool]:
    """(event, problem, dated in the future) for one line; blank lines are neither."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, "not UTF-8 text", False
    if not text:
        return None, "", False
    try:
        data = json.loads(text)
    except ValueError:
        return None, "not JSON", False
    try:
        return Event.from_dict(data, now), "", False
    except BadEvent as exc:
        return None, str(exc), "in the future" in str(exc)


def prefix_sha(path: Path, length: int) -> "hashlib._Hash | None":
    """The running hash of a file's first `length` bytes; None when it is shorter (rewritten)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            remaining = length
            while remaining:
                chunk = f.read(min(remaining, 1 << 20))
                if not chunk:
                    return None
                digest.update(chunk)
                remaining -= len(chunk)
    except OSError:
        return None
    return digest


def read_only_reason(folder: Path, own_file: Path) -> str | None:
    """Why this device cannot append its history, or None when it can."""
    if own_file.exists():
        return None if os.access(own_file, os.W_OK) else f"{own_file} is not writable"
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return f"{folder} cannot be created"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    return None if os.access(probe, os.W_OK | os.X_OK) else f"{probe} is not writable"


class HistoryWriter:
    """Appends this device's events to its own file, one durable line at a time."""

    def __init__(self, folder: Path, device: str, last_seq: int, known_size: int | None = None):
        """`last_seq` and `known_size` are what the replay read of this device's file: when the
        file still has that size, nothing needs reading before the first append."""
        self.folder = folder
        self.device = device
        self.path = folder / f"{device}.jsonl"
        self.last_seq = last_seq
        self._known_size = known_size

    def append(self, make: Callable[[str], Event]) -> Appended:
        """Build the event with the next id and put it on disk; HistoryReadOnly when impossible."""
        try:
            created = not self.path.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab+") as f:
                fcntl.flock(f, fcntl.LOCK_EX)      # a second server on this device waits its turn
                size = f.seek(0, os.SEEK_END)
                if size != self._known_size:
                    self._catch_up(f, size)
                event = make(f"{self.device}:{self.last_seq + 1}")
                line = event.to_line().encode("utf-8")
                offset = f.tell()
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
                self._known_size = f.tell()
            if created:
                _fsync_folder(self.folder)
        except OSError as exc:
            raise HistoryReadOnly(f"cannot save to {self.path}: {exc.strerror or exc}") from exc
        self.last_seq += 1
        return Appended(event, offset, line)

    def _catch_up(self, f, size: int) -> None:
        """Someone else (a torn write, another process of this device) wrote since we last did:
        end a torn line with a newline, and take the highest sequence number in the file."""
        if size == 0:
            return
        f.seek(max(0, size - 1))
        if f.read(1) != b"\n":
            f.write(b"\n")
        f.seek(0)
        for raw in f:
            try:
                eid = json.loads(raw).get("id", "")
                device, _, seq = eid.rpartition(":")
            except (ValueError, AttributeError):
                continue
            if device == self.device and seq.isdigit():
                self.last_seq = max(self.last_seq, int(seq))
        f.seek(0, os.SEEK_END)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
