"""Write Anki note ids back into note files, and nothing else.

The user's notes are the source of truth, so a write here must never lose a byte:
- the edit is applied to the raw text as it is on disk (line endings, a BOM, trailing spaces and
  mixed `\\r\\n` / `\\n` lines all survive; only the ID text is added, changed or removed);
- the new bytes go to a temporary file in the same folder, are flushed and fsynced, get the old
  file's permissions, and replace the note with one `os.replace`, so a crash at any moment leaves
  either the old or the new file, never a mix;
- right before the replace, the file is re-read and compared with what was parsed; a file that
  changed in between (the user saved it in Obsidian) is re-read and the edits are planned again
  once, and if it changes again it is skipped with a warning.
A note reached through a symlink is written at the link's target, so the link stays a link.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from notecards.atomic import fsync_folder, write_atomic
from notecards.types import Diagnostic, SourceFile
from notecards.vault import decode_source

TEMP_SUFFIX = ".notecards-tmp"
_ID_NUMBER = re.compile(r"ID:[ \t]*(\d+)")


@dataclass(frozen=True)
class IdEdit:
    """One change to an ID line, in the coordinates of `SourceFile.text` (1-based line, 0-based col).

    `insert`: put the ID at (line, col). `replace`: swap the digits of the ID `old_id` on `line` for
    `anki_id`; with col > 0, the last such ID before col, since several inline notes (even copies
    with the same ID) may share a line.
    """

    action: Literal["insert", "replace"]
    line: int
    col: int = 0
    anki_id: int = 0
    kind: Literal["block", "inline", "regex"] = "block"
    old_id: int | None = None


def id_text(anki_id: int, comments: bool) -> str:
    """Obsidian_to_Anki's ID format: `<!--ID: n-->`, or `ID: n` when ID comments are off."""
    return f"<!--ID: {anki_id}-->" if comments else f"ID: {anki_id}"


def apply_edits(raw_text: str, edits: list[IdEdit], comments: bool, newline: str) -> str:
    """Apply ID edits to the raw (un-normalised) text of a file; every other character is kept."""
    starts, ends = _raw_lines(raw_text)
    pieces: list[tuple[int, int, str]] = []          # (start, end, replacement) in raw offsets
    for edit in edits:
        if not 1 <= edit.line <= len(starts):
            raise ValueError(f"line {edit.line} is outside the file")
        start, end = starts[edit.line - 1], ends[edit.line - 1]
        if edit.action == "insert":
            pos = start + edit.col
            ident = id_text(edit.anki_id, comments)
            above = edit.line - 2 if edit.col == 0 else edit.line - 1
            eol = _line_ending(raw_text, above, starts, ends) or newline
            if edit.kind == "inline":
                text = ident + " "
            elif edit.col == 0:
                text = ident + eol
            else:
                text = eol + ident
            pieces.append((pos, pos, text))
        else:
            pieces.append(_replace_digits(raw_text, start, end, edit))
    out = []
    cursor = 0
    for start, end, text in sorted(pieces, key=lambda p: (p[0], p[1])):
        if start < cursor:
            raise ValueError("overlapping ID edits")
        out.append(raw_text[cursor:start])
        out.append(text)
        cursor = end
    out.append(raw_text[cursor:])
    return "".join(out)


def _raw_lines(raw: str) -> tuple[list[int], list[int]]:
    """Start and end (before the terminator) of each line, with `\\r\\n`, `\\r` and `\\n` as
    terminators: the same lines `vault.decode_source` numbers."""
    starts, ends = [0], []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\n" or ch == "\r":
            ends.append(i)
            i += 2 if raw.startswith("\r\n", i) else 1
            starts.append(i)
        else:
            i += 1
    ends.append(n)
    return starts, ends


def _line_ending(raw: str, index: int, starts: list[int], ends: list[int]) -> str:
    """The terminator of line `index` (0-based), so an inserted line matches its neighbours; the
    last line has none, so the first line's stands in; "" for a one-line file (caller's default)."""
    if index < 0 or index >= len(ends) - 1:
        index = 0
    if len(ends) < 2:
        return ""
    return raw[ends[index]:starts[index + 1]]


