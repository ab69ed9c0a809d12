"""`notecards study VAULT`: build the vault's cards, then serve the study page on 127.0.0.1.

This is part of the command line (it prints; the engine and the server never do). The port is
bound here, before the server starts, so the URL printed is known to work and a port in use is
found before anything is built for nothing: without `--port` the usual port (8770) is tried first,
so the page keeps its origin — and the theme remembered in the browser — from one run to the
next, and any free port is taken when it is busy; with `--port` a busy port is a usage error.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from urllib.parse import quote

from notecards.types import Diagnostic

DEFAULT_PORT = 8770


class PortInUse(Exception):
    """The port named with --port cannot be bound."""


def add_study_parser(sub: argparse._SubParsersAction) -> None:
    """Register `notecards study` on the main parser's subcommands."""
    s = sub.add_parser("study", help="study the vault's cards in the browser (spaced repetition, FSRS)",
                       description="Serve a study page on 127.0.0.1 and open it in the browser. "
                                   "Reviews are saved in the vault; Ctrl-C stops the server.")
    s.add_argument("vault", type=Path, metavar="VAULT")
    s.add_argument("--deck", metavar="NAME", help="study only this deck (and its subdecks)")
    s.add_argument("--port", type=_port_number, metavar="N",
                   help=f"listen on this port (default {DEFAULT_PORT}, or any free port when it is busy)")
    s.add_argument("--no-browser", action="store_true", help="print the URL, do not open a browser")
    s.add_argument("--ext", action="append", default=None, metavar=".EXT",
                   help="also read files with this extension as notes (repeatable; default .md)")
    s.add_argument("--no-sim", action="store_true", help="do not simulate models")
    s.add_argument("-q", "--quiet", action="store_true", help="print only the URL and problems")
    s.set_defaults(run=run_study)


def _port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}")
    return int(text)


def run_study(args: argparse.Namespace) -> int:
    """Exit status: 0 after Ctrl-C, 1 when there is nothing to study, 2 for bad usage."""
    try:
        return _study(args)
    except KeyboardInterrupt:        # Ctrl-C while building or serving is how a user stops
        return 0


def _study(args: argparse.Namespace) -> int:
    from notecards.study.engine import Study

    vault: Path = args.vault
    if not vault.is_dir():
        return _usage(f"{vault}: not a folder")
    try:
        sock = bind_port(args.port)
    except PortInUse as exc:
        return _usage(str(exc))
    with sock:
        study = Study.open(vault, simulate=not args.no_sim, extensions=args.ext,
                           progress=_interactive() and not args.quiet)
        try:
            return _session(study, vault, args, sock)
        finally:
            study.close()


def _session(study, vault: Path, args: argparse.Namespace, sock: socket.socket) -> int:
    print_diagnostics(vault, study.diagnostics)
    decks = study.decks()
    if not decks:
        if not any("no cards" in d.message for d in study.diagnostics):
            print(f"{vault}: no cards to study", file=sys.stderr)
        return 1
    if args.deck and not any(d.name == args.deck for d in decks):
        return _usage(f"no deck named {args.deck!r} (decks: {', '.join(d.name for d in decks)})")
    if not study.writable:
        print(f"{vault}: warning: reviews cannot be saved: {study.read_only_reason}", file=sys.stderr)
    url, app = _build_app(study, vault, args, sock)
    return _serve(url, app, args, sock)


def _build_app(study, vault: Path, args: argparse.Namespace, sock: socket.socket):
    """The guarded app for this run, and the URL (with its token) that opens it."""
    from notecards.study.security import Address, new_token
    from notecards.study.server import StudyService, create_app

    service = StudyService(study, vault, vault_name=vault.resolve().name, deck=args.deck,
                           on_diagnostics=lambda found: print_diagnostics(vault, found),
                           on_error=lambda message: print(f"notecards: error: {message}", file=sys.stderr, flush=True))
    address = Address(sock.getsockname()[1], new_token())
    return address.url() + (f"?deck={quote(args.deck, safe='')}" if args.deck else ""), create_app(service, address)


def _serve(url: str, app, args: argparse.Namespace, sock: socket.socket) -> int:
    import uvicorn

    browser = None if args.no_browser else _graphical_browser()
    if not args.no_browser and browser is None:
        print("(no graphical browser found: open the address below in one)", file=sys.stderr, flush=True)
    if not args.quiet:
        print("Studying at the address below; Ctrl-C stops the server.", flush=True)
    print(url, flush=True)
    if browser is not None:         # in a thread: some launchers wait for the browser to exit
        threading.Thread(target=browser.open, args=(url,), daemon=True).start()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none",
                            timeout_graceful_shutdown=1, server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _graphical_browser() -> webbrowser.BaseBrowser | None:
    """The user's browser, unless the only one is a text-mode browser (lynx, w3m … as on a
    server without a display), which would take over this terminal. A browser named in
    $BROWSER is the user's choice and always used."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return None
    console = type(browser) is webbrowser.GenericBrowser or (
        isinstance(browser, webbrowser.UnixBrowser) and not browser.background)
    return None if console and not os.environ.get("BROWSER") else browser


def bind_port(port: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1: the port asked for, else the usual one, else any free one."""
    if port is not None:
        try:
            return _listen(port)
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise PortInUse(f"port {port} {reason}; choose another with --port, or leave it out") from None
    try:
        return _listen(DEFAULT_PORT)
    except OSError:
        return _listen(0)


def _listen(port: int) -> socket.socket:
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every reply on a kept-alive connection waited ~40 ms (Nagle meeting
    # the browser's delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # a TIME_WAIT left by the last run
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


def print_diagnostics(vault: Path, diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        shown = os.path.relpath(vault / d.path) if d.path else str(vault)
        print(f"{shown}:{d.line}: {d.severity}: {d.message}", file=sys.stderr, flush=True)


def _usage(message: str) -> int:
    print(f"notecards: error: {message}", file=sys.stderr)
    return 2


def _interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
