"""The HTML that goes with a figure on the card: what the student sees, and what is for the author.

The student studies the answer side, so it shows the figure, the model in one line with the
values it was drawn at, and the checks and comparisons with pass or fail visible at a glance.
What is for the note's author — how to set the values the card left out, the seed — is folded
into a `<details>` ("for the author"), and no source line number appears on a card (they are in
`notecards sim` / `check` output, where the author can act on them).

The HTML carries its own layout, because in stock `Basic` (sync) the user owns the card's CSS:
inline styles keep numbers from breaking (`white-space: nowrap`) and let a wide table scroll in
its own box, and a small `<style>` (`CAPTION_STYLE`) gives the pass/fail colours and the figure's
night-mode inversion under Anki's `.nightMode` class. The notecards note types' CSS says the same.
"""

from __future__ import annotations

import html

from notecards.sim.claims import ClaimResult
from notecards.sim.compare import summary_text
from notecards.sim.describe import describe_node, format_value
from notecards.sim.labels import pretty
from notecards.sim.model import CheckResult, Comparison, ModelSpec

CAPTION_STYLE = (
    "<style>.nc-pass{color:#1a7f37}.nc-fail{color:#cf222e;font-weight:600}"
    ".nightMode .nc-pass,.night_mode .nc-pass{color:#3fb950}"
    ".nightMode .nc-fail,.night_mode .nc-fail{color:#ff7b72}"
    ".nightMode img.nc-fig,.night_mode img.nc-fig{filter:invert(.88) hue-rotate(180deg)}</style>")
FIGURE_STYLE = "margin:0.8em 0;max-width:100%"
IMG_STYLE = "display:block;max-width:100%;height:auto;margin:0 auto"
SCROLL_STYLE = "overflow-x:auto;max-width:100%;margin:0.4em 0"
TABLE_STYLE = "border-collapse:collapse;font-size:0.9em"
CELL_STYLE = "white-space:nowrap;padding:0.15em 0.5em;text-align:left"
# a cell of words (a check's expression): it may wrap between words, never inside one
WORDS_STYLE = "white-space:normal;overflow-wrap:normal;word-break:normal;min-width:7em;padding:0.15em 0.5em;text-align:left"
CAPTION_LAYOUT = "text-align:left"
NUMBER_STYLE = "white-space:nowrap;padding:0.15em 0.5em;text-align:right;font-variant-numeric:tabular-nums"


def image_html(name: str, alt: str) -> str:
    return (f'<img src="{html.escape(name)}" class="nc-fig" alt="{html.escape(alt)}" '
            f'style="{IMG_STYLE}">')


def table_html(header: list[str], rows: list[tuple[str, list[str]]], numeric_from: int, cls: str,
               wrapping: frozenset[int] = frozenset()) -> str:
    """A table whose cells never break (numbers, words, marks) and which scrolls in its own box
    when wider than the screen; the `wrapping` columns hold words and may wrap between them, so
    on a phone the numbers stay in view. `rows` are (row class, cells already escaped)."""
    def cell(tag: str, k: int, text: str) -> str:
        style = NUMBER_STYLE if k >= numeric_from else WORDS_STYLE if k in wrapping else CELL_STYLE
        return f'<{tag} style="{style}">{text}</{tag}>'

    head = "".join(cell("th", k, h) for k, h in enumerate(header))
    body = "".join((f'<tr class="{row_cls}">' if row_cls else "<tr>") + "".join(cell("td", k, c) for k, c in enumerate(cells)) + "</tr>"
                   for row_cls, cells in rows)
    return (f'<div class="nc-scroll" style="{SCROLL_STYLE}"><table class="{cls}" style="{TABLE_STYLE}">'
            f"<tr>{head}</tr>{body}</table></div>")


def author_details(parts: list[str]) -> str:
    """What only the note's author needs, folded so it stays out of the student's way."""
    body = "".join(p for p in parts if p)
    if not body:
        return ""
    return ('<details class="nc-author" style="margin-top:0.5em;font-size:0.85em;opacity:0.85">'
            f"<summary>for the author</summary>{body}</details>")


def caption_html(spec: ModelSpec, checks: list[CheckResult], comparisons: list[Comparison],
                 image_name: str, alt: str, claims: list[ClaimResult] = ()) -> str:
    """The card's figure with a caption that says what was simulated, with which values, and
    whether the card's claims (checks, equivalent definitions) held."""
    parts = [CAPTION_STYLE, f'<figure class="nc-sim" style="{FIGURE_STYLE}">', image_html(image_name, alt),
             f'<figcaption class="nc-caption" style="{CAPTION_LAYOUT}">', model_line(spec), values_line(spec)]
    if checks:
        parts.append(checks_html(checks))
    parts += [comparison_html(c) for c in comparisons]
    parts += [claim_html(c) for c in claims]
    parts.append(author_details([defaults_hint(spec), seed_line(spec)]))
    parts.append("</figcaption></figure>")
    return "".join(p for p in parts if p)


