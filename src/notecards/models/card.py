"""Simulating one card: the entry point that `notecards sim` and the study server's sliders call,
and the one place a card becomes a `SimJob`, so every caller (the export's pipeline too) seeds a
card from the same identity and shares the same cache.

    simulate_card(card, note_text, cache_dir, overrides={"lambda": 2.5}, options=SimOptions())

`overrides` sets scalar constants of the card's model before it runs (`sim.lang.with_constants`):
the result is cached by content like any other, so moving a slider back to a value already seen
costs a file read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from notecards.models.find import find_model
from notecards.models.run import CodeLimits, SimJob, SimOutcome, run_simulations, workers_for
from notecards.types import Card, CardBlock, Diagnostic

if TYPE_CHECKING:
    from notecards.models.workers import WorkerPool


@dataclass(frozen=True)
class SimOptions:
    """How a card's simulation may run: python sim blocks allowed (and their limits), workers
    for several cards, a progress bar, and whether new results are written to the cache."""

    allow_code: bool = False
    code_limits: CodeLimits = CodeLimits()
    workers: int = 1
    progress: bool = False
    store: bool = True


@dataclass
class CardSimulation:
    """A card's model as a job (None when the card has none), what running it gave (None when it
    did not run), and the diagnostics of finding the model and of setting the overrides."""

    job: SimJob | None
    outcome: SimOutcome | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def model_job(card: Card, note_text: str) -> tuple[SimJob | None, list[Diagnostic]]:
    """The card's model as a job keyed by the card's identity, its guid; None when the card has no
    model. `note_text` is the whole note, whose tables can hold the model's data."""
    return block_job(card.block, note_text, card.guid)


def block_job(block: CardBlock, note_text: str, key: str) -> tuple[SimJob | None, list[Diagnostic]]:
    """`model_job` for a parsed block, before it is a card (the export looks for models as soon
    as a file is parsed, to start its workers early); `key` matches the outcome to its card."""
    source, diagnostics = find_model(block, note_text)
    if source is None:
        return None, diagnostics
    return SimJob(key=key, path=block.path, line=source.line, spec=source.spec, code=source.code,
                  fit=source.fit), diagnostics


def with_overrides(job: SimJob, overrides: dict[str, float]) -> tuple[SimJob | None, list[Diagnostic]]:
    """The job with some of its model's constants set; None (and why) when they cannot be."""
    from notecards.sim.lang import with_constants

    if job.spec is None:
        return None, [Diagnostic(job.path, job.line, "error", "a python sim block has no constants to set")]
    spec, diagnostics = with_constants(job.spec, overrides)
    return (replace(job, spec=spec) if spec is not None else None), diagnostics


def simulate_card(card: Card, note_text: str, cache_dir: Path, overrides: dict[str, float] | None = None,
                  options: SimOptions = SimOptions()) -> CardSimulation:
    """Find, set up and run one card's model, from the cache in `cache_dir` when it holds it."""
    job, diagnostics = model_job(card, note_text)
    if job is None:
        return CardSimulation(None, diagnostics=diagnostics)
    if overrides:
        job, problems = with_overrides(job, overrides)
        diagnostics += problems
        if job is None:
            return CardSimulation(None, diagnostics=diagnostics)
    [outcome] = run_jobs([job], cache_dir, options)
    return CardSimulation(job, outcome, diagnostics)


def run_jobs(jobs: list[SimJob], cache_dir: Path, options: SimOptions,
             pool: "WorkerPool | None" = None) -> list[SimOutcome]:
    """`run_simulations` with a card's options (in `pool`, started by `start_workers`, when given)."""
    return run_simulations(jobs, cache_dir, workers=options.workers, progress=options.progress,
                           allow_code=options.allow_code, code_limits=options.code_limits, store=options.store,
                           pool=pool)


def start_workers(jobs: list[SimJob], cache_dir: Path, options: SimOptions) -> "WorkerPool | None":
    """Workers for the jobs whose figures are not in the cache, started now so that their imports
    overlap the caller's work; None (nothing started) when every figure is cached."""
    return workers_for(jobs, cache_dir, workers=options.workers, allow_code=options.allow_code,
                       code_limits=options.code_limits)
