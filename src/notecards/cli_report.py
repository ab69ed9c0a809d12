"""What the command line prints: diagnostics, the summary, JSON for editors and CI.

One rule for paths: every path printed (diagnostics, `sim`, `sync --dry-run`, the package written)
is relative to the working folder when it lies below it, else absolute — the form an editor or a
terminal opened there can follow. Counts say notes and Anki cards apart: a reversed note makes
two cards, a cloze note one per deletion number.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from notecards.notetypes import card_ordinals
from notecards.types import Card, Diagnostic



def shown_path(path: Path | str) -> str:
    """`path` as printed: relative to the working folder when below it, else absolute."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute == cwd:
        return "."
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return absolute


def diagnostic_path(vault: Path, d: Diagnostic) -> str:
    return shown_path(vault / d.path) if d.path else shown_path(vault)


def print_diagnostics(vault: Path, diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        print(f"{diagnostic_path(vault, d)}:{d.line}: {d.severity}: {d.message}", file=sys.stderr)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _deck_counts(cards: list[Card]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for card in cards:
        notes, n = out.get(card.deck, (0, 0))
        out[card.deck] = (notes + 1, n + len(card_ordinals(card)))
    return dict(sorted(out.items()))


def summary(result) -> str:
    decks = _deck_counts(result.cards)
    media = {m.name for c in result.cards for m in c.media}
    cards = sum(n for _, n in decks.values())
    s = result.sims
    lines = [
        f"{plural(result.files, 'file')}, {plural(len(result.cards), 'note')} ({plural(cards, 'card')}) "
        f"in {plural(len(decks), 'deck')}, {len(media)} media, {plural(result.count('warning'), 'warning')}, "
        f"{plural(result.count('error'), 'error')}",
    ]
    lines += [f"  {name}: {plural(notes, 'note')} ({plural(n, 'card')})" for name, (notes, n) in decks.items()]
    if s.model_cards:
        lines.append(f"  simulations: {plural(s.model_cards, 'model card')}, {plural(s.figures_rendered, 'figure')} "
                     f"rendered, {s.figures_reused} reused, checks {s.checks_passed} passed, {s.checks_failed} failed")
    if result.deletions:
        lines.append(f"  {plural(len(result.deletions), 'DELETE request')} (applied by `notecards sync`)")
    return "\n".join(lines)


def check_json(result, status: int, extra: dict) -> str:
    """`check --json` / `export --json`: the summary's numbers and every diagnostic, paths as printed."""
    decks = _deck_counts(result.cards)
    s = result.sims
    data = {
        "status": status,
        "files": result.files,
        "notes": len(result.cards),
        "cards": sum(n for _, n in decks.values()),
        "decks": {name: {"notes": notes, "cards": n} for name, (notes, n) in decks.items()},
        "media": len({m.name for c in result.cards for m in c.media}),
        "warnings": result.count("warning"),
        "errors": result.count("error"),
        "simulations": {"model_cards": s.model_cards, "figures_rendered": s.figures_rendered,
                        "figures_reused": s.figures_reused, "checks_passed": s.checks_passed,
                        "checks_failed": s.checks_failed},
        "deletions": len(result.deletions),
        "diagnostics": [{**d.to_dict(), "path": diagnostic_path(result.vault, d)} for d in result.diagnostics],
        **extra,
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def internal_error_line(exc: BaseException) -> str:
    return f"notecards: internal error: {type(exc).__name__}: {exc} — please report it"
