"""Export: a build becomes an `.apkg`, with each note's modification time kept stable.

The package is written only when its content would differ from the one already at that path
(same cards, same times), so an unchanged vault costs no write and Anki sees nothing new.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from notecards.build_cache import stamp_of
from notecards.export_state import ExportState
from notecards.pipeline import Build
from notecards.types import Card


def export_package(result: Build, state: ExportState, out: Path) -> bool:
    """Write `out` unless it already holds these cards; returns whether it was written.

    `state` gains the notes' modification times and the package's fingerprint; the caller
    saves it. The times of cards not in this build are kept while their file is known: a build
    of some files only must not make the rest look unchanged to Anki after their next change.
    """
    mtimes = _file_mtimes(result.vault, {c.block.path for c in result.cards})
    mods = {c.guid: state.mod_for(c.guid, c.content_hash, mtimes[c.block.path]) for c in result.cards}
    keep = mods.keys() | {k.guid for cards in state.known.values() for k in cards}
    state.mods = {g: v for g, v in state.mods.items() if g in keep}
    fingerprint = _fingerprint(result.cards, mods)
    key = str(out.resolve())
    on_disk = _written(fingerprint, out)
    wrote = on_disk is None or state.outputs.get(key) != on_disk
    if wrote:
        from notecards.package import write_apkg  # genanki only when a package is written
        write_apkg(result.cards, mods, out, result.settings.fields_of)
    state.outputs[key] = _written(fingerprint, out)
    return wrote


def _written(fingerprint: str, out: Path) -> str | None:
    """The cards' fingerprint with the stamp of the file at `out`: a package that another vault's
    export (or the user) put at that path since is not ours, and is written again."""
    stamp = stamp_of(out)
    return None if stamp is None else f"{fingerprint}:{stamp[0]}:{stamp[1]}"


def _file_mtimes(vault: Path, paths: set[str]) -> dict[str, int]:
    """Each note file's mtime in seconds: the base of its notes' modification times."""
    out = {}
    for rel in paths:
        try:
            out[rel] = int((vault / rel).stat().st_mtime)
        except OSError:
            out[rel] = int(time.time())
    return out


def _fingerprint(cards: list[Card], mods: dict[str, int]) -> str:
    h = hashlib.sha256()
    for card in sorted(cards, key=lambda c: c.guid):
        h.update(f"{card.guid}:{card.content_hash}:{mods[card.guid]};".encode())
    return h.hexdigest()