def model_line(spec: ModelSpec) -> str:
    """The model in one line, as notecards understood it (argument names spelled out)."""
    items = "; ".join(f"<code>{html.escape(describe_node(n))}</code>"
                      for n in spec.nodes.values() if n.kind in ("stochastic", "deterministic"))
    return f'<div class="nc-sim-model"><b>Model</b>: {items}</div>'


def values_line(spec: ModelSpec) -> str:
    """The values the figure was drawn at; a value the card left out is marked default."""
    values = []
    for node in spec.nodes.values():
        if (node.kind in ("const", "data") and node.observed is None and node.value is not None
                and node.name not in spec.defaults):
            values.append(_nowrap(f"{html.escape(pretty(node.name))} = {html.escape(format_value(node.value))}"))
    for name, value in spec.defaults.items():
        values.append(_nowrap(f"{html.escape(pretty(name))} = {format_value(value)} <i>(default)</i>"))
    values.append(_nowrap(f"n = {spec.n} draws"))
    return f'<div class="nc-sim-values"><b>Values</b>: {"; ".join(values)}.</div>'


def _nowrap(text: str) -> str:
    return f'<span style="white-space:nowrap">{text}</span>'


def defaults_hint(spec: ModelSpec) -> str:
    if not spec.defaults:
        return ""
    example = "; ".join(f"{n} = …" for n in spec.defaults)
    return ('<div class="nc-sim-hint">Values marked <i>default</i> were not given on the card; '
            f"set them in a <code>```sim</code> block on this card, e.g. <code>{html.escape(example)}</code>.</div>")


def seed_line(spec: ModelSpec) -> str:
    seed = f"seed {spec.seed}" if spec.seed is not None else "seed derived from the model"
    return f"<div>{seed}</div>"


def checks_html(checks: list[CheckResult]) -> str:
    rows = []
    for c in checks:
        mark = '<span class="nc-pass">✓</span>' if c.passed else '<span class="nc-fail">✗ failed</span>'
        rows.append(("nc-check-pass" if c.passed else "nc-check-fail",
                     [mark, f"<code>{html.escape(c.text)}</code>", f"{c.simulated:.4g}", f"{c.expected:.4g}",
                      f"{c.z:+.2f}"]))
    return table_html(["", "check", "simulated", "expected", "z"], rows, 2, "nc-sim-checks", frozenset({1}))


def comparison_html(c: Comparison) -> str:
    first, second = summary_text(c.first), summary_text(c.second)
    name = html.escape(pretty(c.name))
    if c.agree:
        return (f'<div class="nc-sim-compare nc-agree"><span class="nc-pass">✓</span> The two definitions of '
                f"<code>{name}</code> agree (p = {c.p_value:.3g}): {first} vs {second}.</div>")
    return (f'<div class="nc-sim-compare nc-disagree"><b class="nc-fail">✗ The two definitions of '
            f"<code>{name}</code> disagree</b> (p = {c.p_value:.2g}):<br>first definition: {first}<br>"
            f"second definition: {second}</div>")


def claim_html(c: ClaimResult) -> str:
    """A posterior the card states, against the posterior of its own model."""
    what = f"The card's posterior for <code>{html.escape(pretty(c.name))} | {html.escape(c.given)}</code>"
    if c.agree is None:
        return f'<div class="nc-sim-claim">{what} was not checked: {html.escape(c.note)}.</div>'
    at = ", ".join(_nowrap(f"{html.escape(pretty(k))} = {v:.4g}") for k, v in c.at.items())
    both = (f"card: mean {c.claimed[0]:.4g}, var {c.claimed[1]:.4g}<br>"
            f"model ({html.escape(c.method)}): mean {c.posterior[0]:.4g}, var {c.posterior[1]:.4g}")
    if c.agree:
        return (f'<div class="nc-sim-claim nc-agree"><span class="nc-pass">✓</span> {what} follows from '
                f"its model (checked at {at}).</div>")
    return (f'<div class="nc-sim-claim nc-disagree"><b class="nc-fail">✗ {what} does not follow from its '
            f"model</b> (at {at}):<br>{both}</div>")
