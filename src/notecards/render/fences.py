"""Code fences keep their language class; `sim` / `python sim` fences are model sources.

A model source is shown folded (`<details class="nc-sim-source">`): the simulation stage adds the
figures it produces separately, and the source stays one click away on the card. Its `<pre>`
carries its own layout (left-aligned, scrolling in its own box), since in a stock `Basic` note
(sync) the CSS is the user's: `text-align: center` and nothing to stop a long line from making
the whole card scroll sideways on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

SIM_INFOS = frozenset({"sim", "python sim"})
SOURCE_STYLE = "overflow-x:auto;text-align:left"


def fences_plugin(md: MarkdownIt) -> None:
    default_fence = md.renderer.rules["fence"]

    def fence(self, tokens: Sequence[Token], idx: int, options, env) -> str:
        if " ".join(tokens[idx].info.split()) in SIM_INFOS:
            return render_sim_source(tokens[idx])
        return default_fence(tokens, idx, options, env)

    md.add_render_rule("fence", fence)


def render_sim_source(token: Token) -> str:
    return ('<details class="nc-sim-source"><summary>model</summary>'
            f'<pre style="{SOURCE_STYLE}"><code class="language-sim">{escapeHtml(token.content)}</code></pre></details>\n')
