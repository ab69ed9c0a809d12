"""Shared test helpers: run the real CLI in a subprocess, open real Anki collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
O2A_SUITES = SHARED / "o2a-suites"

# The canonical model card's sim block (docs/simulations.md describes the language): several test files check it parses, runs and passes.
DESIGN_EXAMPLE = """\
lambda = 4                      # constants and data
sigma = 1
theta ~ Normal(0, lambda)       # ancestral sampling, in order
X ~ Normal(theta, sigma^2)
n = 20000                       # draws (default 10000)
check: var(X) ≈ lambda + sigma^2
"""


def run_cli(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """`python -m notecards ARGS` as a user runs it (no terminal: no progress bars)."""
    env = {**os.environ, "CI": "true"}
    proc = subprocess.run([sys.executable, "-m", "notecards", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def collection(tmp_path):
    from anki.collection import Collection

    col = Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()


def import_apkg(col, path: Path):
    """Import as Anki's File > Import does with default options; returns the import log."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    options = ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=False, with_deck_configs=False)
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options)).log


def review(col, card_id: int) -> None:
    """Answer a card 'Good', as a user studying it would."""
    from anki.scheduler.v3 import CardAnswer

    card = col.get_card(card_id)
    card.start_timer()
    states = col._backend.get_scheduling_states(card.id)
    col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))


def revlog_ids(col, card_id: int) -> list[int]:
    return col.db.list("select id from revlog where cid = ?", card_id)
