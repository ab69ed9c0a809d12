"""What notecards remembers between runs, in `.notecards/` at the vault root.

Only derived facts live here — deleting the folder loses no user data, it only makes the next run
do more work (and makes Anki see every note as newly modified once):
- `mods`: per GUID, the hash of the note's content and the time that content last changed, so an
  unchanged card keeps its old modification time and a re-import changes nothing (without it,
  the note file's mtime stands in);
- `known`: per file, its cards' GUIDs and field hashes, so identity follows a card when another
  card is inserted above it (see identity.py);
- `outputs`: per package path, the hash of what was written, so an unchanged vault is not
  re-packaged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from notecards import __version__
from notecards.atomic import write_atomic
from notecards.identity import KnownCard

STATE_DIR = ".notecards"
_FILE = "export-state.json"


@dataclass
class ExportState:
    mods: dict[str, tuple[str, int]] = field(default_factory=dict)
    known: dict[str, list[KnownCard]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "version": __version__,
            "mods": {g: list(v) for g, v in self.mods.items()},
            "known": {p: [k.to_list() for k in ks] for p, ks in self.known.items()},
            "outputs": self.outputs,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ExportState":
        return cls(
            mods={g: (v[0], int(v[1])) for g, v in data.get("mods", {}).items()},
            known={p: [KnownCard.from_list(k) for k in ks] for p, ks in data.get("known", {}).items()},
            outputs=dict(data.get("outputs", {})),
        )

    def previous_cards(self, path: str, stem: str, present: set[str]) -> list[KnownCard] | None:
        """The file's cards last time; for a moved file, those of a vanished file of the same name."""
        if path in self.known:
            return self.known[path]
        for old_path, cards in self.known.items():
            if old_path not in present and Path(old_path).stem == stem:
                return cards
        return None

    def mod_for(self, guid: str, content_hash: str, file_mtime: int) -> int:
        """Keep the old time when the content is unchanged; otherwise a time newer than before.

        The base is the note file's mtime, not the clock: without state (first run, or
        `.notecards/` deleted) an unchanged file then gives the same `mod` as last time, so Anki
        sees nothing new, while an edited file is newer than anything imported before.
        """
        old = self.mods.get(guid)
        if old and old[0] == content_hash:
            return old[1]
        mod = max(file_mtime, old[1] + 1) if old else file_mtime
        self.mods[guid] = (content_hash, mod)
        return mod


def load_state(vault: Path) -> ExportState:
    path = vault / STATE_DIR / _FILE
    try:
        return ExportState.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return ExportState()


def save_state(vault: Path, state: ExportState) -> None:
    """Atomically, so a crash mid-write leaves the old state rather than a torn file; not at all
    when nothing changed, so an unchanged run writes nothing."""
    folder = vault / STATE_DIR
    folder.mkdir(exist_ok=True)
    data = json.dumps(state.to_dict(), separators=(",", ":")).encode("utf-8")
    target = folder / _FILE
    try:
        if target.read_bytes() == data:
            return
    except OSError:
        pass
    write_atomic(target, data)
