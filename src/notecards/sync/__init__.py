"""`notecards sync`: keep an Anki collection in step with the vault, and write note ids back.

One sync, in order (each step is its own module):
1. read state (`sync_state.py`) and find the files that changed since the last sync (size or mtime, of
   the file or of a note its cards embed), plus files whose notes vanished from Anki or left their
   deck, plus files that failed last time;
2. build cards for those files only (`notecards.pipeline.build`); a card with an error is not sent;
3. plan (`plan.py`) against the target: a collection file (`collection.py`) or a running Anki
   through AnkiConnect (`ankiconnect.py`); the notes of a batch whose answer was lost last time
   are found again first (the journal, `state.pending`); `--dry-run` stops here and shows the plan;
4. apply the plan in parts of whole files (`parts.py`); before a part's adds, journal them in the
   state; after the part, record its note ids and write its ID lines (`writeback.py`), so a failure
   keeps every finished part, and the next run finds the interrupted part's notes in Anki.
Choices: more than `DELETE_THRESHOLD` notes to delete because their blocks vanished stops the sync
(nothing applied) until `--yes`; `DELETE` lines always apply, the user asked for each of them.
A file with errors never has its notes deleted (a broken block is not a removed block).
After a `DELETE` is carried out, the `DELETE` and ID lines stay in the file (Obsidian_to_Anki removes
the ID line, and then re-creates the block's note on the next sync); kept, they record which note
went, and later syncs leave it gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from notecards.build_cache import stamp_of
from notecards.config import Settings
from notecards.options import CommandOptions
from notecards.sync.connection import AnkiConnectError, normalize_url
from notecards.sync.parts import split_plan
from notecards.sync.plan import Applied, SyncPlan, card_digest, make_plan
from notecards.sync.sync_state import (FileRecord, NoteRecord, PendingAdd, SyncState, load_sync_state,
                                       save_sync_state, target_key)
from notecards.sync.writeback import remove_stale_temps
from notecards.sync.write_ids import write_back
from notecards.types import Card, Diagnostic, exit_status
from notecards.vault import VaultIndex, note_files

DELETE_THRESHOLD = 10


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
    done: dict[str, int] = field(default_factory=lambda: {"add": 0, "update": 0, "move": 0, "delete": 0})
    problem: str | None = None          # a reason the whole sync could not run, or stopped
    usage_error: bool = False           # the problem is in what the user asked (exit 2)

    def exit_code(self, strict: bool = False) -> int:
        if self.usage_error:
            return 2
        return 1 if self.problem else exit_status(self.diagnostics, strict)

    def summary(self, shown=lambda rel: rel) -> str:
        """The plan (dry run) and the counts; the CLI prints the diagnostics on their own.
        `shown` turns a vault-relative path into the form the CLI prints."""
        lines: list[str] = []
        if self.problem:
            lines.append(f"error: {self.problem}")
        if self.plan is not None and self.dry_run:
            lines.append("plan (dry run, nothing changed):")
            lines.extend("  " + line for line in self.plan.describe(shown))
        planned = self.plan.counts() if self.plan else {}
        warnings = sum(d.severity == "warning" for d in self.diagnostics)
        errors = sum(d.severity == "error" for d in self.diagnostics) + bool(self.problem)
        if self.dry_run:
            what = _counts("would", planned, planned.get("unchanged", 0))
            ids = f"ID lines to write {planned.get('id lines', 0)}"
        else:
            what = _counts("did", self.done, planned.get("unchanged", 0) if self.applied else 0)
            ids = f"ID lines written {self.ids_written}"
        lines.append(f"sync {self.target}: {_n(self.files, 'file')} ({self.files_read} read); {what}; "
                     f"{ids}; {_n(warnings, 'warning')}, {_n(errors, 'error')}")
        return "\n".join(lines)


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _counts(verb: str, c: dict[str, int], unchanged: int) -> str:
    """Counts of notes (a note can make several cards: Cloze c1 and c2, a reversed pair)."""
    return (f"notes: {verb} add {c.get('add', 0)}, update {c.get('update', 0)} "
            f"(moves {c.get('move', 0)}), delete {c.get('delete', 0)}, leave {unchanged} unchanged")


def sync_vault(vault: Path, *, collection: Path | None = None, ankiconnect: str | None = None,
               ankiconnect_key: str | None = None, dry_run: bool = False, yes: bool = False,
               full: bool = False, progress: bool = False, options: CommandOptions = CommandOptions()) -> SyncReport:
    """Sync the vault into a collection file or through AnkiConnect; never raises for user problems."""
    from notecards.sync.collection import CollectionLocked, NotACollection

    vault = Path(vault)
    if collection is None:
        ankiconnect = normalize_url(ankiconnect)
    target = target_key(collection, ankiconnect)
    report = SyncReport(target=str(collection) if collection is not None else str(ankiconnect),
                        dry_run=dry_run)
    settings = options.settings_for(vault, report.diagnostics)
    try:
        backend = _open_backend(collection, ankiconnect, ankiconnect_key)
    except NotACollection as exc:
        report.problem, report.usage_error = str(exc), True
        return report
    except (CollectionLocked, AnkiConnectError) as exc:     # said plainly, nothing changed
        report.problem = f"{exc}; nothing changed"
        return report
    try:
        _run(vault, settings, backend, target, report, dry_run=dry_run, yes=yes, full=full,
             progress=progress, options=options)
    except AnkiConnectError as exc:     # while reading what Anki holds: nothing was sent yet
        report.problem = f"{exc}; nothing changed"
    finally:
        backend.close()
    return report


def _open_backend(collection: Path | None, ankiconnect: str | None, key: str | None):
    if collection is not None:
        from notecards.sync.collection import CollectionBackend
        return CollectionBackend(Path(collection))
    from notecards.sync.ankiconnect import AnkiConnectBackend
    return AnkiConnectBackend(ankiconnect, key)


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
    index = VaultIndex.scan(vault)
    stats = _stats(vault, note_files(index, settings))
    report.files = len(stats)
    removed = [p for p in state.files if p not in stats]
    todo, unchanged, misplaced = _split_by_change(vault, stats, state, backend, full)
    if not todo and not removed and not state.pending:
        report.plan = SyncPlan()
        report.applied = not dry_run
        return
    build = _build(vault, settings, todo, progress, options, index)
    report.files_read = len(build.parsed)
    report.diagnostics.extend(build.diagnostics)
    broken = {d.path for d in build.diagnostics if d.severity == "error"} | \
        (set(todo) - {p.source.path for p in build.parsed})
    held = _with_errors(build.cards, build.diagnostics)
    cards = [fold_simulation(c) for c in build.cards if id(c) not in held]
    named_elsewhere = {n for p in unchanged for n in state.files[p].nids}
    referenced = {c.block.anki_id for c in build.cards if c.block.anki_id} | named_elsewhere
    rebuilt = set(todo) | set(removed)
    gone = {nid: (r.path, r.line) for nid, r in state.notes.items()
            if r.path in rebuilt and r.path not in broken and nid not in referenced}
    found = _recover_journal(backend, state, cards)
    if not dry_run:
        state.pending = []            # the journalled notes Anki has are recorded; the rest never came
    recorded = {n: d for n, d in state.digests().items() if n not in misplaced}
    plan = make_plan(cards, build.deletions, backend, recorded, {**state.guids(), **found}, gone,
                     named=named_elsewhere)
    report.plan = plan
    report.diagnostics.extend(plan.diagnostics)
    removals = [d for d in plan.deletes if d.reason == "block removed"]
    if len(removals) > DELETE_THRESHOLD and not yes and not dry_run:
        report.problem = (f"this sync would delete {len(removals)} notes whose blocks are gone "
                          f"(more than {DELETE_THRESHOLD}); nothing changed; check with --dry-run, "
                          "then run again with --yes")
        return
    if dry_run:
        return
    for path in removed:
        state.forget_file(path)
    save_sync_state(vault, state)
    _apply_in_parts(vault, settings, backend, plan, build, broken, state, report)


def _apply_in_parts(vault: Path, settings: Settings, backend, plan: SyncPlan, build, broken: set[str],
                    state: SyncState, report: SyncReport) -> None:
    """Each part: journal its adds, apply it, record it, write its ID lines; stop at a failure."""
    parsed = {pf.source.path: pf for pf in build.parsed}
    parts = split_plan(plan, list(parsed), backend.batch_notes)
    total = len(plan.adds)
    for part in parts:
        adding = [a.card for a in part.plan.adds] + [u.card for u in part.plan.updates if u.changes.note_type]
        if backend.needs_journal and adding:
            state.pending = [PendingAdd(c.guid, c.note_type, c.deck, c.fields) for c in adding]
            save_sync_state(vault, state)
        applied = backend.apply(part.plan)
        report.applied = True
        if applied.stopped is not None:
            report.done["add"] += len(applied.new_notes)
            _keep_what_was_made(state, applied)
            save_sync_state(vault, state)
            report.problem = _stopped(applied.stopped, report, total)
            return
        state.pending = []
        _count(report, part.plan, applied)
        _record_notes(state, part.plan, applied)
        refused = {d.path for d in applied.diagnostics if d.severity == "error"}
        report.diagnostics.extend(applied.diagnostics)
        diags, written = write_back(settings, [parsed[p] for p in part.files], _placed(part.plan, applied),
                                    broken | refused, state, build.deps)
        report.diagnostics.extend(diags)
        report.ids_written += written
        _own_writes_are_not_edits(state, set(parsed))
        save_sync_state(vault, state)


def _own_writes_are_not_edits(state: SyncState, synced: set[str]) -> None:
    """A card embedding a note that this sync gave ID lines was built from that note as read; the
    ID lines are ours, so the embedding file must not look changed to the next sync."""
    for record in state.files.values():
        for dep in record.deps:
            written = state.files.get(dep) if dep in synced else None
            if written is not None:
                record.deps[dep] = [written.mtime_ns, written.size]


def _keep_what_was_made(state: SyncState, applied: Applied) -> None:
    """A part that stopped early: its new notes are ours (recorded with no digest, so the next
    sync compares and finishes them), and the journal stays only if the failed request may
    still have added notes."""
    for n in applied.new_notes:
        state.notes[n.nid] = NoteRecord(n.card.block.path, n.card.block.line, n.card.guid, "", n.card.deck)
    if not getattr(applied.stopped, "maybe_done", False):
        state.pending = []


def _stopped(exc: Exception, report: SyncReport, total: int) -> str:
    """One line: what went wrong, what was done, what was not, and that a new run is safe."""
    added = report.done["add"]
    return (f"{exc}. Done: {added} of {_n(total, 'note')} added, {report.ids_written} ID lines written; "
            f"not done: the other {total - added}. Running the sync again is safe: it finds the notes "
            "Anki added from the interrupted batch instead of adding them twice")


def _count(report: SyncReport, plan: SyncPlan, applied: Applied) -> None:
    refused = {(d.path, d.line) for d in applied.diagnostics if d.severity == "error"}
    report.done["add"] += sum(1 for a in plan.adds if applied.nid_of(a.card) is not None)
    report.done["update"] += sum(1 for u in plan.updates if (u.card.block.path, u.card.block.line) not in refused)
    report.done["move"] += len(plan.moves)
    report.done["delete"] += len(plan.deletes)


def _recover_journal(backend, state: SyncState, cards: list[Card]) -> dict[str, int]:
    """guid -> note id of the journalled adds found in Anki, recorded as ours at once (with no
    digest, so the plan compares them) so the journal can be emptied."""
    if not state.pending:
        return {}
    found = backend.find_added(state.pending, known=set(state.notes))
    by_guid = {c.guid: c for c in cards}
    for guid, nid in found.items():
        card = by_guid.get(guid)
        if card is not None:
            state.notes[nid] = NoteRecord(card.block.path, card.block.line, guid, "", card.deck)
    return {g: n for g, n in found.items() if g in by_guid}


def _with_errors(cards: list[Card], diagnostics: list[Diagnostic]) -> set[int]:
    """ids of the cards with an error inside their block: Anki gets none of them (a Cloze with
    no deletion would become a note with an empty card)."""
    errors: dict[str, list[int]] = {}
    for d in diagnostics:
        if d.severity == "error":
            errors.setdefault(d.path, []).append(d.line)
    return {id(c) for c in cards
            if any(c.block.line <= line <= c.block.end_line for line in errors.get(c.block.path, ()))}


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


def _split_by_change(vault: Path, stats: dict[str, tuple[int, int]], state: SyncState, backend,
                     full: bool) -> tuple[list[str], list[str], set[int]]:
    """(files to read, files to leave alone, notes out of their deck). A file is read when it or
    a file its cards embed changed since it was last synced completely, or when one of its notes
    is gone from Anki (deleted there: re-created) or has a card outside its deck (moved back)."""
    todo = {p for p, stat in stats.items() if full or _changed(vault, state.files.get(p), stat)}
    kept = {n for p in stats if p not in todo for n in state.files[p].nids}
    reading = {n for p in todo if p in state.files for n in state.files[p].nids}
    deck = {n: state.notes[n].deck if n in state.notes else "" for n in kept | reading}
    decks = backend.decks_of({n: deck[n] for n in kept}, {n: deck[n] for n in reading}) if deck else {}
    misplaced = {n for n, ds in decks.items()
                 if ds and n in state.notes and state.notes[n].deck and ds != {state.notes[n].deck}}
    present = set(decks)
    todo |= {p for p in stats if p not in todo
             and not (present.issuperset(state.files[p].nids) and misplaced.isdisjoint(state.files[p].nids))}
    return [p for p in stats if p in todo], [p for p in stats if p not in todo], misplaced


def _changed(vault: Path, record: FileRecord | None, stat: tuple[int, int]) -> bool:
    return record is None or (record.size, record.mtime_ns) != stat or \
        any(stamp_of(vault / dep) != st for dep, st in record.deps.items())


def _build(vault: Path, settings: Settings, files: list[str], progress: bool, options: CommandOptions,
           index: VaultIndex):
    from notecards.export_state import ExportState
    from notecards.pipeline import BuildOptions, build

    present = [f for f in files if (vault / f).is_file()]
    return build(vault, settings, ExportState(), BuildOptions(files=present, progress=progress, index=index,
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


def _placed(plan: SyncPlan, applied: Applied) -> list[tuple[Card, int]]:
    """Each card with the note its block names once this part is done (none if Anki refused it)."""
    placed = [(n.card, n.nid) for n in applied.new_notes]
    placed += [(u.card, u.nid) for u in plan.updates if not u.changes.note_type]
    placed += [(card, nid) for nid, card in plan.unchanged]
    return placed


def _record_notes(state: SyncState, plan: SyncPlan, applied: Applied) -> None:
    """Remember which notes the blocks are and what was sent to them. A card Anki refused keeps
    its old record, so its digest still differs and the next sync sends it again."""
    refused = {(d.path, d.line) for d in applied.diagnostics if d.severity == "error"}
    for d in plan.deletes:
        state.notes.pop(d.nid, None)
    for u in plan.updates:
        if u.changes.note_type:
            state.notes.pop(u.nid, None)
    for card, nid in _placed(plan, applied):
        if (card.block.path, card.block.line) not in refused:
            state.notes[nid] = NoteRecord(card.block.path, card.block.line, card.guid, card_digest(card),
                                          card.deck)
