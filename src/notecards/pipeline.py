"""The export pipeline: vault -> parse -> render (+ model -> simulate) -> cards.

`build` runs the stages and gathers their diagnostics; it never prints and never writes into the
user's notes. Export and sync both start from its `Build`.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from notecards.config import Settings, load_settings
from notecards.identity import KnownCard, assign_guids, field_hashes
from notecards.notetypes import SIM_FIELD
from notecards.parse import parse_file
from notecards.render import RenderContext, render_block
from notecards.state import STATE_DIR, ExportState
from notecards.types import Card, Deletion, Diagnostic, MediaFile, ParsedFile
from notecards.vault import VaultIndex, note_files, read_source


@dataclass
class SimStats:
    model_cards: int = 0
    figures_rendered: int = 0
    figures_reused: int = 0
    checks_passed: int = 0
    checks_failed: int = 0


@dataclass
class Build:
    vault: Path
    settings: Settings
    index: VaultIndex
    parsed: list[ParsedFile] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sims: SimStats = field(default_factory=SimStats)

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


def build(vault: Path, settings: Settings | None = None, state: ExportState | None = None,
          options: BuildOptions | None = None) -> Build:
    options = options or BuildOptions()
    vault = Path(vault)
    diagnostics: list[Diagnostic] = []
    if settings is None:
        settings = load_settings(vault, diagnostics)
    state = state if state is not None else ExportState()
    index = VaultIndex.scan(vault)
    result = Build(vault=vault, settings=settings, index=index, diagnostics=diagnostics)
    rels = options.files if options.files is not None else note_files(index, settings)
    for rel in rels:
        source = read_source(vault, rel, diagnostics)
        if source is None:
            continue
        index.remember(source)
        parsed = parse_file(source, settings)
        result.parsed.append(parsed)
        diagnostics.extend(parsed.diagnostics)
        result.deletions.extend(parsed.deletions)
    _make_cards(result, state)
    if options.simulate:
        _attach_simulations(result, options)
    for card in result.cards:
        card.content_hash = _content_hash(card)
    diagnostics.sort(key=lambda d: (d.path, d.line, d.col))
    return result


def _make_cards(result: Build, state: ExportState) -> None:
    present = {p.source.path for p in result.parsed}
    taken: set[str] = set()
    for parsed in result.parsed:
        src = parsed.source
        guids = assign_guids(parsed.blocks, result.settings.vault_name, src.stem,
                             state.previous_cards(src.path, src.stem, present), taken)
        taken.update(guids)
        ctx = RenderContext(index=result.index, settings=result.settings, source=src)
        for block, guid in zip(parsed.blocks, guids):
            rendered = render_block(block, ctx)
            result.diagnostics.extend(rendered.diagnostics)
            tags = _merge_tags(block.tags, rendered.tags if result.settings.add_obsidian_tags else [])
            result.cards.append(Card(block=block, note_type=block.note_type, fields=rendered.fields,
                                     tags=tags, deck=block.deck, guid=guid, media=rendered.media))
        state.known[src.path] = [KnownCard(g, field_hashes(b)) for b, g in zip(parsed.blocks, guids)]


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


def _attach_simulations(result: Build, options: BuildOptions) -> None:
    """Find each card's model and put its figures and caption in the card's Simulation field."""
    from notecards.sim.find import find_model
    from notecards.sim.run import SimJob, run_simulations

    jobs = []
    by_key: dict[str, Card] = {}
    for card in result.cards:
        source, diagnostics = find_model(card.block)
        result.diagnostics.extend(diagnostics)
        if source is None:
            continue
        jobs.append(SimJob(key=card.guid, path=card.block.path, line=source.line,
                           spec=source.spec, code=source.code))
        by_key[card.guid] = card
    if not jobs:
        return
    outcomes = run_simulations(jobs, result.vault / STATE_DIR / "sims",
                               workers=options.workers or _cores(), progress=options.progress,
                               allow_code=options.allow_code or result.settings.allow_code)
    stats = result.sims
    for outcome in outcomes:
        card = by_key[outcome.key]
        result.diagnostics.extend(outcome.diagnostics)
        stats.model_cards += 1
        stats.checks_passed += outcome.checks_passed
        stats.checks_failed += outcome.checks_failed
        if outcome.rendered:
            stats.figures_rendered += len(outcome.figures)
        else:
            stats.figures_reused += len(outcome.figures)
        if outcome.html:
            card.fields[SIM_FIELD] = outcome.html
        card.media.extend(MediaFile(name=f.name, data=f.data) for f in outcome.figures)


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


def now_seconds() -> int:
    return int(time.time())

