"""Live simulations: a model card's sliders and its redraw, over the real study server.

What a student relies on: each free parameter of the card's model gets a slider on a range that
fits it (log for a scale, 0..1 for a probability, whole numbers for a count), the card's own value
in the middle; moving one redraws the figure and caption at that value (from the cache the second
time); a fitted card says it re-fits with fewer draws; a python sim block gets none; the note is
never written.
"""

from __future__ import annotations

import math

import pytest

from conftest import write
from notecards.config import Settings
from notecards.export_state import load_state
from notecards.pipeline import BuildOptions, build
from notecards.sim.lang import parse_sim
from notecards.study.events import card_id
from notecards.study.sliders import free_parameters, slider_values, support_of
from test_study_server import StudyServer

MODEL = """\
START
Basic
The marginal variance of X?
Back: lambda plus one.
```sim
lambda = 4
mu = 1
p = 0.3
tau = 2 * lambda
theta ~ Normal(mu, lambda)
X ~ Normal(theta, 1)
k ~ Binomial(10, p)
n = 2000
check: var(X) ≈ lambda + 1
```
END

START
Basic
A card whose model is python code
Back: it runs in the sandbox
```python sim
print(1)
```
END

START
Basic
A fitted mean
Back: shrunk towards the prior
```sim
m0 = 0
J = 4
y = [1.2, 0.8, 1.9, 1.4]
mu ~ Normal(m0, 4)
y[1..J] ~ Normal(mu, 1)
```
END
"""


def spec_of(text: str):
    spec, diagnostics = parse_sim(text, "x.md", 1)
    assert spec is not None, diagnostics
    return spec


def test_free_parameters_are_the_numbers_the_laws_use_not_computed_constants_or_plate_sizes():
    spec = spec_of("lambda = 4\ntau = 2 * lambda\nunused = 3\nJ = 3\n"
                   "theta[1..J] ~ Normal(0, tau)\nX ~ Normal(0, lambda)\n")
    assert free_parameters(spec) == ["lambda"]


@pytest.mark.parametrize(("text", "name", "support"), [
    ("s = 2\nX ~ Normal(0, sd=s)", "s", "positive"),          # sd= is s^2: a scale
    ("r = 3\nX ~ Exponential(r)", "r", "positive"),
    ("p = 0.3\nk ~ Binomial(10, p)", "p", "unit"),
    ("n2 = 12\nk ~ Binomial(n2, 0.5)", "n2", "count"),
    ("m = -1\nX ~ Normal(m, 1)", "m", "real"),
    ("m = 2\nX ~ Normal(m + 1, 1)", "m", "real"),               # -2 + 1 is a fine mean
    ("v = 2\nX ~ Normal(0, 3 * v)", "v", "positive"),           # the model refuses -2: positive
])
def test_the_support_is_what_the_laws_do_with_the_parameter(text, name, support):
    assert support_of(spec_of(text), name) == support


def test_a_scale_steps_on_a_log_scale_centred_on_the_cards_value():
    values, scale = slider_values(4.0, "positive")
    middle = values.index(4.0)
    assert scale == "log" and middle == len(values) // 2
    assert values[0] == pytest.approx(0.4) and values[-1] == pytest.approx(40.0)
    ratios = [b / a for a, b in zip(values, values[1:])]
    assert max(ratios) / min(ratios) < 1.02 and values == sorted(set(values))


