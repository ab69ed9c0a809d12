"""The export pipeline: vault -> parse -> render (+ model -> simulate) -> cards.

`build` runs the stages and gathers their diagnostics; it never prints and never writes into the
user's notes. Export and sync both start from its `Build`. With a cache (export, check), a file
whose inputs did not change since the last run contributes its stored cards without being read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from notecards.build_cache import BuildCache, FileEntry, context_key, stamp_of
from notecards.config import Settings, load_settings
from notecards.deck_names import anki_deck_name
from notecards.export_state import STATE_DIR, ExportState
from notecards.faults import inject_fault, internal_error, is_internal_error
from notecards.identity import assign_guids, keeps_anki_id
from notecards.notetypes import SIM_FIELD
from notecards.types import Card, CardBlock, Deletion, Diagnostic, MediaFile, ParsedFile, SimStats
from notecards.vault import VaultIndex, note_files, read_source

if TYPE_CHECKING:
    from notecards.models.card import SimOptions
    from notecards.models.jobs import SimJob
    from notecards.models.workers import WorkerPool
    from notecards.render import Rendered

_MAYBE_MODEL = re.compile(r"\\sim\b|^[`~]{3,}[ \t]*(?:python[ \t]+)?sim[ \t]*$", re.M)


@dataclass
class Build:
    vault: Path
    settings: Settings
    index: VaultIndex
    parsed: list[ParsedFile] = field(default_factory=list)   # files read this run
    files: int = 0                                           # files that contributed, read or cached
    cards: list[Card] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sims: SimStats = field(default_factory=SimStats)
    deps: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # file read -> files its cards read

    def count(self, severity: str) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)

    def decks(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for card in self.cards:
            out[card.deck] = out.get(card.deck, 0) + 1
        return dict(sorted(out.items()))


@dataclass
class BuildOptions:
    files: list[str] | None = None        # vault-relative paths; None = every note of the vault
    simulate: bool = True
    allow_code: bool = False
    progress: bool = False
    workers: int = 0                      # 0 = one per core
    cache: bool = False                   # reuse unchanged files' cards from .notecards/
    read_only: bool = False               # write nothing, not even caches (notecards check)
    index: VaultIndex | None = None       # the vault as the caller just scanned it (sync): not scanned again


@dataclass
class _FileWork:
    """One file on its way through the stages this run."""

    parsed: ParsedFile
    cards: list[Card] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sim: SimStats = field(default_factory=SimStats)


def build(vault: Path, settings: Settings | None = None, state: ExportState | None = None,
          options: BuildOptions | None = None) -> Build:
    options = options or BuildOptions()
    vault = Path(vault)
    diagnostics: list[Diagnostic] = []
    if settings is None:
        settings = load_settings(vault, diagnostics)
    state = state if state is not None else ExportState()
    index = options.index or VaultIndex.scan(vault)
    diagnostics.extend(index.link_problems(settings.extensions))
    result = Build(vault=vault, settings=settings, index=index, diagnostics=diagnostics)
    vault_notes = note_files(index, settings)
    rels = options.files if options.files is not None else vault_notes
    cache = (BuildCache(vault, _context(settings, index, options), writable=not options.read_only)
             if options.cache else None)
    present = set(vault_notes) | set(rels)   # a note not named this run is not gone from the vault
    taken = _held_elsewhere(state, present - set(rels))
    cached, fresh = _reuse_or_parse(rels, cache, result, taken)
    workers = options.workers or _cores()
    models = _find_models(fresh) if options.simulate else {}
    with _start_workers(models, result, options) as pool:   # their imports overlap the rendering
        _make_cards(fresh, result, state, present, taken, workers)
        if models:
            _attach_simulations([c for w in fresh for c in w.cards], {c.guid: w for w in fresh for c in w.cards},
                                result, options, models, pool)
    for work in fresh:
        for card in work.cards:
            card.content_hash = _content_hash(card)
        deps = result.deps[work.parsed.source.path] = _dependencies(work, result)
        if cache and not any(is_internal_error(d) for d in work.diagnostics):  # retried next run
            cache.put(work.parsed.source.path, FileEntry(
                cards=work.cards, deletions=work.parsed.deletions, diagnostics=work.diagnostics,
                deps=deps, sim=work.sim))
    _collect(result, rels, cached, {w.parsed.source.path: w for w in fresh})
    if cache:
        cache.forget_missing(present)
        cache.close()
    diagnostics.sort(key=lambda d: (d.path, d.line, d.col))
    return result


def _held_elsewhere(state: ExportState, unnamed: set[str]) -> set[str]:
    """GUIDs of the cards of vault files this run leaves out: still theirs, so a file of the same
    name that is built alone must not be handed them (by position or by a vanished-file match)."""
    return {k.guid for path in unnamed for k in state.known.get(path, ())}


def _reuse_or_parse(rels: list[str], cache: BuildCache | None, result: Build,
                    taken: set[str]) -> tuple[dict[str, FileEntry], list[_FileWork]]:
    """Each file's cards from the cache when nothing it depends on changed, else parsed anew.
    A cached file keeps its GUIDs unless another cached file already holds one of them."""
    cached: dict[str, FileEntry] = {}
    fresh: list[_FileWork] = []
    for rel in rels:
        entry = cache.get(rel) if cache else None
        if entry is not None and not taken.intersection(c.guid for c in entry.cards):
            cached[rel] = entry
            taken.update(c.guid for c in entry.cards)
            continue
        source = read_source(result.vault, rel, result.diagnostics)
        if source is None:
            continue
        # imported here: an unchanged vault never needs the parser, markdown-it or YAML
        from notecards.embed_check import check_embeds_outside_cards
        from notecards.parse import parse_file

        result.index.remember(source)
        try:
            inject_fault("parse", rel)
            parsed = parse_file(source, result.settings)
            diagnostics = parsed.diagnostics + check_embeds_outside_cards(parsed, result.index)
        except Exception as exc:  # noqa: BLE001 - a bug of ours costs this file, not the vault
            result.diagnostics.append(internal_error(rel, "reading", exc))
            continue
        result.parsed.append(parsed)
        fresh.append(_FileWork(parsed, diagnostics=diagnostics))
    return cached, fresh


def _context(settings: Settings, index: VaultIndex, options: BuildOptions) -> str:
    shaping = (repr(settings), options.simulate, options.allow_code)
    # packages written inside the vault, and study history files (a new device adds one), are
    # not notes: they must not invalidate every file
    return context_key(repr(shaping), [f for f in index.files if not f.endswith((".apkg", ".jsonl"))])


def _collect(result: Build, rels: list[str], cached: dict[str, FileEntry], fresh: dict[str, _FileWork]) -> None:
    """Gather every file's contribution in vault order, whether read now or taken from the cache."""
    for rel in rels:
        if rel in cached:
            entry = cached[rel]
            cards, deletions, diags, sims = entry.cards, entry.deletions, entry.diagnostics, entry.sim.reused()
        elif rel in fresh:
            work = fresh[rel]
            cards, deletions, diags, sims = work.cards, work.parsed.deletions, work.diagnostics, work.sim
        else:
            continue
        result.files += 1
        result.cards.extend(cards)
        result.deletions.extend(deletions)
        result.diagnostics.extend(diags)
        result.sims += sims


