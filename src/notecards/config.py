"""Settings: Obsidian_to_Anki's `data.json` when the vault has one, then `notecards.toml`.

A vault written for Obsidian_to_Anki moves over with its settings, so their names and defaults
follow that plugin (3.6). notecards' own settings live in `notecards.toml` at the vault root,
never in `.notecards/` (that folder is state and may be deleted at any time).

Every value is checked here, once, against the type of the `Settings` field it fills (for
data.json, against the type the plugin writes): a value of the wrong type is an error naming the
file, the key and the expected type, and the setting keeps its default; nothing is coerced
(`extensions = "md"` is not the letters m and d). Custom regexes are compiled here too, so a
broken one is reported once per run, against the settings file, whatever files are read.
The `[study]` table of notecards.toml belongs to `notecards study`, which checks it itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

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


_POSITIVE = {"positive": True}


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
    code_timeout: float = field(default=60.0, metadata=_POSITIVE)   # seconds a ```python sim block may run
    code_memory_mb: int = field(default=1024, metadata=_POSITIVE)   # its address-space limit (numpy + pyplot need >= 512)
    obsidian_links: bool = False      # wikilinks as obsidian:// links instead of plain text
    sim_draws: int = field(default=10000, metadata=_POSITIVE)
    from_o2a: bool = False            # True when a data.json was read

    def fields_of(self, note_type: str) -> list[str] | None:
        return self.fields_dict.get(note_type)


def load_settings(vault: Path, diagnostics: list[Diagnostic] | None = None) -> Settings:
    """Read and check the vault's settings; a broken settings file is a diagnostic, never a crash."""
    diags = diagnostics if diagnostics is not None else []
    settings = Settings(vault_name=vault.resolve().name)
    regexps_from = O2A_DATA_JSON.as_posix()
    o2a = vault / O2A_DATA_JSON
    if o2a.is_file():
        text = _read_text(o2a, O2A_DATA_JSON.as_posix(), diags)
        if text is not None:
            report = _Reporter(O2A_DATA_JSON.as_posix(), text, diags, json_keys=True)
            try:
                data = json.loads(text)
            except ValueError as exc:
                report.error(getattr(exc, "lineno", 1), f"cannot read Obsidian_to_Anki settings: {exc}")
            else:
                _apply_o2a(settings, data, report)
    toml_path = vault / CONFIG_FILE
    if toml_path.is_file():
        import tomllib  # most vaults have no notecards.toml: keep it off every run's start-up

        text = _read_text(toml_path, CONFIG_FILE, diags)
        if text is not None:
            report = _Reporter(CONFIG_FILE, text, diags, json_keys=False)
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                report.error(_toml_line(exc), f"cannot read settings: {exc}")
            else:
                if "custom_regexps" in data:
                    regexps_from = CONFIG_FILE
                _apply_toml(settings, data, report)
    _keep_compiling_regexps(settings, _Reporter(regexps_from, _text_of(vault, regexps_from), diags,
                                                json_keys=regexps_from != CONFIG_FILE))
    return settings


def _read_text(path: Path, shown: str, diags: list[Diagnostic]) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        diags.append(Diagnostic(shown, 1, "error", f"cannot read settings: {getattr(exc, 'strerror', None) or exc}"))
        return None


def _text_of(vault: Path, rel: str) -> str:
    try:
        return (vault / rel).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


def _toml_line(exc: Exception) -> int:
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else 1


