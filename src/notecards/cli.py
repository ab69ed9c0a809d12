"""The `notecards` command line: it prints diagnostics, progress and the summary — no other
module prints. Exit status: 0 success, 1 errors found (or warnings with --strict), 2 bad usage,
130 interrupted (Ctrl-C).

Every command takes every option that applies to it; the options live in the `add_*_options`
helpers below, so a new command (or `sync`'s own flags) gets them by calling the helper. Files
notecards writes (decks, state, caches) are private to the user whatever the umask: 0600.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from notecards import __version__
from notecards.cli_report import check_json, internal_error_line, print_diagnostics, shown_path, summary
from notecards.options import CommandOptions, normalise_extension
from notecards.study.command import add_study_parser
from notecards.study.history_command import add_history_parser
from notecards.types import Diagnostic, exit_status

PRIVATE_UMASK = 0o077


@dataclass
class Target:
    """What the user named: a vault, and optionally some files in it."""

    vault: Path
    files: list[str] | None


class UsageError(Exception):
    """Bad command-line input: exit status 2."""


def main(argv: list[str] | None = None) -> int:
    from notecards import interrupt

    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    umask = os.umask(PRIVATE_UMASK)
    os.umask(umask | PRIVATE_UMASK)
    interrupt.install()
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"notecards: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:            # an unwritable output or state folder, a full disk …
        print(f"notecards: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:         # the one line was printed when the signal came
        return interrupt.EXIT_STATUS
    except Exception as exc:          # a bug of ours: one line, never a traceback
        print(internal_error_line(exc), file=sys.stderr)
        return 1
    finally:
        os.umask(umask)
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


# ---------------------------------------------------------------- options shared by commands

def add_input_options(sp: argparse.ArgumentParser) -> None:
    """How the vault is read and how problems are judged: every command that reads a vault."""
    sp.add_argument("--ext", action="append", default=None, metavar=".EXT",
                    help="also read files with this extension as notes (repeatable; default .md)")
    sp.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    sp.add_argument("-q", "--quiet", action="store_true", help="print only problems")


def add_sim_options(sp: argparse.ArgumentParser) -> None:
    """Simulations: every command that builds cards."""
    sp.add_argument("--no-sim", action="store_true", help="do not simulate models")
    sp.add_argument("--allow-code", action="store_true", help="run ```python sim blocks (sandboxed)")
    sp.add_argument("-j", "--jobs", type=_jobs, default=0, help="worker processes for figures (default: cores)")


def add_json_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="print JSON for editors and CI (diagnostics included)")


def add_sync_target_options(sp: argparse.ArgumentParser) -> None:
    """Where `sync` and `watch` send the vault, and how."""
    sp.add_argument("--collection", type=Path, help="path to collection.anki2 (Anki must be closed)")
    sp.add_argument("--profile", help='Anki profile name (e.g. "User 1") to find its collection')
    sp.add_argument("--ankiconnect", nargs="?", const="http://127.0.0.1:8765", metavar="URL",
                    help="sync through a running Anki with AnkiConnect (default http://127.0.0.1:8765)")
    sp.add_argument("--ankiconnect-key", metavar="KEY", default=os.environ.get("NOTECARDS_ANKICONNECT_KEY"),
                    help="AnkiConnect's apiKey, when its config sets one (or NOTECARDS_ANKICONNECT_KEY)")
    sp.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sp.add_argument("--yes", action="store_true", help="allow deleting many notes at once")
    sp.add_argument("--full", action="store_true", help="re-read and re-send every file")


def command_options(args: argparse.Namespace) -> CommandOptions:
    return CommandOptions(extensions=tuple(normalise_extension(e) for e in (getattr(args, "ext", None) or ())),
                          allow_code=getattr(args, "allow_code", False),
                          simulate=not getattr(args, "no_sim", False), workers=getattr(args, "jobs", 0))


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (one per core) or more")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="notecards", description="Obsidian vault -> Anki cards, with worked simulations.")
    p.add_argument("--version", action="version", version=f"notecards {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    e = sub.add_parser("export", help="write an Anki package (.apkg) from a vault",
                       description="Write an Anki package from a vault. Import it in Anki with File > Import.")
    _vault_paths(e)
    add_input_options(e)
    add_sim_options(e)
    add_json_option(e)
    e.add_argument("-o", "--output", type=Path,
                   help="package path, or a folder to write <vault>.apkg into (default: output/<vault>.apkg)")
    e.set_defaults(run=_cmd_export)

    c = sub.add_parser("check", help="parse and render without writing anything",
                       description="Parse and render the vault and report problems; writes nothing.")
    _vault_paths(c)
    add_input_options(c)
    add_sim_options(c)
    add_json_option(c)
    c.set_defaults(run=_cmd_check)

    s = sub.add_parser("sim", help="run the simulations of one note (or the card at a line)",
                       description="Run a note's simulations without exporting: print each model as understood, "
                                   "summary statistics and checks; write figures.")
    s.add_argument("note", metavar="NOTE.md[:LINE]")
    s.add_argument("-o", "--output", type=Path, default=Path("output/sim"), help="figure folder (default output/sim)")
    add_json_option(s)
    s.add_argument("--ext", action="append", default=None, metavar=".EXT", help=argparse.SUPPRESS)
    s.add_argument("--allow-code", action="store_true", help="run ```python sim blocks (sandboxed)")
    s.set_defaults(run=_cmd_sim)

    for name, helptext in (("sync", "apply the vault to an Anki collection"),
                           ("watch", "sync again whenever a note is saved")):
        y = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        y.add_argument("vault", type=Path, metavar="VAULT")
        add_sync_target_options(y)
        add_input_options(y)
        add_sim_options(y)
        y.set_defaults(run=_cmd_sync if name == "sync" else _cmd_watch)
    add_study_parser(sub)
    add_history_parser(sub)
    return p


def _vault_paths(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("paths", nargs="+", metavar="VAULT|FILE",
                    help="a vault folder, or note files (any extension, e.g. .txt, is read as markdown)")


# ---------------------------------------------------------------- commands

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


def _build(args: argparse.Namespace, target: Target, state, settings, early: list[Diagnostic],
           read_only: bool, cache: bool = True):
    from notecards.pipeline import BuildOptions, build

    options = command_options(args)
    build_options = BuildOptions(files=target.files, simulate=options.simulate, allow_code=settings.allow_code,
                                 progress=_interactive() and not args.quiet and not args.json,
                                 workers=options.workers, cache=cache, read_only=read_only)
    result = build(target.vault, settings, state, build_options)
    result.diagnostics[:0] = early
    result.diagnostics.extend(_unread_note_hint(result, target))
    return result


def _cmd_check(args: argparse.Namespace) -> int:
    from notecards.export_state import load_state

    target = resolve_target(args.paths)
    early: list[Diagnostic] = []
    settings = command_options(args).settings_for(target.vault, early)
    result = _build(args, target, load_state(target.vault), settings, early, read_only=True)
    return _report(args, result)


def _cmd_export(args: argparse.Namespace) -> int:
    from notecards.export import export_package
    from notecards.export_state import ExportState, load_state, save_state

    target = resolve_target(args.paths)
    early: list[Diagnostic] = []
    settings = command_options(args).settings_for(target.vault, early)
    out = _output_path(args.output, settings.vault_name)
    _check_writable(out)                       # before minutes of simulating, not after
    writable = _vault_writable(target.vault)
    if not writable:
        early.append(Diagnostic("", 0, "info", "the vault is read-only: no cache or state is kept "
                                "(every export starts from scratch)"))
    state = load_state(target.vault) if writable else ExportState()
    result = _build(args, target, state, settings, early, read_only=not writable, cache=writable)
    wrote = export_package(result, state, out)
    if writable:
        save_state(target.vault, state)
    done = f"wrote {shown_path(out)}" if wrote else f"unchanged {shown_path(out)} (nothing changed)"
    return _report(args, result, {"output": str(out), "written": wrote}, done)


def _report(args: argparse.Namespace, result, extra: dict | None = None, last_line: str = "") -> int:
    status = exit_status(result.diagnostics, args.strict)
    if args.json:
        print(check_json(result, status, extra or {}))
        return status
    print_diagnostics(result.vault, result.diagnostics)
    if not args.quiet:
        print(summary(result))
        if last_line:
            print(last_line)
    return status


def _cmd_sim(args: argparse.Namespace) -> int:
    from notecards.sim_report import run_sim_command

    note, sep, line = args.note.rpartition(":")
    if not (sep and line.isdigit()):
        note, line = args.note, ""
    path = Path(note)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; `notecards sim` runs one note (NOTE.md[:LINE]), "
                         "`notecards check` a whole vault")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    target = resolve_target([str(path)])
    settings = CommandOptions(allow_code=args.allow_code).settings_for(target.vault, [])
    text, status = run_sim_command(path, int(line) if line else None, args.output, args.json, settings,
                                   target.vault, shown=lambda rel: shown_path(target.vault / rel))
    print(text)
    return status


def _cmd_sync(args: argparse.Namespace) -> int:
    from notecards.sync import sync_vault

    report = sync_vault(args.vault, **_sync_kwargs(args))
    _print_sync(args, report)
    return report.exit_code(args.strict)


def _cmd_watch(args: argparse.Namespace) -> int:
    from notecards.sync.watch import watch_vault

    kwargs = _sync_kwargs(args)
    print(f"watching {shown_path(args.vault)} for saved notes; press Ctrl-C to stop", flush=True)
    return watch_vault(args.vault, on_report=lambda report: _print_sync(args, report), **kwargs)


def _print_sync(args: argparse.Namespace, report) -> None:
    print_diagnostics(args.vault, report.diagnostics)
    if not args.quiet or report.problem:
        print(report.summary(lambda rel: shown_path(args.vault / rel)), flush=True)


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
    return dict(collection=collection, ankiconnect=args.ankiconnect, ankiconnect_key=args.ankiconnect_key,
                dry_run=args.dry_run,
                yes=args.yes, full=args.full, progress=_interactive() and not args.quiet,
                options=command_options(args))


# ---------------------------------------------------------------- checks before the work

def _output_path(output: Path | None, vault_name: str) -> Path:
    """`-o` may name the package or a folder to put `<vault>.apkg` in (as `cp` would)."""
    if output is None:
        return Path("output") / f"{vault_name}.apkg"
    if output.is_dir() or str(output).endswith(("/", os.sep)):
        return output / f"{vault_name}.apkg"
    return output


def _check_writable(out: Path) -> None:
    """Raise OSError now when the package could not be written at the end."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".probe")
    os.close(fd)
    os.unlink(probe)
    if out.exists() and not os.access(out, os.W_OK) and not os.access(out.parent, os.W_OK):
        raise PermissionError(13, "Permission denied", str(out))


