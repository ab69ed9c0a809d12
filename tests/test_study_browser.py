"""The study page in a real browser: Playwright driving Debian's Chromium against a real server.

A person studies with the keyboard alone or with touch alone; math is typeset offline; the
review they gave is in their history file; undo and reload behave; dark mode and a 390 px phone
screen render without sideways scrolling; a page without the token or from a rebound DNS name
gets nothing.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import write
from test_study_server import StudyServer, history_lines, make_vault

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")

REBOUND = "rebind.test"          # a name the browser resolves to 127.0.0.1, as DNS rebinding would


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"])
        yield chromium
        chromium.close()


@pytest.fixture
def served(tmp_path):
    with StudyServer(make_vault(tmp_path)) as server:
        yield server


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(served.url)
    wait_front(page)
    yield page
    context.close()
    assert errors == []


def wait_front(page) -> None:
    page.wait_for_function("() => !document.getElementById('review').hidden"
                           " && document.getElementById('card').innerText.trim().length > 0")


def count(page, kind: str) -> int:
    return int(page.text_content(f"#count-{kind}"))


def front_text(page) -> str:
    return page.inner_text("#card")


def test_front_then_space_shows_the_answer_with_typeset_math(page):
    assert page.is_visible("#show-answer") and page.is_hidden("#ratings")
    page.keyboard.press("Space")
    page.wait_for_selector("#ratings:not([hidden])")
    assert page.locator("#card hr#answer").count() == 1
    assert page.locator("#card .katex").count() > 0
    assert page.locator("#card .katex-error").count() == 0
    labels = [page.text_content(f'[data-ivl="{r}"]') for r in "1234"]
    assert all(labels), labels


def test_3_answers_good_counts_go_down_the_review_is_saved_and_u_undoes_it(page, served):
    first = front_text(page)
    new = count(page, "new")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ratings:not([hidden])")
    page.keyboard.press("3")
    page.wait_for_function("n => Number(document.getElementById('count-new').textContent) === n", arg=new - 1)
    page.wait_for_selector("#ratings[hidden]", state="attached")
    assert front_text(page) != first
    [event] = history_lines(served.vault)
    assert (event["type"], event["rating"]) == ("review", 3)
    assert event["ms"] >= 0
    page.keyboard.press("u")
    page.wait_for_function("n => Number(document.getElementById('count-new').textContent) === n", arg=new)
    page.wait_for_function("t => document.getElementById('card').innerText === t", arg=first)
    assert [e["type"] for e in history_lines(served.vault)] == ["review", "undo"]


def test_s_suspends_the_card_and_the_toast_takes_it_back(page, served):
    new = count(page, "new")
    page.keyboard.press("s")
    page.wait_for_function("n => Number(document.getElementById('count-new').textContent) === n", arg=new - 1)
    page.click("#toast-unsuspend")
    page.wait_for_function("n => Number(document.getElementById('count-new').textContent) === n", arg=new)
    assert [e["type"] for e in history_lines(served.vault)] == ["suspend", "unsuspend"]


def test_a_reload_resumes_where_the_schedule_stands(page):
    page.keyboard.press("Space")
    page.keyboard.press("4")
    page.wait_for_selector("#ratings[hidden]", state="attached")
    page.wait_for_function("() => document.getElementById('card').innerText.length > 0")
    before = (front_text(page), count(page, "new"), count(page, "learning"), count(page, "review"))
    page.reload()
    wait_front(page)
    assert (front_text(page), count(page, "new"), count(page, "learning"), count(page, "review")) == before


def test_the_deck_list_chooses_a_deck_and_its_figure_shows_on_the_answer(page):
    page.click("#deck-button")
    page.wait_for_selector("#decks:not([hidden])")
    rows = page.locator("#deck-rows tr")
    assert rows.count() == 4                        # All decks, Maths, Algebra, Geometry
    assert page.text_content("#deck-rows tr:first-child td.num.new") == str(count(page, "new"))
    page.click("#deck-rows button:text-is('Geometry')")
    page.wait_for_selector("#review:not([hidden])")
    assert page.text_content("#deck-name") == "Maths::Geometry"
    assert "deck=Maths%3A%3AGeometry" in page.url
    assert "What shape" in front_text(page) or "symlink" in front_text(page)
    if "symlink" in front_text(page):             # the card whose picture is refused: bury it
        page.keyboard.press("-")
        page.wait_for_function("() => document.getElementById('card').innerText.includes('What shape')")
    page.keyboard.press("Space")
    image = page.wait_for_selector("#card img")
    page.wait_for_function("img => img.complete && img.naturalWidth === 40", arg=image)
    assert page.get_attribute("#edit", "href").startswith("obsidian://open?vault=vault&file=Geometry")
    assert page.text_content("#where") == "Geometry.md:3"


def test_the_session_ends_with_a_summary(page):
    page.goto(page.url.split("?")[0] + "?deck=Maths%3A%3AAlgebra")
    wait_front(page)
    page.keyboard.press("Space")
    page.keyboard.press("4")                      # Easy: a new card leaves the session
    page.wait_for_selector("#ratings[hidden]", state="attached")
    page.keyboard.press("Space")
    page.keyboard.press("4")
    page.wait_for_selector("#summary:not([hidden])")
    assert page.text_content("#stat-studied") == "2"
    assert page.text_content("#stat-again") == "0%"
    assert page.text_content("#summary-title") == "Session complete"


def test_touch_alone_studies_a_card(browser, served):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(served.url)
    wait_front(page)
    new = count(page, "new")
    page.tap("#card")
    page.wait_for_selector("#ratings:not([hidden])")
    box = page.locator(".rate.good").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44       # big enough for a thumb
    page.tap(".rate.good")
    page.wait_for_function("n => Number(document.getElementById('count-new').textContent) === n", arg=new - 1)
    assert len(history_lines(served.vault)) == 1
    context.close()


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_a_390px_phone_screen_has_no_sideways_scrolling_in_either_theme(browser, served, scheme):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme)
    page = context.new_page()
    page.goto(served.url)
    wait_front(page)
    assert page.get_attribute("html", "data-theme") == scheme
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    luminance = sum(int(v) for v in background[background.index("(") + 1:-1].split(",")[:3])
    assert (luminance < 200) == (scheme == "dark"), background
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) == 0
    page.keyboard.press("Space")
    page.wait_for_selector("#ratings:not([hidden])")
    assert page.evaluate(overflow) == 0
    for rating in "1234":
        box = page.locator(f'.rate[data-rating="{rating}"]').bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.click("#deck-button")
    page.wait_for_selector("#decks:not([hidden])")
    assert page.evaluate(overflow) == 0
    context.close()


def test_the_theme_toggle_is_remembered_across_reloads(page):
    start = page.get_attribute("html", "data-theme")
    page.click("#theme-button")
    flipped = "dark" if start == "light" else "light"
    assert page.get_attribute("html", "data-theme") == flipped
    page.reload()
    page.wait_for_selector("#review:not([hidden])")
    assert page.get_attribute("html", "data-theme") == flipped


def test_the_browser_gets_nothing_without_the_token_or_under_another_name(browser, served):
    context = browser.new_context()
    page = context.new_page()
    refused = page.goto(f"http://127.0.0.1:{served.port}/")
    assert refused.status == 403 and "token" in page.inner_text("body")
    rebound = page.goto(f"http://{REBOUND}:{served.port}{served.address.prefix}/")
    assert rebound.status == 403 and "own address" in page.inner_text("body")
    assert page.goto(f"http://localhost:{served.port}{served.address.prefix}/").status == 200
    context.close()


def test_a_type_in_card_takes_the_typed_answer_without_firing_shortcuts(browser, tmp_path):
    write(tmp_path / "typed", "Capitals.md",
          "START\nBasic (type in the answer)\nCapital of France?\nBack: Paris\nEND\n")
    with StudyServer(tmp_path / "typed") as server:
        context = browser.new_context()
        page = context.new_page()
        page.goto(server.url)
        wait_front(page)
        page.wait_for_function("() => document.activeElement && document.activeElement.id === 'typeans'")
        page.keyboard.type("Paris es 1")             # e, s and 1 are shortcuts outside the box
        assert page.input_value("#typeans") == "Paris es 1"
        page.keyboard.press("Enter")
        page.wait_for_selector("#ratings:not([hidden])")
        assert page.text_content("#card .nc-typed") == "You typed: Paris es 1"
        assert history_lines(server.vault) == []
        context.close()


def test_a_sound_on_the_card_gets_a_player_served_from_the_vault(browser, tmp_path):
    vault = tmp_path / "sounds"
    write(vault, "Birds.md", "START\nBasic\nWhich bird sings this?\nBack: A blackbird ![[song.mp3]]\nEND\n")
    (vault / "song.mp3").write_bytes(b"ID3" + bytes(200))
    with StudyServer(vault) as server:
        context = browser.new_context()
        page = context.new_page()
        page.goto(server.url)
        wait_front(page)
        page.keyboard.press("Space")
        player = page.wait_for_selector("#card audio[controls]")
        src = player.get_attribute("src")
        assert src.startswith("media/") and "[sound:" not in page.inner_text("#card")
        status = page.evaluate("src => fetch(src).then(r => r.status + ' ' + r.headers.get('content-type'))", src)
        assert status == "200 audio/mpeg"
        context.close()


LIVE_MODEL = """\
START
Basic
The marginal variance of X?
Back: lambda plus one.
```sim
lambda = 4
theta ~ Normal(0, lambda)
X ~ Normal(theta, 1)
n = 2000
```
END
"""


def test_a_model_cards_slider_redraws_its_figure_and_reset_restores_it(browser, tmp_path):
    write(tmp_path / "vault", "model.md", LIVE_MODEL)
    with StudyServer(tmp_path / "vault", simulate=True) as server:
        context = browser.new_context(viewport={"width": 390, "height": 860})
        page = context.new_page()
        page.goto(server.url)
        wait_front(page)
        assert page.locator("input[type=range]").count() == 0          # not on the front
        page.keyboard.press("Space")
        slider = page.wait_for_selector(".nc-sliders input[type=range]")
        own = page.get_attribute("#card .nc-sim img", "src")
        assert "λ = 4" in page.inner_text("#card .nc-sim")
        slider.focus()
        for _ in range(8):                                                # the native keyboard path
            page.keyboard.press("ArrowRight")
        assert page.text_content(".nc-slider output") == "6.34"
        page.wait_for_function("own => { const img = document.querySelector('#card .nc-sim img');"
                               " return img && img.getAttribute('src') !== own && img.complete && img.naturalWidth > 0"
                               " && !document.querySelector('.nc-sliders.busy'); }", arg=own)
        assert "λ = 6.34" in page.inner_text("#card .nc-sim")
        assert page.locator("#card .katex-error").count() == 0
        page.click(".nc-reset")
        assert page.get_attribute("#card .nc-sim img", "src") == own
        assert page.text_content(".nc-slider output") == "4" and "λ = 4" in page.inner_text("#card .nc-sim")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_stats_page_draws_every_chart_in_either_theme(browser, served, scheme):
    context = browser.new_context(viewport={"width": 390, "height": 860}, color_scheme=scheme)
    page = context.new_page()
    page.goto(served.url)
    wait_front(page)
    page.keyboard.press("Space")
    page.keyboard.press("3")
    page.wait_for_function("() => document.getElementById('count-learning').textContent !== '0'")
    page.click("#stats-button")
    page.wait_for_selector("#stats:not([hidden])")
    for name in ("heatmap", "forecast", "retention", "counts", "buttons"):
        box = page.locator(f"#chart-{name} svg")
        assert box.count() == 1 and box.bounding_box()["height"] > 20, name
    fills = page.evaluate("() => [...document.querySelectorAll('#stats rect')].map(r => getComputedStyle(r).fill)")
    assert all(f not in ("", "none", "rgb(0, 0, 0)") for f in fills)       # every mark coloured by the theme
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(20, 21, 24)") == (scheme == "dark")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert "1 answer" in page.text_content("#stats-total")
    page.select_option("#stats-deck", "Maths::Geometry")
    page.wait_for_function("() => document.getElementById('stats-total').textContent.includes('Geometry')")
    context.close()


def test_browse_finds_a_card_by_a_word_of_its_back_and_shows_its_info(page):
    page.keyboard.press("Space")
    page.keyboard.press("3")
    page.wait_for_function("() => document.getElementById('count-learning').textContent !== '0'")
    page.click("#browse-button")
    page.wait_for_selector("#browse:not([hidden])")
    page.fill("#browse-query", "circle")                 # the back of the Geometry card: "A circle: …"
    page.wait_for_function("() => document.getElementById('browse-total').textContent === '1 card'")
    assert page.inner_text("#browse-rows").startswith("What shape is drawn here")
    page.click("#browse-rows button.browse-open")
    page.wait_for_selector("#card-info:not([hidden])")
    assert page.text_content("#info-source") == "Geometry.md:3"
    page.fill("#browse-query", "is:learn")
    page.wait_for_function("() => document.getElementById('browse-total').textContent === '1 card'")
    page.click("#browse-rows button.browse-open")
    page.wait_for_function("() => document.getElementById('info-history').innerText.includes('Good')")
    page.click("#info-suspend")
    page.wait_for_function("() => document.getElementById('info-state').textContent.includes('suspended')")
