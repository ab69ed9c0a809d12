"""The `notecards` command line: it prints diagnostics, progress and the summary — no other
module prints. Exit status: 0 success, 1 errors found (or warnings with --strict), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from notecards import __version__
from notecards.config import load_settings
from notecards.study.command import add_study_parser
from notecards.study.history_command import add_history_parser
from notecards.types import Diagnostic


@dataclass
class Target:
    """What the user named: a vault, and optionally some files in it."""

    vault: Path
    files: list[str] | None


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"notecards: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:            # an unwritable output or state folder, a full disk …
        print(f"notecards: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


class UsageError(Exception):
    """Bad command-line input: exit status 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="notecards", description="Obsidian vault -> Anki cards, with worked simulations.")
    p.add_argument("--version", action="version", version=f"notecards {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def vault_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("paths", nargs="+", metavar="VAULT|FILE",
                        help="a vault folder, or note files (any extension, e.g. .txt, is read as markdown)")
        sp.add_argument("--ext", action="append", default=None, metavar=".EXT",
                        help="also read files with this extension as notes (repeatable; default .md)")
        sp.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
        sp.add_argument("-q", "--quiet", action="store_true", help="print only problems")

    def sim_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--no-sim", action="store_true", help="do not simulate models")
        sp.add_argument("--allow-code", action="store_true", help="run ```python sim blocks (sandboxed)")
        sp.add_argument("-j", "--jobs", type=int, default=0, help="worker processes for figures (default: cores)")

    e = sub.add_parser("export", help="write an Anki package (.apkg) from a vault",
                       description="Write an Anki package from a vault. Import it in Anki with File > Import.")
    vault_args(e)
    sim_args(e)
    e.add_argument("-o", "--output", type=Path, help="package path (default: output/<vault>.apkg)")
    e.set_defaults(run=_cmd_export)

    c = sub.add_parser("check", help="parse and render without writing anything",
                       description="Parse and render the vault and report problems; writes nothing.")
    vault_args(c)
    sim_args(c)
    c.set_defaults(run=_cmd_check)

    s = sub.add_parser("sim", help="run the simulations of one note (or the card at a line)",
                       description="Run a note's simulations without exporting: print each model as understood, "
                                   "summary statistics and checks; write figures.")
    s.add_argument("note", metavar="NOTE.md[:LINE]")
    s.add_argument("-o", "--output", type=Path, default=Path("output/sim"), help="figure folder (default output/sim)")
    s.add_argument("--json", action="store_true", help="print JSON for machines")
    s.add_argument("--allow-code", action="store_true", help="run ```python sim blocks (sandboxed)")
    s.set_defaults(run=_cmd_sim)

    for name, helptext in (("sync", "apply the vault to an Anki collection"),
                           ("watch", "sync again whenever a note is saved")):
        y = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        y.add_argument("vault", type=Path, metavar="VAULT")
        y.add_argument("--collection", type=Path, help="path to collection.anki2 (Anki must be closed)")
        y.add_argument("--profile", help='Anki profile name (e.g. "User 1") to find its collection')
        y.add_argument("--ankiconnect", nargs="?", const="http://127.0.0.1:8765", metavar="URL",
                       help="sync through a running Anki with AnkiConnect (default http://127.0.0.1:8765)")
        y.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        y.add_argument("--yes", action="store_true", help="allow deleting many notes at once")
        y.add_argument("--full", action="store_true", help="re-read and re-send every file")
        y.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
        y.set_defaults(run=_cmd_sync if name == "sync" else _cmd_watch)
    add_study_parser(sub)
    add_history_parser(sub)
    return p


def resolve_target(paths: list[str]) -> Target:
    """A folder is a vault; files belong to the vault above them (the folder holding `.obsidian`)."""
    resolved = [Path(p) for p in paths]
    for p in resolved:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    if len(resolved) == 1 and resolved[0].is_dir():
        return Target(resolved[0], None)
    if any(p.is_dir() for p in resolved):
        raise UsageError("give either one vault folder or note files, not both")
    parents = [p.resolve().parent for p in resolved]
    common = Path(os.path.commonpath(parents))
    vault = next((d for d in [common, *common.parents] if (d / ".obsidian").is_dir()), common)
    return Target(vault, [p.resolve().relative_to(vault).as_posix() for p in resolved])


def _settings(target: Target, args: argparse.Namespace, diagnostics: list[Diagnostic]):
    settings = load_settings(target.vault, diagnostics)
    if getattr(args, "ext", None):
        settings.extensions = sorted({*settings.extensions, *(e if e.startswith(".") else "." + e for e in args.ext)})
    if getattr(args, "allow_code", False):
        settings.allow_code = True
    return settings


