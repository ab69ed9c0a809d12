"""What the command line adds to a vault's settings, shared by every command.

`export`, `check`, `sync` and `watch` take the same input options (`--ext`, `--allow-code`,
`--no-sim`, `-j`); the CLI parses them once (`cli.py`'s option helpers) into `CommandOptions`, and
each command applies them the same way, including `watch` before every sync it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from notecards.config import Settings, load_settings
from notecards.types import Diagnostic


@dataclass(frozen=True)
class CommandOptions:
    extensions: tuple[str, ...] = ()   # read these as notes too (".txt")
    allow_code: bool = False           # run ```python sim blocks in the sandbox
    simulate: bool = True              # --no-sim turns it off
    workers: int = 0                   # 0 = one per core

    def settings_for(self, vault: Path, diagnostics: list[Diagnostic]) -> Settings:
        """The vault's settings (their problems go to `diagnostics`) with these options applied."""
        return self.apply(load_settings(vault, diagnostics))

    def apply(self, settings: Settings) -> Settings:
        extensions = sorted({*settings.extensions, *self.extensions})
        return replace(settings, extensions=extensions, allow_code=settings.allow_code or self.allow_code)


def normalise_extension(text: str) -> str:
    """`txt`, `.txt` and `.TXT` all name the extension `.txt`."""
    return "." + text.strip().lstrip(".").lower()
