"""Broken embeds anywhere in a note, not only inside cards.

Render reports a missing image or embedded note inside a card. A note's prose is not a card, but
an embed there that points nowhere is still a problem the user wants to hear about (Obsidian shows
it as a dead link), so the vault stage reports those too, at the embed's line, as `info`: no card is
affected, so it never fails `--strict`. A link that leads out of the vault stays a warning.
"""

from __future__ import annotations

import re
from notecards.parse.fences import closes_fence, opening_fence
from notecards.render.links import LinkTarget, wiki_embeds
from notecards.render.media import local_target, media_kind
from notecards.types import Diagnostic, ParsedFile, Severity
from notecards.vault import VaultIndex

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+\"[^\"]*\")?\s*\)")


def check_embeds_outside_cards(parsed: ParsedFile, index: VaultIndex) -> list[Diagnostic]:
    """Warnings for embeds outside card blocks that resolve to nothing in the vault."""
    in_card = _card_lines(parsed)
    out: list[Diagnostic] = []
    fence = None
    path = parsed.source.path
    for number, line in enumerate(parsed.source.lines(), start=1):
        if fence is not None:
            if closes_fence(line, fence):
                fence = None
            continue
        fence = opening_fence(line)
        if fence is not None or number in in_card or "![" not in line:
            continue
        for target in wiki_embeds(line):
            problem = _wiki_embed_problem(target, path, index)
            if problem:
                out.append(Diagnostic(path, number, *problem))
        for bracketed, bare in _MD_IMAGE.findall(line):
            target = local_target(bracketed or bare)   # as render reads it: `%20` is a space
            if target is not None and index.resolve_attachment(target, path) is None:
                out.append(Diagnostic(path, number, *_missing(index, target, path, "image")))
    return out


def _missing(index: VaultIndex, target: str, path: str, what: str) -> tuple[Severity, str]:
    """A link out of the vault stays a warning (a security boundary); a dead link in prose is info."""
    outside = index.leads_outside(target, path)
    return ("warning", outside) if outside else ("info", f"{what} not found in the vault: {target}")


def _wiki_embed_problem(target: LinkTarget, path: str, index: VaultIndex) -> tuple[Severity, str] | None:
    """Why `![[target]]` in prose points nowhere, or None when some file of the vault answers it.
    Any note extension counts (the vault's settings are render's business; prose only warns when
    nothing of that name exists): `![[other]]` finds `other.txt`, `![[v1.2 notes]]` a dotted name."""
    if not target.note:
        return None
    if index.resolve_attachment(target.note, path) or index.resolve_note(target.note, index.suffixes()):
        return None
    return _missing(index, target.note, path, "embedded file" if media_kind(target.note) else "embedded note")


def _card_lines(parsed: ParsedFile) -> set[int]:
    lines: set[int] = set()
    for block in parsed.blocks:
        lines.update(range(block.line, block.end_line + 1))
    return lines
