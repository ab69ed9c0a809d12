"""The one MarkdownIt instance every render uses, built once with notecards' rules.

CommonMark plus tables, strikethrough, footnotes (`[^1]`) and task lists (`- [ ]`), raw HTML
allowed (notes carry `<br>` and `<!-- -->`), and single newlines as line breaks, as Obsidian shows
them by default. Void elements are written the XHTML way (`<br />`, `<img … />`), as the
showdown converter of Obsidian_to_Anki writes them, so a vault that plugin synced moves over
without every note's HTML changing. Each Obsidian feature is
a plugin in its own module; the order of `use` is the order their core rules run in.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from notecards.render.callouts import callouts_plugin
from notecards.render.cloze import cloze_plugin
from notecards.render.comments import comments_plugin
from notecards.render.embeds import embeds_plugin
from notecards.render.fences import fences_plugin
from notecards.render.highlights import highlights_plugin
from notecards.render.math import math_plugin
from notecards.render.media import media_plugin
from notecards.render.showdown_compat import indent_blockquotes, showdown_compat_plugin
from notecards.render.render_state import ENV_KEY, RenderState
from notecards.render.tags import tags_plugin
from notecards.render.wikilinks import wikilinks_plugin


def build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": True, "xhtmlOut": True})
    md.enable(["table", "strikethrough"])
    return (md.use(footnote_plugin)
              .use(tasklists_plugin)
              .use(comments_plugin)
              .use(math_plugin)
              .use(callouts_plugin)
              .use(wikilinks_plugin)
              .use(embeds_plugin)
              .use(media_plugin)
              .use(highlights_plugin)
              .use(cloze_plugin)
              .use(tags_plugin)
              .use(fences_plugin)
              .use(showdown_compat_plugin))


MD = build_markdown()

# What can open a block on a line of its own: heading, quote, list or rule, fence, HTML, math or
# comment block, reference definition; an embed or a tags-only line is reshaped at block level.
_MAY_OPEN_BLOCK = re.compile(r"[#>*+\-_`~<]|\d{1,9}[.)]|\$\$|\\\[|%%|\[[^\]]*\]:|[ \t]")


def render_text(text: str, state: RenderState) -> str:
    """Markdown -> HTML, with `state` collecting media, tags and diagnostics.

    A one-line text that cannot open a block (most questions) is a single paragraph, so it
    skips the block parser: the same tokens, a third of the time.
    """
    env = {ENV_KEY: state}
    line = text.rstrip()
    if line and "\n" not in line and "![[" not in line and not _MAY_OPEN_BLOCK.match(line):
        return "<p>" + MD.renderer.render(MD.parseInline(line, env), MD.options, env) + "</p>\n"
    return indent_blockquotes(MD.render(text, env))
