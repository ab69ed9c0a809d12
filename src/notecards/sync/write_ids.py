"""Write the ID lines of a finished part of a sync, and record the files that are now in Anki.

`writeback.py` edits one file safely; this module decides which blocks of which files get which
note id, writes the files in parallel (fsync dominates), and records each file with the size and
mtime of the text that was sent, so a save racing the sync makes the next sync read it again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from notecards.config import Settings
from notecards.sync.plan import block_key
from notecards.sync.sync_state import FileRecord, SyncState
from notecards.sync.writeback import IdEdit, WriteResult, sync_folders, write_ids
from notecards.types import Card, CardBlock, Diagnostic, ParsedFile, SourceFile

WRITERS = 8


def write_back(settings: Settings, parsed: list[ParsedFile], placed: list[tuple[Card, int]],
               unsynced: set[str], state: SyncState,
               deps: dict[str, dict[str, list[int]]]) -> tuple[list[Diagnostic], int]:
    """Write the ID lines, then record each file whose content is now fully in Anki (with the
    files its cards embed, `deps`). Returns the diagnostics and the number of ID lines written.

    A file is recorded with the size and mtime of the text that was sent (as read, or as we wrote
    it), never a later stat, so a save that raced the sync makes the next sync read it again.
    `unsynced` files (errors, cards Anki refused) are not recorded, so they are read again.
    """
    diagnostics: list[Diagnostic] = []
    written = 0
    edits: dict[str, list[tuple[CardBlock, int]]] = {}
    nids: dict[str, list[int]] = {}
    for card, nid in placed:
        nids.setdefault(card.block.path, []).append(nid)
        if card.block.anki_id != nid:
            edits.setdefault(card.block.path, []).append((card.block, nid))
    sources = [pf.source for pf in parsed if pf.source.path in edits]
    # fsync dominates: files are written in parallel so the disk can commit them together
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = dict(zip((src.path for src in sources), pool.map(
            lambda src: write_ids(src, _planner(src, edits[src.path], settings), settings.id_comments,
                                  sync_folder=False), sources)))
    sync_folders([src.abspath for src in sources])
    for pf in parsed:
        path = pf.source.path
        result = results.get(path)
        if result is None:
            synced: tuple[int, int] | None = (pf.source.size, pf.source.mtime_ns)
        else:
            if result.diagnostic is not None:
                diagnostics.append(result.diagnostic)
            written += len(edits[path]) if result.written else 0
            synced = _synced_stat(result, pf.source)
        if synced is None or path in unsynced:
            state.files.pop(path, None)
        else:
            state.files[path] = FileRecord(*synced, sorted(nids.get(path, [])), deps.get(path, {}))
    return diagnostics, written


def _synced_stat(result: WriteResult, source: SourceFile) -> tuple[int, int] | None:
    """(size, mtime_ns) of the file when it holds what was sent to Anki, else None."""
    if result.diagnostic is not None or result.reread:
        return None
    return result.stat if result.written else (source.size, source.mtime_ns)


def _planner(original: SourceFile, blocks: list[tuple[CardBlock, int]], settings: Settings):
    """The edits for a file; on a re-read file, the same blocks found again by their text."""
    def edits_for(source: SourceFile) -> list[IdEdit]:
        if source is original:
            pairs = blocks
        else:
            from notecards.parse import parse_file
            fresh = parse_file(source, settings).blocks
            by_key = {block_key(b): b for b in fresh}
            pairs = [(by_key[block_key(b)], nid) for b, nid in blocks if block_key(b) in by_key]
        edits = [_edit_for(b, nid) for b, nid in pairs]
        return [e for e in edits if e is not None]
    return edits_for


def _edit_for(block: CardBlock, nid: int) -> IdEdit | None:
    if block.anki_id is not None and block.id_line is not None:
        before = block.id_insert[1] if block.kind == "inline" and block.id_insert else 0
        return IdEdit("replace", block.id_line, before, nid, old_id=block.anki_id)
    if block.id_insert is None:
        return None
    line, col = block.id_insert
    return IdEdit("insert", line, col, nid, block.kind)