def _build(args: argparse.Namespace, target: Target, state, read_only: bool = False):
    from notecards.pipeline import BuildOptions, build

    early: list[Diagnostic] = []
    settings = _settings(target, args, early)
    options = BuildOptions(files=target.files, simulate=not args.no_sim, allow_code=settings.allow_code,
                           progress=_interactive() and not args.quiet, workers=args.jobs, cache=True,
                           read_only=read_only)
    result = build(target.vault, settings, state, options)
    result.diagnostics[:0] = early
    return result


def _cmd_check(args: argparse.Namespace) -> int:
    from notecards.export_state import load_state

    target = resolve_target(args.paths)
    result = _build(args, target, load_state(target.vault), read_only=True)
    _print_diagnostics(result.vault, result.diagnostics)
    if not args.quiet:
        print(_summary(result))
    return _status(result.diagnostics, args.strict)


def _cmd_export(args: argparse.Namespace) -> int:
    from notecards.export import export_package
    from notecards.export_state import load_state, save_state

    target = resolve_target(args.paths)
    state = load_state(target.vault)
    result = _build(args, target, state)
    out = args.output or Path("output") / f"{result.settings.vault_name}.apkg"
    wrote = export_package(result, state, out)
    save_state(target.vault, state)
    _print_diagnostics(result.vault, result.diagnostics)
    if not args.quiet:
        print(_summary(result))
        print(f"wrote {out}" if wrote else f"unchanged {out} (nothing changed)")
    return _status(result.diagnostics, args.strict)


def _cmd_sim(args: argparse.Namespace) -> int:
    from notecards.sim_report import run_sim_command

    note, sep, line = args.note.rpartition(":")
    if not (sep and line.isdigit()):
        note, line = args.note, ""
    path = Path(note)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    target = resolve_target([str(path)])
    settings = _settings(target, args, [])
    text, status = run_sim_command(path, int(line) if line else None, args.output, args.json, settings,
                                   target.vault)
    print(text)
    return status


def _cmd_sync(args: argparse.Namespace) -> int:
    from notecards.sync import sync_vault

    report = sync_vault(args.vault, **_sync_kwargs(args))
    _print_diagnostics(args.vault, report.diagnostics)
    print(report.summary())
    return report.exit_code(args.strict)


def _cmd_watch(args: argparse.Namespace) -> int:
    from notecards.sync.watch import watch_vault

    def show(report) -> None:
        _print_diagnostics(args.vault, report.diagnostics)
        print(report.summary(), flush=True)

    return watch_vault(args.vault, on_report=show, **_sync_kwargs(args))


def _sync_kwargs(args: argparse.Namespace) -> dict:
    if not args.vault.is_dir():
        raise UsageError(f"{args.vault}: not a folder")
    collection = args.collection
    if args.profile:
        from notecards.sync.profiles import ProfileNotFound, collection_for_profile
        try:
            collection = collection_for_profile(args.profile)
        except ProfileNotFound as exc:
            raise UsageError(str(exc)) from None
    if (collection is None) == (args.ankiconnect is None):
        raise UsageError("give one of --collection PATH, --profile NAME or --ankiconnect [URL]")
    return dict(collection=collection, ankiconnect=args.ankiconnect, dry_run=args.dry_run,
                yes=args.yes, full=args.full, progress=_interactive())


def _interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")


def _print_diagnostics(vault: Path, diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        shown = os.path.relpath(vault / d.path) if d.path else str(vault)
        print(f"{shown}:{d.line}: {d.severity}: {d.message}", file=sys.stderr)


def _summary(result) -> str:
    decks = result.decks()
    media = {m.name for c in result.cards for m in c.media}
    s = result.sims
    lines = [
        f"{result.files} files, {len(result.cards)} cards in {len(decks)} decks, {len(media)} media, "
        f"{result.count('warning')} warnings, {result.count('error')} errors",
    ]
    lines += [f"  {name}: {n} cards" for name, n in decks.items()]
    if s.model_cards:
        lines.append(f"  simulations: {s.model_cards} model cards, {s.figures_rendered} figures rendered, "
                     f"{s.figures_reused} reused, checks {s.checks_passed} passed, {s.checks_failed} failed")
    if result.deletions:
        lines.append(f"  {len(result.deletions)} DELETE requests (applied by `notecards sync`)")
    return "\n".join(lines)


def _status(diagnostics: list[Diagnostic], strict: bool) -> int:
    if any(d.severity == "error" for d in diagnostics):
        return 1
    if strict and any(d.severity == "warning" for d in diagnostics):
        return 1
    return 0
