"""Study cards from built notes, with the front and back HTML of Anki's stock templates.

A note gives one card per template that is not empty, as in Anki: Basic 1; "Basic (and reversed
card)" 2; "Basic (optional reversed card)" 2 when "Add Reverse" holds something; type-in 1;
Cloze one per deletion number in its cloze field. The HTML keeps the fields as export renders
them: math in `\\(…\\)` / `\\[…\\]` for the page to typeset, media as `src="<package name>"`.
Figures (the Simulation field) go on answer sides only, so they never give an answer away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from notecards.cloze import is_cloze_type
from notecards.notetypes import SIM_FIELD, card_ordinals
from notecards.study.events import card_id
from notecards.types import Card

_HR = "<hr id=answer>"
_TYPE_IN = ('<div class="nc-type"><input id="typeans" type="text" autocomplete="off" '
            'autocapitalize="off" spellcheck="false" aria-label="Type the answer"></div>')


@dataclass(frozen=True)
class Face:
    """One card of a note: what the engine pairs with its scheduling state. Its HTML is made
    when it is shown (`sides`), not for every card of the vault at start-up."""

    id: str
    guid: str
    ordinal: int
    deck: str
    note_type: str
    path: str
    line: int
    tags: list[str] = field(default_factory=list)
    note: Card | None = field(default=None, repr=False, compare=False)

    def sides(self) -> tuple[str, str]:
        """(front HTML, back HTML)."""
        assert self.note is not None
        return _sides(self.note, self.ordinal)


def faces_of(card: Card) -> list[Face]:
    """Every study card of one built note, in template order."""
    return [Face(id=card_id(card.guid, ordinal), guid=card.guid, ordinal=ordinal, deck=card.deck,
                 note_type=card.note_type, path=card.block.path, line=card.block.line, tags=list(card.tags),
                 note=card)
            for ordinal in card_ordinals(card)]


def _sides(card: Card, ordinal: int) -> tuple[str, str]:
    fields = {k: v for k, v in card.fields.items() if k != SIM_FIELD}
    sim = card.fields.get(SIM_FIELD, "")
    sim_html = f"<div class=nc-sim>{sim}</div>" if sim else ""
    names = list(fields)
    if is_cloze_type(card.note_type):
        text = fields[names[0]]
        extra = "".join(f"<br>\n{fields[n]}" for n in names[1:])
        return render_cloze(text, ordinal, answer=False), render_cloze(text, ordinal, answer=True) + extra + sim_html
    front, rest = fields[names[0]], [fields[n] for n in names[1:]]
    back_field = fields.get("Back", rest[0] if rest else "")
    if card.note_type == "Basic (type in the answer)":
        return front + _TYPE_IN, front + _HR + back_field + sim_html
    if ordinal == 2:                  # the reverse of "Basic (and reversed / optional reversed card)"
        return back_field, back_field + _HR + front + sim_html
    if card.note_type in ("Basic", "Basic (and reversed card)", "Basic (optional reversed card)"):
        return front, front + _HR + back_field + sim_html
    return front, front + _HR + "<br>\n".join(rest) + sim_html


# --- cloze deletions, parsed as Anki's rslib/src/cloze.rs does: openers {{cN:: and closers }} nest


@dataclass
class _Cloze:
    number: int
    parts: list["str | _Cloze"] = field(default_factory=list)

    def split_hint(self) -> tuple[list["str | _Cloze"], str | None]:
        """The deletion's content and its hint: text after the last top-level `::`."""
        for i in range(len(self.parts) - 1, -1, -1):
            part = self.parts[i]
            if isinstance(part, str) and "::" in part:
                before, _, hint = part.rpartition("::")
                return [*self.parts[:i], before], hint + "".join(p for p in self.parts[i + 1:] if isinstance(p, str))
        return self.parts, None


def _parse(text: str) -> list["str | _Cloze"]:
    root: list[str | _Cloze] = []
    stack: list[_Cloze] = []
    pos = 0
    tokens = re.compile(r"\{\{c(\d+)::|\}\}")
    for match in tokens.finditer(text):
        target = stack[-1].parts if stack else root
        if match.group(0) == "}}" and not stack:
            continue
        target.append(text[pos:match.start()])
        pos = match.end()
        if match.group(1) is not None:
            stack.append(_Cloze(int(match.group(1))))
        else:
            done = stack.pop()
            (stack[-1].parts if stack else root).append(done)
    tail = text[pos:]
    while stack:                      # an unclosed deletion is shown as the text it is
        done = stack.pop()
        tail = f"{{{{c{done.number}::" + _plain(done.parts) + tail
    root.append(tail)
    return root


def _plain(parts: list["str | _Cloze"]) -> str:
    return "".join(p if isinstance(p, str) else f"{{{{c{p.number}::{_plain(p.parts)}}}}}" for p in parts)


def render_cloze(text: str, active: int, answer: bool) -> str:
    """The front (`answer=False`) or back of deletion number `active`."""
    return _render(_parse(text), active, answer)


def _render(parts: list["str | _Cloze"], active: int, answer: bool) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        content, hint = part.split_hint()
        if part.number != active:
            out.append(f'<span class="cloze-inactive" data-ordinal="{part.number}">{_render(content, active, answer)}</span>')
        elif answer:
            out.append(f'<span class="cloze" data-ordinal="{part.number}">{_render(content, active, answer)}</span>')
        else:
            out.append(f'<span class="cloze" data-ordinal="{part.number}">[{hint if hint else "..."}]</span>')
    return "".join(out)
