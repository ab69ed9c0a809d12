"""Settings: Obsidian_to_Anki's `data.json` when the vault has one, then `notecards.toml`.

A vault written for Obsidian_to_Anki moves over with its settings, so their names and defaults
follow that plugin (3.6). notecards' own settings live in `notecards.toml` at the vault root,
never in `.notecards/` (that folder is state and may be deleted at any time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from notecards.types import Diagnostic

O2A_DATA_JSON = Path(".obsidian/plugins/obsidian-to-anki-plugin/data.json")
CONFIG_FILE = "notecards.toml"

STOCK_FIELDS: dict[str, list[str]] = {
    "Basic": ["Front", "Back"],
    "Basic (and reversed card)": ["Front", "Back"],
    "Basic (optional reversed card)": ["Front", "Back", "Add Reverse"],
    "Basic (type in the answer)": ["Front", "Back"],
    "Cloze": ["Text", "Back Extra"],
}


@dataclass
class Syntax:
    """The keywords of the card syntax; Obsidian_to_Anki lets a vault rename them."""

    begin_note: str = "START"
    end_note: str = "END"
    begin_inline: str = "STARTI"
    end_inline: str = "ENDI"
    target_deck: str = "TARGET DECK"
    file_tags: str = "FILE TAGS"
    delete: str = "DELETE"
    frozen: str = "FROZEN"

    O2A_KEYS = {
        "Begin Note": "begin_note", "End Note": "end_note",
        "Begin Inline Note": "begin_inline", "End Inline Note": "end_inline",
        "Target Deck Line": "target_deck", "File Tags Line": "file_tags",
        "Delete Note Line": "delete", "Frozen Fields Line": "frozen",
    }


@dataclass
class Settings:
    """Everything that changes how a vault is read. Defaults are notecards' own (no data.json)."""

    vault_name: str = "vault"
    syntax: Syntax = field(default_factory=Syntax)
    fields_dict: dict[str, list[str]] = field(default_factory=lambda: dict(STOCK_FIELDS))
    custom_regexps: dict[str, str] = field(default_factory=dict)
    file_link_fields: dict[str, str] = field(default_factory=dict)
    context_fields: dict[str, str] = field(default_factory=dict)
    folder_decks: dict[str, str] = field(default_factory=dict)
    folder_tags: dict[str, str] = field(default_factory=dict)
    ignored_globs: list[str] = field(default_factory=list)
    scan_directory: str = ""
    default_deck: str = "Default"
    default_tags: list[str] = field(default_factory=list)
    add_file_link: bool = False
    add_context: bool = False
    curly_cloze: bool = False
    highlights_to_clozes: bool = False
    id_comments: bool = True
    add_obsidian_tags: bool = True
    # notecards' own
    extensions: list[str] = field(default_factory=lambda: [".md"])
    allow_code: bool = False
    code_timeout: float = 60.0        # seconds a ```python sim block may run
    code_memory_mb: int = 1024        # its address-space limit (numpy + pyplot need >= 512)
    obsidian_links: bool = False      # wikilinks as obsidian:// links instead of plain text
    sim_draws: int = 10000
    from_o2a: bool = False            # True when a data.json was read

    def fields_of(self, note_type: str) -> list[str] | None:
        return self.fields_dict.get(note_type)


def load_settings(vault: Path, diagnostics: list[Diagnostic] | None = None) -> Settings:
    """Read the vault's settings; a broken settings file is a diagnostic, never a crash."""
    diags = diagnostics if diagnostics is not None else []
    settings = Settings(vault_name=vault.resolve().name)
    o2a = vault / O2A_DATA_JSON
    if o2a.is_file():
        try:
            _apply_o2a(settings, json.loads(o2a.read_text(encoding="utf-8")))
        except (ValueError, AttributeError, TypeError) as exc:
            diags.append(Diagnostic(O2A_DATA_JSON.as_posix(), 1, "error",
                                    f"cannot read Obsidian_to_Anki settings: {exc}"))
    toml_path = vault / CONFIG_FILE
    if toml_path.is_file():
        import tomllib  # most vaults have no notecards.toml: keep it off every run's start-up

        try:
            _apply_toml(settings, tomllib.loads(toml_path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
            diags.append(Diagnostic(CONFIG_FILE, _toml_line(exc), "error", f"cannot read settings: {exc}"))
    return settings


def _toml_line(exc: Exception) -> int:
    return int(getattr(exc, "lineno", 1) or 1)


def _apply_o2a(settings: Settings, data: dict) -> None:
    """Copy Obsidian_to_Anki's settings over ours, with that plugin's defaults where absent."""
    settings.from_o2a = True
    settings.add_obsidian_tags = False     # the plugin's default
    settings.default_tags = ["Obsidian_to_Anki"]
    s = data.get("settings", {})
    syntax = s.get("Syntax", {})
    for key, attr in Syntax.O2A_KEYS.items():
        if isinstance(syntax.get(key), str) and syntax[key].strip():
            setattr(settings.syntax, attr, syntax[key].strip())
    settings.custom_regexps = {k: v for k, v in s.get("CUSTOM_REGEXPS", {}).items() if v}
    settings.file_link_fields = dict(s.get("FILE_LINK_FIELDS", {}))
    settings.context_fields = dict(s.get("CONTEXT_FIELDS", {}))
    settings.folder_decks = {k: v for k, v in s.get("FOLDER_DECKS", {}).items() if v}
    settings.folder_tags = {k: v for k, v in s.get("FOLDER_TAGS", {}).items() if v}
    settings.ignored_globs = list(s.get("IGNORED_FILE_GLOBS", []))
    defaults = s.get("Defaults", {})
    settings.scan_directory = str(defaults.get("Scan Directory", "") or "")
    settings.default_deck = str(defaults.get("Deck", "Default") or "Default")
    settings.default_tags = str(defaults.get("Tag", "Obsidian_to_Anki") or "").split()
    settings.add_file_link = bool(defaults.get("Add File Link", False))
    settings.add_context = bool(defaults.get("Add Context", False))
    settings.curly_cloze = bool(defaults.get("CurlyCloze", False))
    settings.highlights_to_clozes = bool(defaults.get("CurlyCloze - Highlights to Clozes", False))
    settings.id_comments = bool(defaults.get("ID Comments", True))
    settings.add_obsidian_tags = bool(defaults.get("Add Obsidian Tags", False))
    fields_dict = data.get("fields_dict") or {}
    for name, names in fields_dict.items():
        if isinstance(names, list) and names:
            settings.fields_dict[name] = [str(n) for n in names]


_TOML_KEYS = {f.name for f in fields(Settings)} - {"syntax", "from_o2a", "vault_name"}


def _apply_toml(settings: Settings, data: dict) -> None:
    """`notecards.toml` keys are the Settings attribute names; unknown keys are an error."""
    for key, value in data.items():
        if key == "syntax" and isinstance(value, dict):
            for k, v in value.items():
                if not hasattr(settings.syntax, k):
                    raise ValueError(f"unknown syntax keyword {k!r}")
                setattr(settings.syntax, k, str(v))
            continue
        if key == "vault_name":
            settings.vault_name = str(value)
            continue
        if key not in _TOML_KEYS:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(sorted(_TOML_KEYS))})")
        current = getattr(settings, key)
        if isinstance(current, bool) and not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        if isinstance(current, dict) and isinstance(value, dict) and key == "fields_dict":
            current.update(value)
        else:
            setattr(settings, key, value)
