"""What a sync remembers between runs, per target (collection file or AnkiConnect URL).

Kept in `.notecards/sync-<hash of target>.json` at the vault root. Everything in it can be rebuilt:
deleting it makes the next sync re-read every file and let the vault win every difference once,
and forget which notes it made (so it deletes none of them until a sync has seen their blocks again).
- `files`: per note file, its size and mtime when last synced completely (ID lines written), the
  notes its blocks are, and the size and mtime of the files its cards embed; an unchanged file
  whose embeds are unchanged too is not re-read;
- `notes`: per note id, the file and line of its block, its GUID, the digest of what was sent and
  its deck, so a note edited in Anki is left alone until its block changes, a card moved out of
  its deck is found, and notes whose block vanished are known to be ours to delete;
- `pending`: the journal of the batch of adds being sent, written before it is sent and emptied
  once its answer is recorded; what is still in it at the next sync may be in Anki already.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from notecards.atomic import write_atomic

STATE_DIR = ".notecards"
VERSION = 1


@dataclass
class FileRecord:
    size: int
    mtime_ns: int
    nids: list[int] = field(default_factory=list)
    deps: dict[str, list[int]] = field(default_factory=dict)     # embedded file -> [mtime_ns, size]

    def to_list(self) -> list:
        return [self.size, self.mtime_ns, self.nids, self.deps]

    @classmethod
    def from_list(cls, data: list) -> "FileRecord":
        deps = data[3] if len(data) > 3 else {}
        return cls(int(data[0]), int(data[1]), [int(n) for n in data[2]],
                   {str(p): [int(x) for x in st] for p, st in deps.items()})


@dataclass
class NoteRecord:
    path: str
    line: int
    guid: str
    digest: str
    deck: str = ""

    def to_list(self) -> list:
        return [self.path, self.line, self.guid, self.digest, self.deck]

    @classmethod
    def from_list(cls, data: list) -> "NoteRecord":
        return cls(str(data[0]), int(data[1]), str(data[2]), str(data[3]),
                   str(data[4]) if len(data) > 4 else "")


@dataclass
class PendingAdd:
    """A card in the batch of adds being sent: enough to find its note in Anki by content."""

    guid: str
    note_type: str
    deck: str
    fields: dict[str, str]

    def to_dict(self) -> dict:
        return {"guid": self.guid, "note_type": self.note_type, "deck": self.deck, "fields": self.fields}

    @classmethod
    def from_dict(cls, data: dict) -> "PendingAdd":
        return cls(str(data["guid"]), str(data["note_type"]), str(data["deck"]),
                   {str(k): str(v) for k, v in data["fields"].items()})


@dataclass
class SyncState:
    target: str = ""
    settings_hash: str = ""
    files: dict[str, FileRecord] = field(default_factory=dict)
    notes: dict[int, NoteRecord] = field(default_factory=dict)
    pending: list[PendingAdd] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"version": VERSION, "target": self.target, "settings": self.settings_hash,
                "files": {p: r.to_list() for p, r in sorted(self.files.items())},
                "notes": {str(n): r.to_list() for n, r in sorted(self.notes.items())},
                "pending": [p.to_dict() for p in self.pending]}

    @classmethod
    def from_dict(cls, data: dict) -> "SyncState":
        if data.get("version") != VERSION:
            return cls()
        return cls(target=str(data.get("target", "")), settings_hash=str(data.get("settings", "")),
                   files={p: FileRecord.from_list(r) for p, r in data.get("files", {}).items()},
                   notes={int(n): NoteRecord.from_list(r) for n, r in data.get("notes", {}).items()},
                   pending=[PendingAdd.from_dict(p) for p in data.get("pending", [])])

    def digests(self) -> dict[int, str]:
        return {nid: r.digest for nid, r in self.notes.items()}

    def guids(self) -> dict[str, int]:
        return {r.guid: nid for nid, r in self.notes.items() if r.guid}

    def forget_file(self, path: str) -> None:
        record = self.files.pop(path, None)
        if record:
            for nid in record.nids:
                if nid in self.notes and self.notes[nid].path == path:
                    del self.notes[nid]


def state_path(vault: Path, target: str) -> Path:
    key = hashlib.sha256(target.encode()).hexdigest()[:12]
    return Path(vault) / STATE_DIR / f"sync-{key}.json"


def target_key(collection: Path | None, ankiconnect: str | None) -> str:
    if collection is not None:
        return "collection:" + str(Path(collection).resolve())
    return "ankiconnect:" + str(ankiconnect)


def load_sync_state(vault: Path, target: str) -> SyncState:
    try:
        data = json.loads(state_path(vault, target).read_text(encoding="utf-8"))
        state = SyncState.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        state = SyncState()
    if state.target != target:
        state = SyncState()
    state.target = target
    return state


def save_sync_state(vault: Path, state: SyncState) -> None:
    """Atomically: a crash mid-write leaves the previous state, never a torn file."""
    path = state_path(vault, state.target)
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, json.dumps(state.to_dict(), separators=(",", ":")).encode("utf-8"))
