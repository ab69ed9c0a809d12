"""The `[study]` table of `notecards.toml`: how studying is scheduled and where history lives.

Defaults are Anki's (FSRS on, desired retention 0.9, learning steps 1m 10m, relearning 10m, 20 new
and 200 reviews a day per deck, the day starting at 4 am, maximum interval 36,500 days), so a
person moving from Anki sees the schedule they know. A wrong value is an error naming the file and
the key, and that key keeps its default: one typo never stops a study session.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from notecards.types import Diagnostic

CONFIG_FILE = "notecards.toml"
_STEP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class StudySettings:
    """Everything that shapes a schedule or a session. `history_folder` is vault-relative."""

    desired_retention: float = 0.9
    learning_steps: list[str] = field(default_factory=lambda: ["1m", "10m"])
    relearning_steps: list[str] = field(default_factory=lambda: ["10m"])
    new_per_day: int = 20
    reviews_per_day: int = 200
    day_start_hour: int = 4
    maximum_interval: int = 36500
    leech_threshold: int = 8
    learn_ahead_minutes: int = 20
    history_folder: str = "study-history"
    device: str = ""
    parameters: list[float] = field(default_factory=list)    # FSRS's 21; empty: its defaults

    def __post_init__(self) -> None:
        if not self.device:
            self.device = default_device()

    def learning_deltas(self) -> list[timedelta]:
        return [parse_step(s) for s in self.learning_steps]

    def relearning_deltas(self) -> list[timedelta]:
        return [parse_step(s) for s in self.relearning_steps]

    def schedule_key(self) -> str:
        """What a cached replay depends on: any change here and the replay is redone."""
        return repr((self.desired_retention, self.learning_steps, self.relearning_steps,
                     self.maximum_interval, self.leech_threshold, self.parameters))

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_table(cls, table: dict[str, Any], diagnostics: list[Diagnostic],
                   source: str = "") -> "StudySettings":
        """Settings from a parsed `[study]` table; each bad key is an error and keeps its default.
        `source` is the file's text, to point each diagnostic at the key's line."""
        settings = cls()
        for key, value in table.items():
            line = _line_of(source, key)
            check = _CHECKS.get(key)
            if check is None:
                diagnostics.append(Diagnostic(CONFIG_FILE, line, "error",
                                              f"[study] {key}: unknown setting (known: {', '.join(sorted(_CHECKS))})"))
                continue
            expected, ok = check
            if not ok(value):
                diagnostics.append(Diagnostic(CONFIG_FILE, line, "error",
                                              f"[study] {key} must be {expected}, not {value!r}; "
                                              f"using the default {getattr(settings, key)!r}"))
                continue
            setattr(settings, key, sanitise_device(value) if key == "device" else value)
        return settings


def load_study_settings(vault: Path, diagnostics: list[Diagnostic]) -> StudySettings:
    """The vault's `[study]` table, or the defaults when there is no file or no table."""
    path = Path(vault) / CONFIG_FILE
    if not path.is_file():
        return StudySettings()
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return StudySettings()      # the general settings loader reports an unreadable file
    table = data.get("study", {})
    if not isinstance(table, dict):
        diagnostics.append(Diagnostic(CONFIG_FILE, 1, "error", "study must be a table ([study]); using the defaults"))
        return StudySettings()
    return StudySettings.from_table(table, diagnostics, path.read_text(encoding="utf-8"))


def _line_of(source: str, key: str) -> int:
    """The line of `key = …` inside the `[study]` table (1 when it cannot be found)."""
    start = re.search(r"^\s*\[study\]", source, re.M)
    if start is None:
        return 1
    found = re.compile(rf"^\s*{re.escape(key)}\s*=", re.M).search(source, start.end())
    return source.count("\n", 0, found.start()) + 1 if found else 1


def parse_step(text: str) -> timedelta:
    """A learning step as Anki writes it: "1m", "10m", "1h", "1d", "30s"."""
    match = _STEP.match(text)
    if match is None:
        raise ValueError(f"not a step: {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def default_device() -> str:
    """This machine's name, made safe as a file name: the history file is `<device>.jsonl`."""
    return sanitise_device(socket.gethostname()) or "device"


def sanitise_device(name: str) -> str:
    """Lower case letters, digits, `-` and `_` only, so the name is a portable file name."""
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower().split(".")[0]).strip("-")
    return cleaned[:64]


def _is_int(lo: int, hi: int):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_steps(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(s, str) and _STEP.match(s) for s in v)


def _is_folder(v: Any) -> bool:
    """A vault-relative, visible folder: sync tools skip dot-folders, and `.notecards/` is disposable."""
    if not isinstance(v, str) or not v.strip() or v.startswith("/") or "\\" in v:
        return False
    return all(part and not part.startswith(".") for part in v.strip("/").split("/"))


_CHECKS: dict[str, tuple[str, Any]] = {
    "desired_retention": ("a number between 0.7 and 0.99",
                          lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0.7 <= v <= 0.99),
    "learning_steps": ('a list of steps like ["1m", "10m"]', _is_steps),
    "relearning_steps": ('a list of steps like ["10m"]', _is_steps),
    "new_per_day": ("an integer from 0 to 9999", _is_int(0, 9999)),
    "reviews_per_day": ("an integer from 0 to 99999", _is_int(0, 99999)),
    "day_start_hour": ("an integer hour from 0 to 23", _is_int(0, 23)),
    "maximum_interval": ("an integer number of days from 1 to 36500", _is_int(1, 36500)),
    "leech_threshold": ("an integer from 1 to 99", _is_int(1, 99)),
    "learn_ahead_minutes": ("an integer from 0 to 1440", _is_int(0, 1440)),
    "history_folder": ("a folder inside the vault that does not start with a dot (e.g. \"study-history\")",
                       _is_folder),
    "device": ("a name of letters, digits, - or _", lambda v: isinstance(v, str) and bool(sanitise_device(v))),
    "parameters": ("a list of FSRS's 21 parameters, each within its bounds (as `notecards history optimize` "
                   "writes them)", lambda v: _is_parameters(v)),
}


def _is_parameters(v: Any) -> bool:
    from fsrs import Scheduler

    if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return False
    try:
        Scheduler(parameters=tuple(float(x) for x in v))
    except ValueError:
        return False
    return True
