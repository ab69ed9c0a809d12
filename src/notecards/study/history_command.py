"""`notecards history import VAULT COLLECTION` and `notecards history optimize VAULT`.

A command of its own rather than flags of `notecards study`: both are one-off actions on the
history that finish and say what they did, where `study` starts a server and keeps running; and
an import is something to do once with Anki closed, not on every study start.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from notecards.study.command import print_diagnostics


def add_history_parser(sub: argparse._SubParsersAction) -> None:
    """Register `notecards history …` on the main parser's subcommands."""
    h = sub.add_parser("history", help="import Anki review history, fit FSRS parameters to yours",
                       description="Work on the vault's study history (see docs/history.md).")
    actions = h.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = actions.add_parser("import", help="append an Anki collection's reviews of this vault's cards",
                           description="Read the review log of an Anki collection (Anki must be closed) and "
                                       "append the reviews of this vault's cards to this device's history. "
                                       "Importing again adds nothing.")
    i.add_argument("vault", type=Path, metavar="VAULT")
    i.add_argument("collection", type=Path, metavar="COLLECTION", help="path to collection.anki2")
    i.set_defaults(run=run_import)
    o = actions.add_parser("optimize", help="fit the FSRS parameters to your own reviews",
                           description="Fit the FSRS parameters to the vault's history (about 1,000 reviews "
                                       "needed) and save them in notecards.toml [study] when they predict "
                                       "your reviews better than the ones in use.")
    o.add_argument("vault", type=Path, metavar="VAULT")
    o.add_argument("--dry-run", action="store_true", help="report the fit, do not change notecards.toml")
    o.set_defaults(run=run_optimize)


def run_import(args: argparse.Namespace) -> int:
    """Exit status: 0 imported (or nothing new), 1 when nothing could be imported, 2 bad usage."""
    from notecards.study.anki_import import CollectionBusy, ImportFailed, import_anki_history

    if not args.vault.is_dir():
        return _usage(f"{args.vault}: not a folder")
    try:
        report = import_anki_history(args.vault, args.collection)
    except (CollectionBusy, ImportFailed) as exc:
        print(f"notecards: error: {exc}", file=sys.stderr)
        return 1
    print_diagnostics(args.vault, report.diagnostics)
    print(_import_summary(report))
    return 0


def run_optimize(args: argparse.Namespace) -> int:
    """Exit status: 0 fitted (saved or not), 1 when the history is too short or the file cannot be
    edited, 2 bad usage."""
    from notecards.study.optimize import NotEnoughReviews, optimize_parameters

    if not args.vault.is_dir():
        return _usage(f"{args.vault}: not a folder")
    try:
        result = optimize_parameters(args.vault, save=not args.dry_run)
    except (NotEnoughReviews, ValueError, OSError) as exc:
        print(f"notecards: error: {exc}", file=sys.stderr)
        return 1
    print(f"fitted on {_count(result.reviews, 'review')} ({_count(result.items, 'training item')})")
    print(f"  log loss {result.before.log_loss:.4f} -> {result.after.log_loss:.4f}, "
          f"RMSE {result.before.rmse:.4f} -> {result.after.rmse:.4f}")
    if not result.kept:
        print("  not better than the parameters in use: notecards.toml unchanged")
    elif result.saved:
        print("  saved as [study] parameters in notecards.toml: every device schedules with them")
    else:
        print("  better (--dry-run: notecards.toml unchanged)")
    return 0


def _import_summary(report) -> str:
    added = _count(report.reviews, "review") + (f" and {_count(report.resets, 'reset')}" if report.resets else "")
    lines = [f"imported {added} of {_count(report.cards, 'card')} into {report.file}"
             if report.reviews or report.resets else f"nothing new to import ({report.file} unchanged)"]
    lines.append(f"  {_count(report.notes, 'note')} of the collection from this vault, {report.other_notes} not")
    if report.already:
        lines.append(f"  {_count(report.already, 'row')} already imported")
    for reason, count in sorted(report.skipped.items()):
        lines.append(f"  {_count(count, 'row')} skipped: {reason}")
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _usage(message: str) -> int:
    print(f"notecards: error: {message}", file=sys.stderr)
    return 2