def _vault_writable(vault: Path) -> bool:
    """Whether notecards can keep its state in the vault (`.notecards/`): a read-only vault (a
    read-only mount, someone else's folder) is exported all the same, without state."""
    from notecards.export_state import STATE_DIR

    folder = vault / STATE_DIR if (vault / STATE_DIR).is_dir() else vault
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def _unread_note_hint(result, target: Target) -> list[Diagnostic]:
    """A vault with no notes but `.txt` (or other text) files: say how to read them."""
    if result.files or target.files is not None:
        return []
    known = set(result.settings.extensions)
    others: dict[str, int] = {}
    for rel in result.index.files:
        ext = os.path.splitext(rel)[1].lower()
        if ext in (".txt", ".markdown", ".mdown", ".mkd", ".text") and ext not in known and \
                not any(part.startswith(".") for part in Path(rel).parts):
            others[ext] = others.get(ext, 0) + 1
    if not others:
        return []
    ext, n = max(others.items(), key=lambda item: item[1])
    return [Diagnostic("", 0, "warning",
                       f"no {'/'.join(sorted(known))} notes here, but {n} {ext} file{'s' if n != 1 else ''}: "
                       f"read them as notes with `--ext {ext}` (or `extensions = {json.dumps(sorted(known | {ext}))}` "
                       "in notecards.toml)")]


def _interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
