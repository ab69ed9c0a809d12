"""`notecards sync`: keep an Anki collection in step with the vault, and write note ids back.

One sync, in order (each step is its own module):
1. read state (`sync_state.py`) and find the files that changed since the last sync (size or mtime),
   plus files whose notes vanished from Anki, plus files that failed last time;
2. build cards for those files only (`notecards.pipeline.build`);
3. plan (`plan.py`) against the target: a collection file (`collection.py`) or a running Anki
   through AnkiConnect (`ankiconnect.py`); `--dry-run` stops here and shows the plan;
4. apply the plan; record the new note ids and GUIDs in state *before* touching any note file, so
   a sync killed after this point finds its notes again;
5. write the ID lines (`writeback.py`), then record each file that was completely written.
Choices: more than `DELETE_THRESHOLD` notes to delete because their blocks vanished stops the sync
(nothing applied) until `--yes`; `DELETE` lines always apply, the user asked for each of them.
A file with errors never has its notes deleted (a broken block is not a removed block).
After a `DELETE` is carried out, the `DELETE` and ID lines stay in the file (Obsidian_to_Anki removes
the ID line, and then re-creates the block's note on the next sync); kept, they record which note
went, and later syncs leave it gone.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from notecards.config import Settings
from notecards.options import CommandOptions
from notecards.sync.plan import SyncPlan, block_key, card_digest, make_plan
from notecards.sync.sync_state import (FileRecord, NoteRecord, SyncState, load_sync_state, save_sync_state,
                                       target_key)
from notecards.sync.writeback import IdEdit, WriteResult, remove_stale_temps, sync_folders, write_ids
from notecards.types import Card, CardBlock, Diagnostic, ParsedFile, SourceFile
from notecards.vault import VaultIndex, note_files

DELETE_THRESHOLD = 10
WRITERS = 8


@dataclass
class SyncReport:
    """What a sync did (or, with --dry-run, would do), for the CLI to print."""

    target: str
    plan: SyncPlan | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    files_read: int = 0
    ids_written: int = 0
    dry_run: bool = False
    applied: bool = False
    problem: str | None = None          # a reason the whole sync could not run

    def exit_code(self, strict: bool = False) -> int:
        if self.problem or any(d.severity == "error" for d in self.diagnostics):
            return 1
        if strict and any(d.severity == "warning" for d in self.diagnostics):
            return 1
        return 0

    def summary(self, shown=lambda rel: rel) -> str:
        """The plan (dry run) and the counts; the CLI prints the diagnostics on their own.
        `shown` turns a vault-relative path into the form the CLI prints."""
        lines: list[str] = []
        if self.problem:
            lines.append(f"error: {self.problem}")
        if self.plan is not None and self.dry_run:
            lines.append("plan (dry run, nothing changed):")
            lines.extend("  " + line for line in self.plan.describe(shown))
        counts = self.plan.counts() if self.plan else {}
        verb = "would" if self.dry_run else "did"
        warnings = sum(d.severity == "warning" for d in self.diagnostics)
        errors = sum(d.severity == "error" for d in self.diagnostics) + bool(self.problem)
        lines.append(
            f"sync {self.target}: {self.files} files ({self.files_read} read); {verb} add "
            f"{counts.get('add', 0)}, update {counts.get('update', 0)} (moves {counts.get('move', 0)}), "
            f"delete {counts.get('delete', 0)}, leave {counts.get('unchanged', 0)} unchanged; "
            f"ID lines {'to write ' + str(counts.get('id lines', 0)) if self.dry_run else 'written ' + str(self.ids_written)}; "
            f"{warnings} warnings, {errors} errors")
        return "\n".join(lines)


def sync_vault(vault: Path, *, collection: Path | None = None, ankiconnect: str | None = None,
               dry_run: bool = False, yes: bool = False, full: bool = False,
               progress: bool = False, options: CommandOptions = CommandOptions()) -> SyncReport:
    """Sync the vault into a collection file or through AnkiConnect; never raises for user problems."""
    vault = Path(vault)
    target = target_key(collection, ankiconnect)
    report = SyncReport(target=str(collection) if collection is not None else str(ankiconnect),
                        dry_run=dry_run)
    settings = options.settings_for(vault, report.diagnostics)
    try:
        backend = _open_backend(collection, ankiconnect)
    except Exception as exc:          # locked, missing, unreachable: said plainly, nothing changed
        report.problem = str(exc)
        return report
    try:
        _run(vault, settings, backend, target, report, dry_run=dry_run, yes=yes, full=full,
             progress=progress, options=options)
    finally:
        backend.close()
    return report


def _open_backend(collection: Path | None, ankiconnect: str | None):
    if collection is not None:
        from notecards.sync.collection import CollectionBackend
        return CollectionBackend(Path(collection))
    from notecards.sync.ankiconnect import AnkiConnectBackend
    return AnkiConnectBackend(ankiconnect or "http://127.0.0.1:8765")


def _settings_hash(settings: Settings) -> str:
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def _run(vault: Path, settings: Settings, backend, target: str, report: SyncReport, *,
         dry_run: bool, yes: bool, full: bool, progress: bool, options: CommandOptions) -> None:
    state = load_sync_state(vault, target)
    settings_hash = _settings_hash(settings)
    full = full or state.settings_hash != settings_hash      # new settings can change every card
    state.settings_hash = settings_hash
    if not dry_run:
        remove_stale_temps(vault)
    stats = _stats(vault, note_files(VaultIndex.scan(vault), settings))
    report.files = len(stats)
    removed = [p for p in state.files if p not in stats]
    todo, unchanged = _split_by_change(stats, state, backend, full)
    if not todo and not removed:
        report.plan = SyncPlan()
        report.applied = not dry_run
        return
    build = _build(vault, settings, todo, progress, options)
    report.files_read = len(build.parsed)
    report.diagnostics.extend(build.diagnostics)
    cards = [fold_simulation(c) for c in build.cards]
    broken = {d.path for d in build.diagnostics if d.severity == "error"} | \
        (set(todo) - {p.source.path for p in build.parsed})
    named_elsewhere = {n for p in unchanged for n in state.files[p].nids}
    referenced = {c.block.anki_id for c in cards if c.block.anki_id} | named_elsewhere
    rebuilt = set(todo) | set(removed)
    gone = {nid: (r.path, r.line) for nid, r in state.notes.items()
            if r.path in rebuilt and r.path not in broken and nid not in referenced}
    plan = make_plan(cards, build.deletions, backend, state.digests(), state.guids(), gone,
                     named=named_elsewhere)
    report.plan = plan
    report.diagnostics.extend(plan.diagnostics)
    removals = [d for d in plan.deletes if d.reason == "block removed"]
    if len(removals) > DELETE_THRESHOLD and not yes and not dry_run:
        report.problem = (f"this sync would delete {len(removals)} notes whose blocks are gone "
                          f"(more than {DELETE_THRESHOLD}); check with --dry-run, then run again with --yes")
        return
    if dry_run:
        return
    new_ids, diags = backend.apply(plan)
    report.diagnostics.extend(diags)
    report.applied = True
    refused = {(d.path, d.line) for d in diags if d.severity == "error"}
    placed = _placed_notes(plan, new_ids)
    _record_notes(state, plan, placed, refused)
    for path in removed:
        state.forget_file(path)
    save_sync_state(vault, state)
    _write_back(settings, build.parsed, placed, broken | {path for path, _ in refused}, state, report)
    save_sync_state(vault, state)


def _stats(vault: Path, files: list[str]) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of each note file, in vault order; a file gone meanwhile is left out."""
    out = {}
    for rel in files:
        try:
            st = (vault / rel).stat()
        except OSError:
            continue
        out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def _split_by_change(stats: dict[str, tuple[int, int]], state: SyncState, backend,
                     full: bool) -> tuple[list[str], list[str]]:
    """(files to read, files to leave alone). A file is read when it changed since it was last
    synced completely, or when one of its notes is gone from Anki (deleted there: re-created)."""
    todo = {p for p, stat in stats.items() if full or _changed(state.files.get(p), stat)}
    kept = {n for p in stats if p not in todo for n in state.files[p].nids}
    alive = backend.existing(kept) if kept else set()
    todo |= {p for p in stats if p not in todo and not alive.issuperset(state.files[p].nids)}
    return [p for p in stats if p in todo], [p for p in stats if p not in todo]


