"""Cards shown in a real Chromium the way Anki's reviewer shows them, and what a phone user would
see wrong with them: shared by the browser tests of exported decks and of synced collections.

The page is the reviewer's: `<html class="night-mode">` and `<body class="card cardN nightMode
night_mode">` at night (aqt's `theme_manager.body_classes_for_card_ord` and `AnkiWebView`), the
card inside `<div id="qa">`, the card's own `<style>` (Anki's `card.answer()` carries its note
type's CSS), MathJax 3 typesetting `\\(…\\)` and `\\[…\\]`. Of the reviewer's own stylesheet only
the rules that decide width and night colours are copied (`REVIEWER_CSS`), and its
`img { max-width: 100% }` is kept for the user's own images only: AnkiDroid applies it only
with its `chrome` body class, so our figures (`img.nc-fig`) must size themselves.

MathJax comes from the npm registry at test time (`npm pack mathjax@3`, cached under
~/.cache/notecards-tests/, never in the repository): vendoring 6 MB of someone else's code
for one test is worse than one download per machine. Without npm or the registry the test skips
and says why.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, SEEDS

CACHE = Path.home() / ".cache" / "notecards-tests"
MATHJAX = CACHE / "mathjax-3" / "tex-svg-full.js"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]

# aqt 26.9.3: the colour variables of webview.css and the body rules of reviewer.css.
REVIEWER_CSS = """:root { --canvas: #f5f5f5; --fg: #020202 }
:root.night-mode { --canvas: #2c2c2c; --fg: #fcfcfc }
body { margin: 20px; overflow-wrap: break-word }
body.nightMode { background-color: var(--canvas); color: var(--fg) }
img:not(.nc-fig) { max-width: 100%; max-height: 95vh }"""

# The reviewer's page, loaded once; each card then goes into `#qa` as the reviewer's
# `_showQuestion`/`_showAnswer` put it there, and MathJax typesets it (Anki: `typeset: false`).
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{reviewer_css}</style>
<script>window.MathJax = {{tex: {{inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]]}},
 svg: {{fontCache: "global"}}, startup: {{typeset: false}}}};</script>
<script src="{mathjax}"></script></head>
<body><div id="qa"></div></body></html>"""

SHOW_JS = """async ([html, bodyClass, night]) => {
  await MathJax.startup.promise;
  const qa = document.getElementById('qa');
  MathJax.typesetClear([qa]);
  document.documentElement.className = night ? 'night-mode' : '';
  document.body.className = bodyClass;
  qa.innerHTML = html;
  await MathJax.typesetPromise([qa]);
  qa.querySelectorAll('details').forEach(d => d.open = true);   // the author's parts are laid out too
}"""

# For each <td>/<th>: the words (split at white space) whose text runs over more than one line.
BROKEN_WORDS_JS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('td, th')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g; let m;
      while ((m = re.exec(node.data)) !== null) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""

# The innermost elements that run past the right edge of the screen outside any scroll box of
# their own: what makes the page scroll sideways, each flagged when it is display math.
OVERFLOWING_JS = """() => {
  const width = window.innerWidth, out = [];
  const scrolls = el => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);
  for (const el of document.querySelectorAll('#qa *')) {
    if (el.getBoundingClientRect().right <= width + 0.5) continue;
    let inBox = false;
    for (let p = el.parentElement; p && !inBox; p = p.parentElement) inBox = scrolls(p);
    if (inBox || Array.from(el.children).some(c => c.getBoundingClientRect().right > width + 0.5)) continue;
    const text = (el.textContent || el.getAttribute('src') || '').trim().slice(0, 40);
    out.push({what: `${el.tagName.toLowerCase()} "${text}"`, math: el.closest('mjx-container[display="true"]') !== null});
  }
  return out;
}"""

# Figures that do not fit the screen, tables wider than the screen with no scroll box of their own
# that fits it, and pass/fail marks a student cannot see at a glance: out of view without
# scrolling sideways (those outside the author's folded part), or too close in colour to the text
# or to the background.
LAYOUT_JS = """() => {
  const width = window.innerWidth, out = [];
  const rgba = s => { const v = s.match(/[\\d.]+/g).map(Number); return v.length > 3 ? v : [...v, 1]; };
  const lum = ([r, g, b]) => { const c = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
                                return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b); };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = el => { for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor);
                              if (c[3] > 0) return c; } return [255, 255, 255, 1]; };
  const scrollBox = el => { for (el = el.parentElement; el; el = el.parentElement) {
                              if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) return el; } return null; };
  for (const img of document.querySelectorAll('#qa img')) {
    const r = img.getBoundingClientRect(), name = img.getAttribute('src');
    if (!img.naturalWidth) out.push(`figure ${name} did not load`);
    else if (r.left < -0.5 || r.right > width + 0.5) out.push(`figure ${name} spans ${Math.round(r.left)}..${Math.round(r.right)} px of ${width}`);
  }
  for (const table of document.querySelectorAll('#qa table')) {
    const r = table.getBoundingClientRect();
    if (r.right <= width + 0.5) continue;
    const box = scrollBox(table);
    if (box === null) out.push(`a table ${Math.round(r.width)} px wide has no scroll box of its own`);
    else if (box.getBoundingClientRect().right > width + 0.5) out.push(`a table's scroll box runs past the screen`);
  }
  const text = rgba(getComputedStyle(document.body).color);
  const marks = document.querySelectorAll('#qa .nc-pass, #qa .nc-fail');
  for (const mark of marks) {
    const r = mark.getBoundingClientRect(), label = `mark "${mark.textContent.trim()}"`;
    const colour = rgba(getComputedStyle(mark).color);
    if (mark.closest('details') === null && (r.width === 0 || r.left < 0 || r.right > width))
      out.push(`${label} is not in view (${Math.round(r.left)}..${Math.round(r.right)} px)`);
    if (contrast(colour, background(mark)) < 3) out.push(`${label} has contrast ${contrast(colour, background(mark)).toFixed(1)} with its background`);
    if (contrast(colour, text) < 1.2) out.push(`${label} is the colour of the text around it`);
  }
  return {problems: out, marks: marks.length};
}"""


@dataclass
class ShownCard:
    """One card's answer side as Anki renders it (its note type's CSS in a leading `<style>`)."""

    name: str
    ordinal: int
    answer: str


@dataclass
class Findings:
    problems: list[str]
    wide_math: list[str]      # display formulas too wide for the screen, which scroll the page
    figures: int
    marks: int


def mathjax() -> Path:
    """MathJax 3's TeX-to-SVG bundle, fetched once with `npm pack`."""
    if MATHJAX.is_file():
        return MATHJAX
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: MathJax comes from the npm registry")
    CACHE.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["npm", "pack", "mathjax@3", "--silent"], cwd=CACHE, capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"npm could not fetch mathjax@3: {proc.stderr.strip()[-200:]}")
    tgz = CACHE / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as archive:
        data = archive.extractfile("package/es5/tex-svg-full.js").read()
    MATHJAX.parent.mkdir(parents=True, exist_ok=True)
    MATHJAX.write_bytes(data)
    return MATHJAX


def vault_of_examples_and_seeds(root: Path) -> Path:
    """The example vault with the user's seed notes beside it (as .md, read from ../shared)."""
    vault = root / "vault"
    shutil.copytree(REPO / "notes", vault)
    for seed in sorted(SEEDS.glob("*.txt")):
        (vault / "seeds").mkdir(exist_ok=True)
        (vault / "seeds" / f"{seed.stem}.md").write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    return vault


def cards_of(col) -> list[ShownCard]:
    """Every card of an open collection, answer side, in card id order."""
    out = []
    for cid in sorted(col.find_cards("")):
        card = col.get_card(cid)
        out.append(ShownCard(f"{card.note().fields[0][:40]}#{card.ord}", card.ord, card.answer()))
    return out


def reviewer_page(browser, media: Path, width: int):
    """A page at `width` px holding the reviewer's empty page, served from the media folder so
    that the cards' relative image names resolve."""
    shell = media / "_nc_test_reviewer.html"
    shell.write_text(PAGE.format(reviewer_css=REVIEWER_CSS, mathjax=mathjax().as_uri()), encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(shell.as_uri())
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    return page


def show(page, card: ShownCard, night: bool) -> None:
    """Put one answer side in the reviewer's page, with the body classes Anki gives it, and wait
    for its math and images."""
    body = f"card card{card.ordinal + 1}" + (" nightMode night_mode" if night else "")
    page.evaluate(SHOW_JS, [card.answer, body, night])
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")


def white_share(png: bytes) -> float:
    """The share of near-white pixels in a screenshot (of an <img>'s box: PNG or SVG alike)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return float(np.mean(pixels > 225)) if pixels.size else 0.0


def inspect(page, where: str, night: bool) -> Findings:
    """What is wrong with the card on the page, each problem prefixed with `where`."""
    problems, wide_math = [], []
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        culprits = page.evaluate(OVERFLOWING_JS)
        if culprits and all(c["math"] for c in culprits):
            wide_math.append(f"{where}: display math scrolls the page sideways by {overflow} px")
        else:
            problems.append(f"{where}: page scrolls sideways by {overflow} px, past the edge: "
                            f"{[c['what'] for c in culprits][:3]}")
    broken = page.evaluate(BROKEN_WORDS_JS)
    if broken:
        problems.append(f"{where}: words broken inside table cells: {broken[:5]}")
    layout = page.evaluate(LAYOUT_JS)
    problems += [f"{where}: {p}" for p in layout["problems"]]
    figures = page.query_selector_all("img.nc-fig")
    if night:
        for img in figures:
            share = white_share(img.screenshot())
            if share > 0.5:
                problems.append(f"{where}: a figure is {share:.0%} white at night")
    return Findings(problems, wide_math, len(figures), layout["marks"])


def check_cards(browser, media: Path, cards: list[ShownCard], widths: tuple[int, ...],
                shots: Path | None = None, prefix: str = "card") -> Findings:
    """Every card at every width, light and night, one page per width; screenshots of the cards with
    figures into `shots` when given."""
    total = Findings([], [], 0, 0)
    for width in widths:
        page = reviewer_page(browser, media, width)
        for night in (False, True):
            theme = "night" if night else "light"
            for k, card in enumerate(cards):
                show(page, card, night)
                found = inspect(page, f"{card.name} at {width} px {theme}", night)
                total.problems += found.problems
                total.wide_math += found.wide_math
                total.figures += found.figures
                total.marks += found.marks
                if shots is not None and found.figures:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / f"{prefix}{k:02d}-{width}-{theme}.png"), full_page=True)
        page.close()
    return total