class _Reporter:
    """Errors against one settings file, each at the line that sets the key when it can be found."""

    def __init__(self, path: str, text: str, diags: list[Diagnostic], json_keys: bool):
        self.path, self.text, self.diags, self.json_keys = path, text, diags, json_keys

    def error(self, line: int, message: str) -> None:
        self.diags.append(Diagnostic(self.path, line, "error", message))

    def line_of(self, key: str) -> int:
        quoted = re.escape(json.dumps(key))
        pattern = rf"{quoted}\s*:" if self.json_keys else rf"^[ \t]*(?:{re.escape(key)}|{quoted})[ \t]*="
        match = re.search(pattern, self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else 1

    def wrong(self, key: str, value: Any, expected: str, *, shown: str | None = None) -> None:
        self.error(self.line_of(key), f"{shown or key} must be {expected}, not {_show(value)}; "
                   "the default is used")


def _show(value: Any) -> str:
    """A value as the user wrote it, with what it is: `the string "md"`, `the number -5`."""
    kind = ("true/false value" if isinstance(value, bool) else "string" if isinstance(value, str)
            else "number" if isinstance(value, (int, float)) else "list" if isinstance(value, list)
            else "table" if isinstance(value, dict) else type(value).__name__)
    shown = json.dumps(value, default=str, ensure_ascii=False)
    return f"the {kind} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def conforms(value: Any, hint: Any) -> bool:
    """Whether a parsed TOML/JSON value has the type `hint` (a Settings field's type), exactly."""
    origin = get_origin(hint)
    if hint is bool or hint is str:
        return isinstance(value, hint)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(conforms(v, item) for v in value)
    if origin is dict:
        key, item = get_args(hint)
        return isinstance(value, dict) and all(conforms(k, key) and conforms(v, item) for k, v in value.items())
    raise TypeError(f"no settings check for {hint!r}")


def describe(hint: Any) -> str:
    """A type as the user reads it: 'a list of strings', 'true or false'."""
    names = {bool: "true or false", str: "a string", int: "a whole number", float: "a number"}
    if hint in names:
        return names[hint]
    args = get_args(hint)
    if get_origin(hint) is list:
        return f"a list of {_plural(args[0])}"
    return f"a table of {_plural(args[1])}"


def _plural(hint: Any) -> str:
    if get_origin(hint) is list:
        return f"lists of {_plural(get_args(hint)[0])}"
    return {bool: "true/false values", str: "strings", int: "whole numbers", float: "numbers"}[hint]


_HINTS = get_type_hints(Settings)
_O2A_SETTINGS = {"CUSTOM_REGEXPS": "custom_regexps", "FILE_LINK_FIELDS": "file_link_fields",
                 "CONTEXT_FIELDS": "context_fields", "FOLDER_DECKS": "folder_decks",
                 "FOLDER_TAGS": "folder_tags", "IGNORED_FILE_GLOBS": "ignored_globs"}
_O2A_DEFAULTS = {"Scan Directory": "scan_directory", "Deck": "default_deck", "Tag": "default_tags",
                 "Add File Link": "add_file_link", "Add Context": "add_context", "CurlyCloze": "curly_cloze",
                 "CurlyCloze - Highlights to Clozes": "highlights_to_clozes", "ID Comments": "id_comments",
                 "Add Obsidian Tags": "add_obsidian_tags"}


def _table(data: Any, key: str, report: _Reporter, shown: str) -> dict:
    """`data[key]` when it is an object; absent or null is an empty one, anything else an error."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        report.wrong(key, value, "an object", shown=shown)
        return {}
    return value


def _apply_o2a(settings: Settings, data: Any, report: _Reporter) -> None:
    """Copy Obsidian_to_Anki's settings over ours, with that plugin's defaults where absent.
    A null value is the plugin's default; keys the plugin has and notecards does not use are kept
    out of the way, not errors (the file is the plugin's)."""
    settings.from_o2a = True
    settings.add_obsidian_tags = False     # the plugin's default
    settings.default_tags = ["Obsidian_to_Anki"]
    if not isinstance(data, dict):
        report.error(1, f"Obsidian_to_Anki settings must be a JSON object, not {_show(data)}; ignored")
        return
    s = _table(data, "settings", report, "settings")
    syntax = _table(s, "Syntax", report, "settings.Syntax")
    for key, attr in Syntax.O2A_KEYS.items():
        value = syntax.get(key)
        if value is not None and not isinstance(value, str):
            report.wrong(key, value, "a string", shown=f"Syntax.{key}")
        elif value and value.strip():
            setattr(settings.syntax, attr, value.strip())
    for key, attr in _O2A_SETTINGS.items():
        value = s.get(key)
        if value is not None and _check(report, key, value, _HINTS[attr]):
            setattr(settings, attr, [v for v in value if v] if isinstance(value, list)
                    else {k: v for k, v in value.items() if v})
    defaults = _table(s, "Defaults", report, "settings.Defaults")
    for key, attr in _O2A_DEFAULTS.items():
        value = defaults.get(key)
        hint = str if attr in ("default_tags", "scan_directory", "default_deck") else _HINTS[attr]
        if value is None or not _check(report, key, value, hint, shown=f"Defaults.{key}"):
            continue
        if attr == "default_tags":
            settings.default_tags = value.split()
        elif attr == "default_deck":
            settings.default_deck = value or "Default"
        else:
            setattr(settings, attr, value)
    fields_dict = data.get("fields_dict")
    if fields_dict is not None and _check(report, "fields_dict", fields_dict, dict[str, list[str]]):
        settings.fields_dict.update({name: names for name, names in fields_dict.items() if names})


def _check(report: _Reporter, key: str, value: Any, hint: Any, *, shown: str | None = None) -> bool:
    if conforms(value, hint):
        return True
    report.wrong(key, value, describe(hint), shown=shown)
    return False


_TOML_KEYS = {f.name for f in fields(Settings)} - {"syntax", "from_o2a"}
_FOREIGN_TABLES = {"study"}        # read and checked by notecards.study.settings


def _apply_toml(settings: Settings, data: dict, report: _Reporter) -> None:
    """`notecards.toml` keys are the Settings attribute names; unknown keys are an error."""
    for key, value in data.items():
        if key in _FOREIGN_TABLES:
            continue
        if key == "syntax":
            _apply_syntax(settings.syntax, value, report)
        elif key not in _TOML_KEYS:
            report.error(report.line_of(key), f"unknown setting {key!r} "
                         f"(known: {', '.join(sorted(_TOML_KEYS | {'syntax'}))}); ignored")
        elif _check(report, key, value, _HINTS[key]) and _in_range(report, key, value):
            if key == "fields_dict":
                settings.fields_dict.update(value)
            elif key == "extensions":
                settings.extensions = [e if e.startswith(".") else "." + e for e in value if e]
            else:
                setattr(settings, key, value)


def _in_range(report: _Reporter, key: str, value: Any) -> bool:
    meta = next(f.metadata for f in fields(Settings) if f.name == key)
    if meta.get("positive") and not (value > 0 and math.isfinite(value)):
        report.wrong(key, value, "a number above 0")
        return False
    return True


def _apply_syntax(syntax: Syntax, value: Any, report: _Reporter) -> None:
    if not isinstance(value, dict):
        report.wrong("syntax", value, "a table of strings")
        return
    for k, v in value.items():
        if not hasattr(syntax, k) or k == "O2A_KEYS":
            report.error(report.line_of(k), f"unknown syntax keyword {k!r} (known: "
                         f"{', '.join(f.name for f in fields(Syntax))}); ignored")
        elif not isinstance(v, str) or not v.strip():
            report.wrong(k, v, "a non-empty string", shown=f"syntax.{k}")
        else:
            setattr(syntax, k, v.strip())


def _keep_compiling_regexps(settings: Settings, report: _Reporter) -> None:
    """Drop, with an error, each custom regex parse could not use, so none is reported per file."""
    if not settings.custom_regexps:
        return
    import regex  # only a vault with custom regexes needs the regex engine

    from notecards.jsregex import compile_js

    for note_type, js in list(settings.custom_regexps.items()):
        problem = None
        if note_type not in settings.fields_dict:
            problem = (f"custom regex for unknown note type {note_type!r}; known: "
                       f"{', '.join(settings.fields_dict)}")
        else:
            try:
                if compile_js(js).groups == 0:
                    problem = (f"custom regex for note type {note_type!r} has no capture group, "
                               "so it gives no fields; its notes are not read")
            except (regex.error, ValueError) as exc:
                problem = (f"custom regex for note type {note_type!r} does not compile ({exc}); "
                           f"its notes are not read: {js}")
        if problem:
            report.error(report.line_of(note_type), problem)
            del settings.custom_regexps[note_type]
