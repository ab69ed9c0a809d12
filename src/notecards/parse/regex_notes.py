"""Custom regex notes: Obsidian_to_Anki's CUSTOM_REGEXPS, a regex per note type whose groups are fields.

As in Obsidian_to_Anki (src/file.ts, RegexFile.search), each note type's regex is tried four times,
with a tags line and an ID line (`\\n?(?:<!--)?(?:ID: (\\d+).*)`) appended, with the ID only, with
the tags only, and bare; note types in settings order. The plugin appends `(Tags: .*)` with no
newline, so a regex not ending in `\\n` could never see the Tags line below its match; here it is
`\\n?(Tags: .*)`, so `Tags:` on the line right after any match counts. A Cloze match with no
cloze in it is not a card (the plugin's CLOZE_ERROR). Fields are the groups, trimmed.

Where notecards is stricter than the plugin, so a paragraph is never two cards and a card never
swallows another:
- matches are searched only in the text between START…END blocks, inline notes, FROZEN and
  DELETE lines and the front matter, so they can never overlap those;
- a match lying wholly inside fenced code is dropped (as in the plugin); one that holds a whole
  fence is a card; one that begins or ends inside a fence is a card, as the plugin made it (its
  ID line may be in the fence), with a warning at its line;
- as in the plugin, a match lying inside inline math or inline code is dropped;
- a match overlapping an earlier regex note (of any type, any pass) is dropped, where the plugin
  only dropped matches lying wholly inside one.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import regex

from notecards.cloze import ANKI_CLOZE, is_cloze_type
from notecards.config import CONFIG_FILE, O2A_DATA_JSON, Settings
from notecards.jsregex import SEARCH_TIMEOUT, compile_js
from notecards.parse.context import FileContext
from notecards.parse.fields import FieldSpec
from notecards.parse.ids import id_number
from notecards.parse.tags import split_tags
from notecards.types import CardBlock

TAGS_SUFFIX = r"\n?(Tags: .*)"
ID_SUFFIX = r"\n?(?:<!--)?(?:ID: (\d+).*)"

_SOFT_SPANS = re.compile(r"\$\$[\s\S]*?\$\$|(?<!\$)\$(?=[^\s$])[^$]*?\S\$|(?<!`)`(?=[^`])[^`]*`")
_MATH_OR_CODE = re.compile(r"\$\$[\s\S]*?\$\$|\$[^$\n]+\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]|`[^`]*`")
_CURLY = re.compile(r"\{[^{}\n]+\}")
_HIGHLIGHT = re.compile(r"==[^=\n]+==")


@dataclass
class RegexRule:
    note_type: str
    spec: FieldSpec
    passes: list[tuple[regex.Pattern, bool, bool]]     # (pattern, with tags group, with ID group)
    groups: int                                     # the user's groups: the fields
    cloze: bool


def compile_rules(settings: Settings, specs: dict[str, FieldSpec]) -> list[RegexRule]:
    """Compile every custom regex once, four ways. config.load_settings already dropped (and
    reported against the settings file) each one that does not compile or names no note type."""
    rules: list[RegexRule] = []
    for note_type, js in settings.custom_regexps.items():
        spec = specs.get(note_type)
        if not js or spec is None:
            continue
        passes = [(compile_js(js, tags + ident), bool(tags), bool(ident))
                  for tags, ident in ((TAGS_SUFFIX, ID_SUFFIX), ("", ID_SUFFIX), (TAGS_SUFFIX, ""), ("", ""))]
        groups = passes[-1][0].groups
        if groups:
            rules.append(RegexRule(note_type, spec, passes, groups, is_cloze_type(note_type)))
    return rules


def find_regex_notes(ctx: FileContext, rules: list[RegexRule], regions: list[tuple[int, int]],
                     fences: list[tuple[int, int]], settings: Settings) -> None:
    """Add a card to `ctx` for every accepted match in the free `regions` (character offsets).

    Each note type's regex may search a file for `SEARCH_TIMEOUT` seconds in all; one that takes
    longer (catastrophic backtracking) is stopped, with an error, and gives no cards in that file
    (all or nothing, so which cards come out never depends on the machine's speed)."""
    search = _Search(ctx, regions, fences, settings)
    for rule in rules:
        kept_cards, kept_spans = len(ctx.found), len(search.taken)
        try:
            search.run(rule, time.monotonic() + SEARCH_TIMEOUT)
        except TimeoutError:
            del ctx.found[kept_cards:], search.taken[kept_spans:]
            ctx.report(1, "error", f"the custom regex of note type {rule.note_type!r} (in {_settings_file(settings)}) "
                       f"searched this file for over {SEARCH_TIMEOUT:g} s and was stopped (it backtracks "
                       f"without end on some text); no {rule.note_type} regex notes are read from this file")


class _Search:
    """One file's regex search: the matches taken so far and the spans no match may lie within."""

    def __init__(self, ctx: FileContext, regions: list[tuple[int, int]], fences: list[tuple[int, int]],
                 settings: Settings):
        self.ctx, self.regions, self.fences, self.settings = ctx, regions, fences, settings
        text = ctx.source.text
        self.taken: list[tuple[int, int]] = []
        self._soft: list[tuple[int, int]] | None = None
        self.has_tags = any(text.find("Tags: ", a, b) != -1 for a, b in regions)
        self.has_id = any(text.find("ID: ", a, b) != -1 for a, b in regions)

    def soft(self) -> list[tuple[int, int]]:
        """Inline math and code spans, found only once some regex matched."""
        if self._soft is None:
            text = self.ctx.source.text
            self._soft = [m.span() for a, b in self.regions for m in _SOFT_SPANS.finditer(text, a, b)]
        return self._soft

    def run(self, rule: RegexRule, deadline: float) -> None:
        text = self.ctx.source.text
        for pattern, with_tags, with_id in rule.passes:
            if (with_tags and not self.has_tags) or (with_id and not self.has_id):
                continue                     # that pass cannot match: spare a scan of the file
            for start, end in self.regions:
                left = max(deadline - time.monotonic(), 0.001)
                for match in pattern.finditer(text, start, end, timeout=left):
                    span = match.span()
                    if span[0] == span[1] or _rejected(span, self.taken, self.soft(), self.fences):
                        continue
                    self.taken.append(span)
                    _add_match(self.ctx, rule, match, with_tags, with_id, self.settings)
                    cut = _cut_fence(span, self.fences)
                    if cut is not None:
                        self._warn_cut(rule, span, cut)

    def _warn_cut(self, rule: RegexRule, span: tuple[int, int], fence: tuple[int, int]) -> None:
        """The card is made, as Obsidian_to_Anki made it (its note, even its ID line, may exist),
        but a field holding half a code block is rarely what the regex was meant to take."""
        line_of = self.ctx.source.line_of
        where = "begins" if fence[0] < span[0] else "ends"
        self.ctx.report(line_of(span[0]), "warning",
                        f"this {rule.note_type} regex note {where} inside the code block at line "
                        f"{line_of(fence[0])}, so its fields hold part of the code; the card is made "
                        "(as Obsidian_to_Anki makes it), but check where the regex stops")


def _rejected(span: tuple[int, int], taken: list[tuple[int, int]], soft: list[tuple[int, int]],
              fences: list[tuple[int, int]]) -> bool:
    """An overlap with an earlier note, or a match lying wholly inside inline math, code or a fence."""
    a, b = span
    if any(a < e and s < b for s, e in taken):
        return True
    if any(s <= a and b <= e for s, e in soft):
        return True
    return any(s <= a and b <= e for s, e in fences)


def _cut_fence(span: tuple[int, int], fences: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The fence a match begins or ends inside of (it holds part of the fence, not all), if any."""
    a, b = span
    return next(((s, e) for s, e in fences if a < e and s < b and not (a <= s and e <= b)), None)


def _add_match(ctx: FileContext, rule: RegexRule, match: regex.Match, with_tags: bool, with_id: bool,
               settings: Settings) -> None:
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    start_line = ctx.source.line_of(match.start())
    for index, name in enumerate(rule.spec.names):
        group = index + 1
        value = match.group(group) if group <= rule.groups else None
        fields[name] = (value or "").strip()
        field_lines[name] = _text_line(ctx, match, group) if value else start_line
    if rule.cloze and not any(has_cloze(v, settings) for v in fields.values()):
        return
    tags = split_tags(match.group(rule.groups + 1)[len("Tags:"):]) if with_tags else []
    anki_id = id_number(match.group(match.re.groups)) if with_id else None
    id_line = ctx.source.line_of(match.start(match.re.groups)) if with_id else None
    end = match.end()
    end_line = ctx.source.line_of(max(match.start(), end - 1))
    insert_line = ctx.source.line_of(end)
    insert_col = end - ctx.source.line_starts()[insert_line - 1]
    ctx.add_card(match.start() - ctx.source.line_starts()[start_line - 1], CardBlock(
        path=ctx.path, line=start_line, end_line=end_line, kind="regex", note_type=rule.note_type,
        fields=fields, field_lines=field_lines, tags=ctx.card_tags(tags), deck=ctx.deck, ordinal=-1,
        anki_id=anki_id, id_line=id_line, id_insert=(insert_line, insert_col),
        frozen=ctx.frozen_for(rule.note_type)))


def _text_line(ctx: FileContext, match: regex.Match, group: int) -> int:
    """The line where a group's text starts once its leading whitespace is trimmed."""
    value = match.group(group)
    offset = match.start(group) + (len(value) - len(value.lstrip()))
    return ctx.source.line_of(offset)


def has_cloze(text: str, settings: Settings) -> bool:
    """Whether a field holds a cloze deletion outside math and code, as render will make them."""
    bare = _MATH_OR_CODE.sub(" ", text) if ("$" in text or "\\" in text or "`" in text) else text
    if ANKI_CLOZE.search(bare):
        return True
    if settings.curly_cloze and _CURLY.search(bare):
        return True
    return settings.highlights_to_clozes and bool(_HIGHLIGHT.search(bare))


def _settings_file(settings: Settings) -> str:
    """The settings file custom regexes come from, as the user knows it."""
    return O2A_DATA_JSON.name if settings.from_o2a else CONFIG_FILE