def _make_cards(fresh: list[_FileWork], result: Build, state: ExportState, present: set[str],
                taken: set[str], workers: int) -> None:
    """Identity first (it looks across files), then rendering (per file, in parallel when large)."""
    all_guids = []
    for work in fresh:
        src = work.parsed.source
        known = assign_guids(work.parsed.blocks, result.settings.vault_name, src.stem,
                             state.previous_cards(src.path, src.stem, present), taken)
        state.known[src.path] = known
        guids = [k.guid for k in known]
        taken.update(guids)
        all_guids.append(guids)
        work.diagnostics.extend(_copied_ids(work.parsed.blocks, guids))
        work.diagnostics.extend(_impossible_ids(work.parsed.blocks))
    for work, guids, rendered in zip(fresh, all_guids, _render_files(fresh, result, workers)):
        if isinstance(rendered, Diagnostic):     # rendering this file hit a bug of ours
            work.diagnostics.append(rendered)
            continue
        for block, guid, r in zip(work.parsed.blocks, guids, rendered):
            work.diagnostics.extend(r.diagnostics)
            tags = _merge_tags(block.tags, r.tags if result.settings.add_obsidian_tags else [])
            work.cards.append(Card(block=block, note_type=block.note_type, fields=r.fields,
                                   tags=tags, deck=anki_deck_name(block.deck), guid=guid, media=r.media))


