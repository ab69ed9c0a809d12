"""What a simulation job is and what it gives: the records `models.run` passes between the pipeline,
its worker processes and the cache (they cross process boundaries, so they are plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

from notecards.models.find import FitOptions
from notecards.sim.model import ModelSpec
from notecards.types import Diagnostic


@dataclass(frozen=True)
class CodeLimits:
    """How long and how large a ```python sim block may run; part of its cache key, since a
    block that timed out under one limit may finish under another."""

    timeout_s: float = 60.0
    memory_mb: int = 1024

    @classmethod
    def allowed_by(cls, settings) -> "CodeLimits | None":
        """The vault's limits when it (or --allow-code) allows code, else None."""
        if not settings.allow_code:
            return None
        return cls(timeout_s=float(settings.code_timeout), memory_mb=int(settings.code_memory_mb))


@dataclass
class SimJob:
    key: str                 # the card's stable identity (its guid), to match outcomes to cards
    path: str
    line: int
    spec: ModelSpec | None
    code: str | None = None  # a ```python sim block (runs only when allow_code)
    fit: FitOptions | None = None   # set: fit the spec to its data instead of simulating it


@dataclass
class Figure:
    name: str                # content-hash file name, e.g. "nc-sim-<sha256[:20]>.png"
    data: bytes


@dataclass
class SimOutcome:
    key: str
    html: str
    figures: list[Figure]
    diagnostics: list[Diagnostic]
    rendered: bool           # False when everything came from the cache
    checks_passed: int = 0
    checks_failed: int = 0
