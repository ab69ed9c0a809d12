"""The one MarkdownIt instance every render uses, built once with notecards' rules.

CommonMark plus tables and strikethrough, raw HTML allowed (notes carry `<br>` and `<!-- -->`),
and single newlines as line breaks, as Obsidian shows them by default. Each Obsidian feature is
a plugin in its own module; the order of `use` is the order their core rules run in.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from notecards.render.callouts import callouts_plugin
from notecards.render.cloze import cloze_plugin
from notecards.render.comments import comments_plugin
from notecards.render.embeds import embeds_plugin
from notecards.render.fences import fences_plugin
from notecards.render.highlights import highlights_plugin
from notecards.render.math import math_plugin
from notecards.render.media import media_plugin
from notecards.render.state import ENV_KEY, RenderState
from notecards.render.tags import tags_plugin
from notecards.render.wikilinks import wikilinks_plugin


def build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": True, "xhtmlOut": False})
    md.enable(["table", "strikethrough"])
    return (md.use(comments_plugin)
              .use(math_plugin)
              .use(callouts_plugin)
              .use(wikilinks_plugin)
              .use(embeds_plugin)
              .use(media_plugin)
              .use(highlights_plugin)
              .use(cloze_plugin)
              .use(tags_plugin)
              .use(fences_plugin))


MD = build_markdown()


def render_text(text: str, state: RenderState) -> str:
    """Markdown -> HTML, with `state` collecting media, tags and diagnostics."""
    return MD.render(text, {ENV_KEY: state})