def test_a_probability_spans_0_to_1_and_a_count_whole_numbers():
    unit, scale = slider_values(0.3, "unit")
    assert (unit[0], unit[-1], scale) == (0.0, 1.0, "linear") and unit[len(unit) // 2] == 0.3
    counts, _ = slider_values(12.0, "count")
    assert counts[0] == 0 and counts[-1] == 24 and all(c == math.floor(c) for c in counts) and 12 in counts


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    vault = tmp_path_factory.mktemp("live") / "vault"
    write(vault, "models.md", MODEL)
    with StudyServer(vault, simulate=True) as server:
        yield server


def find(served, start: str) -> str:
    """The study id of the card whose front starts so (identity as the server's build left it)."""
    built = build(served.vault, Settings(), load_state(served.vault), BuildOptions(simulate=False, read_only=True))
    return next(card_id(c.guid, 1) for c in built.cards if start in c.fields["Front"])


def test_a_model_cards_sliders_and_a_moved_slider_redraws_figure_and_caption(served):
    note = (served.vault / "models.md").read_bytes()
    card = find(served, "marginal variance")
    with served.client() as client:
        data = client.get("api/sliders", params={"card_id": card}).json()
        sliders = {s["name"]: s for s in data["sliders"]}
        assert set(sliders) == {"lambda", "mu", "p"} and data["refit"] is None
        assert (sliders["lambda"]["scale"], sliders["lambda"]["label"]) == ("log", "λ")
        assert sliders["lambda"]["values"][sliders["lambda"]["start"]] == 4.0
        assert sliders["p"]["support"] == "unit"

        moved = client.post("api/redraw", json={"card_id": card, "values": {"lambda": 9.0}}).json()
        assert moved["problems"] == [] and not moved["cached"]
        assert "λ = 9<" in moved["html"] and "check" in moved["html"].lower()
        figure = moved["html"].split('src="')[1].split('"')[0]
        image = client.get(f"media/{figure}")
        assert image.status_code == 200 and image.content.startswith(b"<svg ") and image.headers["content-type"].startswith("image/svg+xml")

        again = client.post("api/redraw", json={"card_id": card, "values": {"lambda": 9.0}}).json()
        assert again["cached"] and again["html"] == moved["html"]
        own = client.post("api/redraw", json={"card_id": card, "values": {}}).json()
        assert own["cached"] and "λ = 4<" in own["html"]       # the export drew it: from the cache
    assert (served.vault / "models.md").read_bytes() == note


def test_a_python_sim_block_gets_no_sliders_and_bad_values_are_said(served):
    with served.client() as client:
        code = client.get("api/sliders", params={"card_id": find(served, "python")}).json()
        assert code["sliders"] == [] and "python sim block" in code["reason"]
        card = find(served, "marginal variance")
        unknown = client.post("api/redraw", json={"card_id": card, "values": {"theta": 1.0}}).json()
        assert unknown["html"] == "" and unknown["problems"] == ["error: theta: not a slider of this card"]
        negative = client.post("api/redraw", json={"card_id": card, "values": {"lambda": -1.0}}).json()
        assert negative["html"] == "" and "variance must be > 0" in negative["problems"][0]
        assert client.post("api/redraw", json={"card_id": card, "values": {"lambda": "x"}}).status_code == 400
        assert client.post("api/redraw", json={"card_id": "nope-1", "values": {}}).status_code == 404


def test_a_fitted_card_refits_with_fewer_draws_and_says_so(served):
    card = find(served, "fitted mean")
    with served.client() as client:
        data = client.get("api/sliders", params={"card_id": card}).json()
        assert [s["name"] for s in data["sliders"]] == ["m0"]
        assert data["refit"].startswith("re-fitted with 2 chains of 400 draws")
        moved = client.post("api/redraw", json={"card_id": card, "values": {"m0": 2.0}}).json()
        assert moved["problems"] == [] and moved["html"] and moved["refit"] == data["refit"]


def test_the_canonical_cards_stated_defaults_get_sliders_and_a_disagreement_stays_in_the_caption(tmp_path):
    from pathlib import Path

    from conftest import SEEDS
    from notecards.study.sliders import redraw, sliders_of

    vault = tmp_path / "vault"
    write(vault, "model.md", next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8"))
    built = build(vault, Settings(), None, BuildOptions(simulate=False, read_only=True))
    text = built.parsed[0].source.text
    [card] = [c for c in built.cards if sliders_of(c, text).sliders]
    found = sliders_of(card, text).sliders
    assert [(s.name, s.value, s.scale) for s in found] == [("lambda", 1.0, "log"), ("sigma", 1.0, "log")]
    moved = redraw(card, text, Path(tmp_path / "sims"), {"lambda": found[0].values[-1]})
    assert moved.html and moved.to_dict()["problems"] == []
    assert any(d.severity == "warning" for d in moved.diagnostics)     # the two forms of X disagree
