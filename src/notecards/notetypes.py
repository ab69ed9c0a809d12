"""notecards' own Anki note types for exported decks.

They carry fixed ids and names prefixed "notecards", so importing a deck never touches the user's
stock `Basic`/`Cloze` types, and re-importing always finds the same type (Anki updates a note in
place only when its note type id matches). Their field names are those of the stock types, so a
card reads the same in either. Changing a type's fields means a new id: a migration, on purpose.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from notecards.cloze import is_cloze_type
from notecards.config import STOCK_FIELDS

if TYPE_CHECKING:
    import genanki

    from notecards.types import Card

SIM_FIELD = "Simulation"
_CLOZE_OPEN = re.compile(r"\{\{c(\d+)::")
_MARKUP = re.compile(r"<[^>]*>|&nbsp;|\s+")
_SIM = "{{#Simulation}}<div class=nc-simulation>{{Simulation}}</div>{{/Simulation}}"
_FRONT = "{{Front}}"
_BACK = "{{FrontSide}}<hr id=answer>{{Back}}" + _SIM

# Fixed ids: never change them, Anki matches notes to their type by id.
STOCK_IDS = {
    "Basic": 1731000000001,
    "Basic (and reversed card)": 1731000000002,
    "Basic (optional reversed card)": 1731000000003,
    "Basic (type in the answer)": 1731000000004,
    "Cloze": 1731000000005,
}

_TEMPLATES: dict[str, list[dict[str, str]]] = {
    "Basic": [{"name": "Card 1", "qfmt": _FRONT, "afmt": _BACK}],
    "Basic (and reversed card)": [
        {"name": "Card 1", "qfmt": _FRONT, "afmt": _BACK},
        {"name": "Card 2", "qfmt": "{{Back}}", "afmt": "{{FrontSide}}<hr id=answer>{{Front}}" + _SIM},
    ],
    "Basic (optional reversed card)": [
        {"name": "Card 1", "qfmt": _FRONT, "afmt": _BACK},
        {"name": "Card 2", "qfmt": "{{#Add Reverse}}{{Back}}{{/Add Reverse}}",
         "afmt": "{{FrontSide}}<hr id=answer>{{Front}}" + _SIM},
    ],
    "Basic (type in the answer)": [
        {"name": "Card 1", "qfmt": "{{Front}}\n\n{{type:Back}}",
         "afmt": "{{Front}}<hr id=answer>{{type:Back}}" + _SIM},
    ],
    "Cloze": [{"name": "Cloze", "qfmt": "{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>\n{{Back Extra}}" + _SIM}],
}


@cache
def card_css() -> str:
    return resources.files("notecards").joinpath("card.css").read_text(encoding="utf-8")


@cache
def _model(note_type: str, fields: tuple[str, ...]) -> genanki.Model:
    import genanki  # here, not at the top: the pipeline needs SIM_FIELD on runs that write no package

    if STOCK_FIELDS.get(note_type) == list(fields):
        model_id, templates = STOCK_IDS[note_type], _TEMPLATES[note_type]
    else:
        model_id, templates = _custom_id(note_type, fields), _custom_templates(note_type, fields)
    cloze = is_cloze_type(note_type)
    return genanki.Model(
        model_id, f"notecards {note_type}",
        fields=[{"name": f} for f in export_fields(list(fields))],
        templates=templates,
        css=card_css(),
        model_type=genanki.Model.CLOZE if cloze else genanki.Model.FRONT_BACK,
    )


def model_for(note_type: str, fields: list[str]) -> genanki.Model:
    """The genanki model for a user's note type name and its field list.

    Every notecards type ends with a `Simulation` field shown only on answer sides, so figures
    never give away the answer on a reversed card.
    """
    return _model(note_type, tuple(fields))


def export_fields(fields: list[str]) -> list[str]:
    return [*fields, SIM_FIELD]


def _custom_id(note_type: str, fields: tuple[str, ...]) -> int:
    """A custom type's id is a hash of its name and fields: stable, and new when fields change."""
    digest = hashlib.sha256(("\x1f".join((note_type,) + fields)).encode()).digest()
    return 1 << 40 | int.from_bytes(digest[:5], "big")


def _custom_templates(note_type: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """A custom type shows its first field on the front and the others on the back."""
    if is_cloze_type(note_type):
        rest = "".join(f"<br>\n{{{{{f}}}}}" for f in fields[1:])
        return [{"name": "Cloze", "qfmt": f"{{{{cloze:{fields[0]}}}}}",
                 "afmt": f"{{{{cloze:{fields[0]}}}}}{rest}{_SIM}"}]
    back = "<br>\n".join(f"{{{{{f}}}}}" for f in fields[1:])
    return [{"name": "Card 1", "qfmt": f"{{{{{fields[0]}}}}}", "afmt": f"{{{{FrontSide}}}}<hr id=answer>{back}{_SIM}"}]


def card_ordinals(card: Card) -> list[int]:
    """The template ordinals (1-based) of the cards Anki makes of this note: one per cloze number
    of a cloze note's first field, two for a reversed note (an optional reverse only when its
    "Add Reverse" field holds something), else one. Study and the summaries count alike."""
    names = [k for k in card.fields if k != SIM_FIELD]
    if not names:
        return []
    if is_cloze_type(card.note_type):
        return sorted({int(n) for n in _CLOZE_OPEN.findall(card.fields[names[0]])})
    if card.note_type == "Basic (and reversed card)":
        return [1, 2]
    if card.note_type == "Basic (optional reversed card)" and _has_content(card.fields.get("Add Reverse", "")):
        return [1, 2]
    return [1]


def _has_content(html: str) -> bool:
    return bool(_MARKUP.sub("", html)) or "<img" in html
