"""Front matter: YAML between `---` lines or TOML between `+++` lines, at the very top of a note.

A front matter that does not parse is a warning at the line of the error; the file's cards are
still read (the front matter only adds a deck and tags). A `---` first line with no closing line
is not front matter but a thematic break, as Obsidian shows it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

import yaml

from notecards.types import Diagnostic

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when present: same safe rules, faster
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass
class FrontMatter:
    data: dict = field(default_factory=dict)
    body_start: int = 0                  # 0-based index of the first line after the front matter
    diagnostics: list[Diagnostic] = field(default_factory=list)


def front_matter_end(lines: list[str]) -> int:
    """Index of the first line after the front matter, or 0 when the note has none.

    Render asks this too (headings for the card's context, embedded notes), so a `# comment` in
    YAML is never taken for a heading and both stages agree on where the note's body starts.
    """
    opener = lines[0].rstrip() if lines else ""
    if opener not in ("---", "+++"):
        return 0
    closers = ("---", "...") if opener == "---" else ("+++",)
    for end in range(1, len(lines)):
        if lines[end].rstrip() in closers:
            return end + 1
    return 0


def read_front_matter(path: str, lines: list[str]) -> FrontMatter:
    """Find and parse the front matter at the top of `lines`."""
    body_start = front_matter_end(lines)
    if not body_start:
        return FrontMatter()
    text = "\n".join(lines[1:body_start - 1])
    parse = _parse_yaml if lines[0].rstrip() == "---" else _parse_toml
    data, problem = parse(text)
    result = FrontMatter(body_start=body_start)
    if problem is not None:
        line, message = problem
        result.diagnostics.append(Diagnostic(path, line + 1, "warning",
                                             f"front matter ignored, it does not parse: {message}"))
    elif isinstance(data, dict):
        result.data = data
    elif data is not None:
        result.diagnostics.append(Diagnostic(path, 1, "warning",
                                             "front matter ignored: it is not a list of `key: value` pairs"))
    return result


def _parse_yaml(text: str) -> tuple[object, tuple[int, str] | None]:
    """-> (data, None) or (None, (1-based line within the front matter, message))."""
    try:
        return yaml.load(text, Loader=_LOADER), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, (line, str(problem))


def _parse_toml(text: str) -> tuple[object, tuple[int, str] | None]:
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        if found:
            line = int(found.group(1))
        else:                        # "at end of document": the last line is where it went wrong
            line = text.count("\n") + 1 if "end of document" in str(exc) else 1
        return None, (line, str(exc))
