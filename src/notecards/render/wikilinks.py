"""`[[note]]`, `[[note|alias]]`, `[[note#heading]]` -> their text, or an `obsidian://` link.

Plain text is the default because a card is studied away from the vault; with
`obsidian_links` the text links to the note (resolved in the vault when it exists there).
A link to a note that is not in the vault is not a problem: Obsidian shows it as an unresolved
link too, so it is rendered as its text without a diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.links import LinkTarget, obsidian_url
from notecards.render.render_state import state_of


def wikilinks_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "wikilink", wikilink)
    md.add_render_rule("wikilink", render_wikilink)


def scan_brackets(state: StateInline, start: int) -> int:
    """Offset of the `]]` closing the `[[` at `start`, or -1: no newline, no nested `[[`."""
    src = state.src
    close = src.find("]]", start + 2, state.posMax)
    if close == -1 or close == start + 2:
        return -1
    inner = src[start + 2:close]
    if "\n" in inner or "[[" in inner:
        return -1
    return close


def wikilink(state: StateInline, silent: bool) -> bool:
    start = state.pos
    if not state.src.startswith("[[", start):
        return False
    close = scan_brackets(state, start)
    if close == -1:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.meta = {"target": LinkTarget.parse(state.src[start + 2:close]), "pos": start}
        token.markup = state.src[start:close + 2]
    state.pos = close + 2
    return True


def render_wikilink(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    target: LinkTarget = tokens[idx].meta["target"]
    text = escapeHtml(target.text())
    rs = state_of(env)
    if rs is None or rs.ctx is None or not rs.ctx.settings.obsidian_links:
        return text
    file = rs.path
    if target.note:
        file = rs.ctx.index.resolve_note(target.note, tuple(rs.ctx.settings.extensions)) or target.note
    href = obsidian_url(rs.ctx.settings.vault_name, file)
    return f'<a href="{escapeHtml(href)}" class="obsidian-link">{text}</a>'
