"""A figure is a function of its model: the same model on two cards is one figure, and writing an
ID line (as sync does), moving the card or editing the card's other text never redraws it."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import write

from notecards.pipeline import BuildOptions, build

CARD = """START
Basic
{front}
Back: The marginal variance.

```sim
lambda = 4
sigma = 1
theta ~ Normal(0, lambda)
X ~ Normal(theta, sigma^2)
n = 2000
check: var(X) ≈ lambda + sigma^2
```
{id_line}END
"""


def card(front: str = "Variance of X?", id_line: str = "") -> str:
    return CARD.format(front=front, id_line=id_line)


def figures_by_front(vault: Path) -> dict[str, list[tuple[str, bytes]]]:
    """Each card's figure files (name, bytes), by the card's front, from a real build of the vault."""
    result = build(vault, options=BuildOptions(workers=1))
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    out = {}
    for c in result.cards:
        front = re.sub(r"<[^>]+>", "", c.fields["Front"]).strip()
        out[front] = [(m.name, m.data) for m in c.media if m.name.startswith("nc-")]
    return out


def test_the_same_model_on_two_cards_is_one_figure_file(tmp_path):
    write(tmp_path, "a.md", card("First card?"))
    write(tmp_path, "sub/b.md", "Some prose above.\n\n" + card("Second card?"))
    figures = figures_by_front(tmp_path)
    assert figures["First card?"] and figures["First card?"] == figures["Second card?"]
    assert len(list((tmp_path / ".notecards" / "sims").glob("*.svg"))) == 1


def test_an_id_line_a_move_and_an_edit_of_other_text_never_redraw_the_figure(tmp_path):
    write(tmp_path, "a.md", card())
    [before] = figures_by_front(tmp_path).values()
    cache = tmp_path / ".notecards"
    for edit in (lambda: write(tmp_path, "a.md", card(id_line="<!--ID: 1752652160588-->\n")),
                 lambda: (tmp_path / "a.md").rename(tmp_path / "moved.md"),
                 lambda: write(tmp_path, "moved.md", "# New heading\n\nNew prose.\n\n" + card("Reworded?"))):
        edit()
        [after] = figures_by_front(tmp_path).values()
        assert after == before
    assert len(list((cache / "sims").glob("*.svg"))) == 1      # nothing was ever drawn again


def test_a_fresh_cache_draws_the_same_bytes_for_a_card_with_another_identity(tmp_path):
    write(tmp_path / "one", "a.md", card())
    write(tmp_path / "two", "elsewhere/b.md", card("Another front?", "<!--ID: 1234567890123-->\n"))
    [one] = figures_by_front(tmp_path / "one").values()
    [two] = figures_by_front(tmp_path / "two").values()
    assert one == two