def _replace_digits(raw: str, start: int, end: int, edit: IdEdit) -> tuple[int, int, str]:
    line = raw[start:end]
    digits = [m.span(1) for m in _ID_NUMBER.finditer(line, 0, edit.col or len(line))
              if edit.old_id is None or int(m.group(1)) == edit.old_id]
    if not digits:
        raise ValueError("no ID number on that line")
    d0, d1 = digits[-1]
    return start + d0, start + d1, str(edit.anki_id)


@dataclass
class WriteResult:
    """What became of one file. `reread`: it changed after it was parsed, so what the sync sent to
    Anki is not what it holds now. `stat`: (size, mtime_ns) of the file as written."""

    path: str
    written: bool
    reread: bool = False
    stat: tuple[int, int] | None = None
    diagnostic: Diagnostic | None = None


def write_ids(source: SourceFile, edits_for: Callable[[SourceFile], list[IdEdit]],
              comments: bool, sync_folder: bool = True) -> WriteResult:
    """Write the ID edits `edits_for(source)` into the file, atomically and only if it is unchanged.

    `edits_for` is called again on a fresh read when the file changed since `source` was read, so
    the edits always fit the text they are applied to. A caller writing many files may pass
    `sync_folder=False` and call `sync_folders` once at the end (the rename is atomic either way;
    the folder fsync only makes it durable across a power cut).
    """
    current = source
    for attempt in range(2):
        edits = edits_for(current)
        if not edits:
            return WriteResult(source.path, False, current is not source)
        try:
            raw = _read_if_unchanged(current)
            if raw is not None:
                new_text = apply_edits(raw.decode(current.encoding), edits, comments, current.newline)
                written = _replace_atomically(current.abspath, raw, new_text.encode(current.encoding),
                                              sync_folder)
                if written is not None:
                    return WriteResult(source.path, True, current is not source, written)
        except (OSError, ValueError) as exc:
            return WriteResult(source.path, False, current is not source, diagnostic=Diagnostic(
                source.path, edits[0].line, "warning",
                f"could not write the ID line ({exc}); the next sync tries again"))
        if attempt == 0:
            fresh = _reread(current)
            if fresh is None:
                break
            current = fresh
    return WriteResult(source.path, False, True, diagnostic=Diagnostic(
        source.path, 1, "warning",
        "file changed on disk while syncing; its ID lines were not written (the next sync writes them)"))


def _read_if_unchanged(source: SourceFile) -> bytes | None:
    """The file's bytes when they still decode to the parsed text, else None."""
    raw = Path(source.abspath).read_bytes()
    if len(raw) != source.size and source.size:
        return None
    text = raw.decode(source.encoding, errors="strict")
    if text.replace("\r\n", "\n").replace("\r", "\n") != source.text:
        return None
    return raw


def _reread(source: SourceFile) -> SourceFile | None:
    path = Path(source.abspath)
    try:
        st = path.stat()
        raw = path.read_bytes()
    except OSError:
        return None
    return decode_source(source.path, path, raw, st.st_mtime_ns, [])


def _replace_atomically(path: Path, expected: bytes, data: bytes, sync_folder: bool) -> tuple[int, int] | None:
    """Write `data` over `path` via a temp file + rename, unless `path` no longer holds `expected`.

    Returns the new file's (size, mtime_ns), taken from the temp file itself so that a save racing
    the rename cannot be mistaken for ours; None (file left alone) when the file changed under us.
    """
    target = Path(os.path.realpath(path))
    before = target.stat()

    def unchanged_since(tmp: Path) -> bool:
        os.chmod(tmp, stat.S_IMODE(before.st_mode))
        _copy_owner(tmp, before)
        now = target.stat()
        return (now.st_mtime_ns, now.st_size) == (before.st_mtime_ns, before.st_size) \
            and target.read_bytes() == expected

    written = write_atomic(target, data, suffix=TEMP_SUFFIX, before_replace=unchanged_since,
                           sync_folder=sync_folder)
    return None if written is None else (written.st_size, written.st_mtime_ns)


def _copy_owner(tmp: Path, st: os.stat_result) -> None:
    if hasattr(os, "chown"):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass


def sync_folders(paths: list[Path]) -> None:
    """fsync the folders holding these files, once each."""
    for folder in sorted({Path(os.path.realpath(p)).parent for p in paths}):
        fsync_folder(folder)


def remove_stale_temps(root: Path) -> int:
    """Delete temp files a killed sync left behind (they hold only a copy, never the only one)."""
    removed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".obsidian", "node_modules")]
        for name in filenames:
            if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except OSError:
                    pass
    return removed