def _copied_ids(blocks: list[CardBlock], guids: list[str]) -> list[Diagnostic]:
    return [Diagnostic(b.path, b.id_line or b.line, "warning",
                       f"ID {b.anki_id} is also on an earlier card, which keeps it; this card becomes "
                       "a new note (sync gives it an ID line of its own)")
            for b, g in zip(blocks, guids) if b.anki_id is not None and not keeps_anki_id(b, g)]


def _impossible_ids(blocks: list[CardBlock]) -> list[Diagnostic]:
    """An ID Anki cannot hold (0, or 2^63 and beyond): exported as a new note, said at its line."""
    from notecards.parse.ids import MAX_NOTE_ID, is_note_id

    out = []
    for b in blocks:
        if b.anki_id is not None and not is_note_id(b.anki_id):
            shown = str(b.anki_id) if b.anki_id <= MAX_NOTE_ID else f"{str(b.anki_id)[:12]}…"
            out.append(Diagnostic(b.path, b.id_line or b.line, "warning",
                                  f"ID {shown} is not an Anki note id (those run from 1 to {MAX_NOTE_ID}); "
                                  "the card is exported as a new note — remove this ID line"))
    return out


_PARALLEL_MIN_CARDS = 400
_forked: tuple[list[_FileWork], VaultIndex, Settings] | None = None


def _render_files(fresh: list[_FileWork], result: Build, workers: int) -> list[list[Rendered] | Diagnostic]:
    """Render every block; markdown-it is the cold run's main cost, so large runs use every core
    (forked workers inherit the parsed files and the vault index, nothing is re-read)."""
    global _forked
    cards = sum(len(w.parsed.blocks) for w in fresh)
    if workers < 2 or cards < _PARALLEL_MIN_CARDS:
        return [_render_file(w.parsed, result.index, result.settings) for w in fresh]
    import multiprocessing  # only here: a run with little to render never pays for the import
    from concurrent.futures import ProcessPoolExecutor

    from notecards.interrupt import quiet_worker

    if "fork" not in multiprocessing.get_all_start_methods():
        return [_render_file(w.parsed, result.index, result.settings) for w in fresh]
    _forked = (fresh, result.index, result.settings)
    try:
        chunks = [list(range(i, len(fresh), workers * 4)) for i in range(workers * 4)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=quiet_worker) as pool:
            out: list[list[Rendered] | Diagnostic] = [[] for _ in fresh]
            for chunk, rendered in zip(chunks, pool.map(_render_chunk, chunks)):
                for i, r in zip(chunk, rendered):
                    out[i] = r
        return out
    finally:
        _forked = None


def _render_chunk(indexes: list[int]) -> list[list[Rendered] | Diagnostic]:
    assert _forked is not None
    fresh, index, settings = _forked
    return [_render_file(fresh[i].parsed, index, settings) for i in indexes]


def _render_file(parsed: ParsedFile, index: VaultIndex, settings: Settings) -> list[Rendered] | Diagnostic:
    """Every block of the file rendered, or (a bug of ours) one error for the file."""
    from notecards.render import RenderContext, render_block

    try:
        inject_fault("render", parsed.source.path)
        ctx = RenderContext(index=index, settings=settings, source=parsed.source)
        return [render_block(block, ctx) for block in parsed.blocks]
    except Exception as exc:  # noqa: BLE001 - a bug of ours costs this file, not the vault
        return internal_error(parsed.source.path, "rendering", exc)


def _dependencies(work: _FileWork, result: Build) -> dict[str, list[int]]:
    """The other files this file's cards read: media, and the notes they embed, followed down
    through embeds of embeds (render transcludes them too), so an edit anywhere along the chain
    renders the card again. A whole embedded note is scanned, not just the embedded section: at
    worst a card is rendered again for nothing."""
    from notecards.render.links import wiki_embeds

    deps: dict[str, list[int]] = {}
    root = result.vault
    for card in work.cards:
        for m in card.media:
            if m.path is not None and m.path.is_relative_to(root):
                rel = m.path.relative_to(root).as_posix()
                deps[rel] = stamp_of(m.path) or [0, 0]
    extensions = tuple(result.settings.extensions)
    seen = {work.parsed.source.path}
    texts = [text for card in work.cards for text in card.block.fields.values()]
    while texts:
        targets = {target.note for text in texts for target in wiki_embeds(text) if target.note}
        texts = []
        for target in sorted(targets):
            rel = result.index.resolve_note(target, extensions)
            if rel is None or rel in seen:
                continue
            seen.add(rel)
            deps[rel] = stamp_of(root / rel) or [0, 0]
            source = result.index.source(rel, [])   # a file that cannot be read: render said so
            if source is not None:
                texts.append(source.text)
    return deps


