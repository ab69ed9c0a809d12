"""Everything parse derives from Settings, built once and reused for every file.

The cache is keyed by the settings parse reads (their fingerprint), not by the Settings object's
id(), which a later Settings may reuse: a Settings changed after a first parse is compiled again,
and equal settings share one read-only `Compiled`. It holds no diagnostics: problems in the
settings themselves (a custom regex that does not compile) are config.py's to report, once per
run, so parse never hands them to whichever file it reads first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.config import Settings
from notecards.parse.fields import FieldSpec
from notecards.parse.keywords import Keywords
from notecards.parse.regex_notes import RegexRule, compile_rules
from notecards.parse.tags import split_tags


@dataclass
class Compiled:
    keywords: Keywords
    first_chars: frozenset[str]
    inline_note: re.Pattern
    specs: dict[str, FieldSpec]
    rules: list[RegexRule]
    folder_decks: list[tuple[str, str]]               # (folder, deck), longest folder first
    folder_tags: list[tuple[str, list[str]]]
    default_tags: list[str]

    def known_types(self) -> str:
        return ", ".join(self.specs)


_CACHE: dict[str, Compiled] = {}
_CACHE_SIZE = 8                 # a run has one Settings; tests and watch make a few


def compiled_for(settings: Settings) -> Compiled:
    fingerprint = _fingerprint(settings)
    compiled = _CACHE.get(fingerprint)
    if compiled is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        compiled = _CACHE[fingerprint] = _compile(settings)
    return compiled


def _fingerprint(settings: Settings) -> str:
    return repr((vars(settings.syntax), settings.fields_dict, settings.custom_regexps, settings.folder_decks,
                 settings.folder_tags, settings.default_tags))


def _compile(settings: Settings) -> Compiled:
    keywords = Keywords.from_syntax(settings.syntax)
    specs = {name: FieldSpec(name, names) for name, names in settings.fields_dict.items() if names}
    rules = compile_rules(settings, specs)
    return Compiled(
        keywords=keywords, first_chars=keywords.first_chars(), inline_note=keywords.inline_pattern(),
        specs=specs, rules=rules,
        folder_decks=_by_folder({k: v.strip() for k, v in settings.folder_decks.items() if v.strip()}),
        folder_tags=_by_folder({k: split_tags(v) for k, v in settings.folder_tags.items() if split_tags(v)}),
        default_tags=[t for tag in settings.default_tags for t in split_tags(tag)])


def _by_folder(table: dict) -> list:
    """Folder keys as vault-relative POSIX paths, longest first so the nearest folder wins."""
    cleaned = {key.replace("\\", "/").strip().strip("/"): value for key, value in table.items()}
    return sorted(cleaned.items(), key=lambda kv: len(kv[0]), reverse=True)


def for_folder(table: list, path: str):
    """The value of the longest folder of `table` holding `path`, or None."""
    for folder, value in table:
        if not folder or path.startswith(folder + "/"):
            return value
    return None
