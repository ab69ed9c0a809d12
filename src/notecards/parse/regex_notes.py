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
- a match that begins or ends inside fenced code is dropped (a match may hold a whole fence);
- as in the plugin, a match lying inside inline math or inline code is dropped;
- a match overlapping an earlier regex note (of any type, any pass) is dropped, where the plugin
  only dropped matches lying wholly inside one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.cloze import ANKI_CLOZE, is_cloze_type
from notecards.config import CONFIG_FILE, O2A_DATA_JSON, Settings
from notecards.parse.context import FileContext
from notecards.parse.fields import FieldSpec
from notecards.parse.jsregex import to_python
from notecards.parse.tags import split_tags
from notecards.types import CardBlock, Diagnostic

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
    passes: list[tuple[re.Pattern, bool, bool]]     # (pattern, with tags group, with ID group)
    groups: int                                     # the user's groups: the fields
    cloze: bool


def compile_rules(settings: Settings, specs: dict[str, FieldSpec]) -> tuple[list[RegexRule], list[Diagnostic]]:
    """Compile every custom regex once; a broken one is an error against the settings file."""
    where = O2A_DATA_JSON.as_posix() if settings.from_o2a else CONFIG_FILE
    rules: list[RegexRule] = []
    problems: list[Diagnostic] = []
    for note_type, js in settings.custom_regexps.items():
        if not js:
            continue
        spec = specs.get(note_type)
        if spec is None:
            problems.append(Diagnostic(where, 1, "error", f"custom regex for unknown note type {note_type!r}; "
                                       f"known: {', '.join(specs)}"))
            continue
        try:
            base = to_python(js)
            passes = [(re.compile(base + tags + ident, re.MULTILINE), bool(tags), bool(ident))
                      for tags, ident in ((TAGS_SUFFIX, ID_SUFFIX), ("", ID_SUFFIX), (TAGS_SUFFIX, ""), ("", ""))]
        except (re.error, ValueError) as exc:
            problems.append(Diagnostic(where, 1, "error", f"custom regex for note type {note_type!r} does not "
                                       f"compile ({exc}); its notes are not read: {js}"))
            continue
        groups = passes[-1][0].groups
        if groups == 0:
            problems.append(Diagnostic(where, 1, "error", f"custom regex for note type {note_type!r} has no "
                                       "capture group, so it gives no fields; its notes are not read"))
            continue
        rules.append(RegexRule(note_type, spec, passes, groups, is_cloze_type(note_type)))
    return rules, problems


def find_regex_notes(ctx: FileContext, rules: list[RegexRule], regions: list[tuple[int, int]],
                     fences: list[tuple[int, int]], settings: Settings) -> None:
    """Add a card to `ctx` for every accepted match in the free `regions` (character offsets)."""
    text = ctx.source.text
    soft: list[tuple[int, int]] | None = None
    taken: list[tuple[int, int]] = []
    has_tags = any(text.find("Tags: ", a, b) != -1 for a, b in regions)
    has_id = any(text.find("ID: ", a, b) != -1 for a, b in regions)
    for rule in rules:
        for pattern, with_tags, with_id in rule.passes:
            if (with_tags and not has_tags) or (with_id and not has_id):
                continue                     # that pass cannot match: spare a scan of the file
            for start, end in regions:
                for match in pattern.finditer(text, start, end):
                    span = match.span()
                    if soft is None:
                        soft = [m.span() for a, b in regions for m in _SOFT_SPANS.finditer(text, a, b)]
                    if span[0] == span[1] or _rejected(span, taken, soft, fences):
                        continue
                    taken.append(span)
                    _add_match(ctx, rule, match, with_tags, with_id, settings)


def _rejected(span: tuple[int, int], taken: list[tuple[int, int]], soft: list[tuple[int, int]],
              fences: list[tuple[int, int]]) -> bool:
    a, b = span
    if any(a < e and s < b for s, e in taken):
        return True
    if any(s <= a and b <= e for s, e in soft):
        return True
    return any(s < a < e or s < b - 1 < e for s, e in fences)


def _add_match(ctx: FileContext, rule: RegexRule, match: re.Match, with_tags: bool, with_id: bool,
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
    anki_id = int(match.group(match.re.groups)) if with_id else None
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


def _text_line(ctx: FileContext, match: re.Match, group: int) -> int:
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