def _merge_tags(*groups: list[str]) -> list[str]:
    """Tags in first-seen order, without duplicates (Anki compares tags case-insensitively)."""
    seen: set[str] = set()
    out = []
    for group in groups:
        for tag in group:
            if tag and tag.lower() not in seen:
                seen.add(tag.lower())
                out.append(tag)
    return out


def _find_models(fresh: list[_FileWork]) -> dict[int, tuple[SimJob | None, list[Diagnostic]]]:
    """Each parsed block's model as a job (by the block's id), found before the cards are rendered
    so that workers can start meanwhile; a run none of whose cards could hold a model imports
    nothing of the model stage."""
    if not any(_MAYBE_MODEL.search(t) for w in fresh for b in w.parsed.blocks for t in b.fields.values()):
        return {}
    from notecards.models.card import block_job

    return {id(block): block_job(block, work.parsed.source.text, "") for work in fresh for block in work.parsed.blocks}


def _start_workers(models: dict[int, tuple[SimJob | None, list[Diagnostic]]], result: Build,
                   options: BuildOptions) -> contextlib.AbstractContextManager:
    """The simulation workers, started now when some model's figure is not in the cache (so their
    imports of numpy and scipy overlap the rendering); else nothing is started."""
    jobs = [job for job, _ in models.values() if job is not None]
    if not jobs:
        return contextlib.nullcontext()
    from notecards.models.card import start_workers

    return start_workers(jobs, sims_folder(result.vault), _sim_options(result, options)) or contextlib.nullcontext()


def _sim_options(result: Build, options: BuildOptions) -> SimOptions:
    from notecards.models.card import SimOptions
    from notecards.models.run import CodeLimits

    settings = result.settings
    return SimOptions(allow_code=options.allow_code or settings.allow_code,
                      code_limits=CodeLimits(settings.code_timeout, settings.code_memory_mb),
                      workers=options.workers or _cores(), progress=options.progress, store=not options.read_only)


def _attach_simulations(cards: list[Card], owner: dict[str, _FileWork], result: Build, options: BuildOptions,
                        models: dict[int, tuple[SimJob | None, list[Diagnostic]]], pool: WorkerPool | None) -> None:
    """Put each card's figures and caption (its model found by `_find_models`) in its Simulation
    field, rendered in `pool` when the workers were started early."""
    from notecards.models.card import run_jobs

    jobs = []
    by_key: dict[str, Card] = {}
    for card in cards:
        job, diagnostics = models.get(id(card.block), (None, []))
        owner[card.guid].diagnostics.extend(diagnostics)
        if job is not None:
            jobs.append(replace(job, key=card.guid))
            by_key[card.guid] = card
    if not jobs:
        return
    sims_dir = sims_folder(result.vault)
    outcomes = run_jobs(jobs, sims_dir, _sim_options(result, options), pool)
    for outcome in outcomes:
        card = by_key[outcome.key]
        work = owner[outcome.key]
        work.diagnostics.extend(outcome.diagnostics)
        figures = len(outcome.figures)
        work.sim += SimStats(model_cards=1, checks_passed=outcome.checks_passed,
                             checks_failed=outcome.checks_failed,
                             figures_rendered=figures if outcome.rendered else 0,
                             figures_reused=0 if outcome.rendered else figures)
        if outcome.html:
            card.fields[SIM_FIELD] = outcome.html
        card.media.extend(MediaFile(name=f.name, data=f.data,
                                    path=None if options.read_only else sims_dir / f.name)
                          for f in outcome.figures)


def sims_folder(vault: Path) -> Path:
    """Where the vault's simulation cache lives (see `models.run`)."""
    return vault / STATE_DIR / "sims"


def _cores() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _content_hash(card: Card) -> str:
    """Everything that shapes the note in Anki: when this changes, the note's `mod` moves on."""
    h = hashlib.sha256()
    for part in (card.note_type, card.deck, " ".join(card.tags), *card.fields.keys(), *card.fields.values(),
                 *(m.name for m in card.media)):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:24]

