"""Render stage: a card's raw markdown fields -> the HTML Anki shows, plus media and tags.

Each Obsidian feature is a small markdown-it rule in its own module (math, wikilinks, embeds,
media, callouts, highlights, comments, tags, cloze, fences), assembled once in `markdown.py`.
A field's outer `<p>` … `</p>` are dropped, as Obsidian_to_Anki's fields drop them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notecards.cloze import ANKI_CLOZE, is_cloze_type
from notecards.render.context import file_link, heading_context
from notecards.render.markdown import render_text
from notecards.render.render_state import RenderContext, RenderState
from notecards.types import CardBlock, Diagnostic, MediaFile

__all__ = ["RenderContext", "Rendered", "render_block", "render_markdown", "is_cloze_type"]


@dataclass
class Rendered:
    fields: dict[str, str]
    media: list[MediaFile] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def render_block(block: CardBlock, ctx: RenderContext) -> Rendered:
    settings = ctx.settings
    cloze = is_cloze_type(block.note_type)
    sink = RenderState(ctx=ctx, path=block.path, first_line=block.line)
    fields: dict[str, str] = {}
    for name, text in block.fields.items():
        state = RenderState(ctx=ctx, path=block.path, first_line=block.field_lines.get(name, block.line),
                            curly_cloze=cloze and settings.curly_cloze,
                            highlight_cloze=cloze and settings.highlights_to_clozes,
                            collect_tags=settings.add_obsidian_tags,
                            media=sink.media, tags=sink.tags, diagnostics=sink.diagnostics)
        fields[name] = unwrap_paragraph(render_text(text, state)) if text.strip() else ""
    for name, text in block.frozen.items():
        # Obsidian_to_Anki's FROZEN fields: the file's fixed text, appended to that field of
        # every card of the type (after the card's own text, formatted the same way)
        if name in fields and text.strip():
            state = RenderState(ctx=ctx, path=block.path, first_line=block.line,
                                media=sink.media, tags=sink.tags, diagnostics=sink.diagnostics)
            fields[name] += unwrap_paragraph(render_text(text, state))
    if fields:
        _add_file_link_and_context(block, ctx, fields)
    if cloze and not any(ANKI_CLOZE.search(html) for html in fields.values()):
        sink.warn(block.line, f"{block.note_type} note has no cloze deletion ({{{{c1::…}}}}"
                  + (" or {…}" if settings.curly_cloze else "") + "); Anki cannot make a card of it",
                  "error")
    return Rendered(fields=fields, media=list(sink.media.values()), tags=sink.tags,
                    diagnostics=sink.diagnostics)


def render_markdown(text: str, ctx: RenderContext | None = None, *, path: str = "",
                    first_line: int = 1) -> tuple[str, list[Diagnostic]]:
    """Render a markdown string that is not a card field (a caption, a note for the user)."""
    state = RenderState(ctx=ctx, path=path or (ctx.source.path if ctx else ""), first_line=first_line)
    return unwrap_paragraph(render_text(text, state)), state.diagnostics


def unwrap_paragraph(html: str) -> str:
    """Obsidian_to_Anki's rule, exactly: a field starting with `<p>` and ending with `</p>` loses
    those two tags, even when it holds several paragraphs (`a</p>\n<p>b`, which Anki shows as
    two paragraphs all the same), so its notes' HTML is ours and migration changes no note."""
    html = html.strip()
    if html.startswith("<p>") and html.endswith("</p>"):
        return html[3:-4]
    return html


def _add_file_link_and_context(block: CardBlock, ctx: RenderContext, fields: dict[str, str]) -> None:
    """In Obsidian_to_Anki's order: the file link first, then the context."""
    settings = ctx.settings
    first = next(iter(fields))
    if settings.add_file_link:
        target = settings.file_link_fields.get(block.note_type, first)
        if target in fields:
            fields[target] += file_link(settings.vault_name, block.path)
    if settings.add_context:
        target = settings.context_fields.get(block.note_type, first)
        if target in fields:
            fields[target] += heading_context(ctx.source, block.line)
