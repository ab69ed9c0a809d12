"""Every card of the example vault and of the user's seed notes, as Anki's reviewer shows it on a
phone: exported, imported into a real collection with the `anki` package, each answer side laid
out in Debian's Chromium at 390 px with the note type's CSS, the `card` and (at night)
`nightMode night_mode` classes on the body, and MathJax 3 typesetting the math.

MathJax comes from the npm registry at test time (`npm pack mathjax@3`, cached under
~/.cache/notecards-tests/, never in the repository): vendoring 6 MB of someone else's code
for one test is worse than one download per machine. Without npm, the registry or Chromium the
test skips and says why.

Set NOTECARDS_SHOTS=<folder> to also keep screenshots of every model card at 390 and 1280 px,
light and night.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import REPO, SEEDS, import_apkg, run_cli

CACHE = Path.home() / ".cache" / "notecards-tests"
MATHJAX = CACHE / "mathjax-3" / "tex-svg-full.js"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>window.MathJax = {{tex: {{inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]]}},
 svg: {{fontCache: "global"}}}};</script>
<script src="{mathjax}"></script></head>
<body class="card card1{night}"><div id="qa">{answer}</div></body></html>"""

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


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """(card name, answer HTML with its CSS) of every card, and the collection's media folder."""
    pytest.importorskip("anki")
    from anki.collection import Collection

    root = tmp_path_factory.mktemp("browser")
    vault = vault_of_examples_and_seeds(root)
    run_cli("export", vault, "-o", root / "deck.apkg", check=True)
    col = Collection(str(root / "collection.anki2"))
    try:
        import_apkg(col, root / "deck.apkg")
        out = []
        for cid in sorted(col.find_cards("")):
            card = col.get_card(cid)
            note = card.note()
            out.append((f"{note.fields[0][:40]}#{card.ord}", card.answer()))
        return out, Path(col.media.dir())
    finally:
        col.close()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        yield instance
        instance.close()


def show(page, media: Path, answer: str, night: bool, k: int) -> None:
    """Open one answer side as Anki's reviewer lays it out, and wait for math and images."""
    html_path = media / f"_nc_test_{k}_{int(night)}.html"
    html_path.write_text(PAGE.format(mathjax=mathjax().as_uri(), night=" nightMode night_mode" if night else "",
                                     answer=answer), encoding="utf-8")
    page.goto(html_path.as_uri())
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")  # author parts too
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")


def white_share(png: bytes) -> float:
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return float(np.mean(pixels > 225)) if pixels.size else 0.0


def test_every_card_fits_a_phone_light_and_night(answers, browser):
    cards, media = answers
    shots = Path(os.environ["NOTECARDS_SHOTS"]) if os.environ.get("NOTECARDS_SHOTS") else None
    problems = []
    figures_seen = 0
    widths = (390, 1280) if shots else (390,)
    for width in widths:
        page = browser.new_page(viewport={"width": width, "height": 800})
        for night in (False, True):
            for k, (name, answer) in enumerate(cards):
                show(page, media, answer, night, k)
                where = f"{name} at {width} px {'night' if night else 'light'}"
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems.append(f"{where}: page scrolls sideways by {overflow} px")
                broken = page.evaluate(BROKEN_WORDS_JS)
                if broken:
                    problems.append(f"{where}: words broken inside table cells: {broken[:5]}")
                figures = page.query_selector_all("img.nc-fig")
                if night:
                    for img in figures:
                        share = white_share(img.screenshot())
                        if share > 0.5:
                            problems.append(f"{where}: a figure is {share:.0%} white at night")
                figures_seen += len(figures)
                if shots is not None and figures:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / f"card{k:02d}-{width}-{'night' if night else 'light'}.png"),
                                    full_page=True)
        page.close()
    assert figures_seen > 0
    assert problems == []