def _changed(record: FileRecord | None, stat: tuple[int, int]) -> bool:
    return record is None or (record.size, record.mtime_ns) != stat


def _build(vault: Path, settings: Settings, files: list[str], progress: bool, options: CommandOptions):
    from notecards.export_state import ExportState
    from notecards.pipeline import BuildOptions, build

    present = [f for f in files if (vault / f).is_file()]
    return build(vault, settings, ExportState(), BuildOptions(files=present, progress=progress,
                                                              simulate=options.simulate, workers=options.workers))


def fold_simulation(card: Card) -> Card:
    """Stock note types have no Simulation field: its figures go at the end of the last field."""
    from notecards.notetypes import SIM_FIELD

    if SIM_FIELD not in card.fields:
        return card
    fields = dict(card.fields)
    sim = fields.pop(SIM_FIELD)
    if sim and fields:
        last = list(fields)[-1]
        fields[last] = (fields[last] + "<br>" if fields[last] else "") + sim
    card.fields = fields
    return card


def _placed_notes(plan: SyncPlan, new_ids: dict[int, int]) -> list[tuple[Card, int]]:
    """Each card with the note its block names once this sync is done (none if Anki refused it)."""
    placed = [(a.card, new_ids[i]) for i, a in enumerate(plan.adds) if i in new_ids]
    for j, u in enumerate(plan.updates):
        if "note type" not in u.changes:
            placed.append((u.card, u.nid))
        elif -1 - j in new_ids:
            placed.append((u.card, new_ids[-1 - j]))
    placed += [(card, nid) for nid, card in plan.unchanged]
    return placed


def _record_notes(state: SyncState, plan: SyncPlan, placed: list[tuple[Card, int]],
                  refused: set[tuple[str, int]]) -> None:
    """Remember which notes the blocks are and what was sent to them. A card Anki refused keeps
    its old record, so its digest still differs and the next sync sends it again."""
    for d in plan.deletes:
        state.notes.pop(d.nid, None)
    for u in plan.updates:
        if "note type" in u.changes:
            state.notes.pop(u.nid, None)
    for card, nid in placed:
        if (card.block.path, card.block.line) not in refused:
            state.notes[nid] = NoteRecord(card.block.path, card.block.line, card.guid, card_digest(card))


def _write_back(settings: Settings, parsed: list[ParsedFile], placed: list[tuple[Card, int]],
                unsynced: set[str], state: SyncState, report: SyncReport) -> None:
    """Write the ID lines, then record each file whose content is now fully in Anki.

    A file is recorded with the size and mtime of the text that was sent (as read, or as we wrote
    it), never a later stat, so a save that raced the sync makes the next sync read it again.
    `unsynced` files (errors, cards Anki refused) are not recorded, so they are read again.
    """
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
                report.diagnostics.append(result.diagnostic)
            report.ids_written += len(edits[path]) if result.written else 0
            synced = _synced_stat(result, pf.source)
        if synced is None or path in unsynced:
            state.files.pop(path, None)
        else:
            state.files[path] = FileRecord(*synced, sorted(nids.get(path, [])))


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
