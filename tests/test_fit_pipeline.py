"""Cards whose model has data are fitted, through the same export, cache and pool as simulations:
figures in the package, the posterior table with R-hat and ESS on the card, convergence warnings
on the card that has them, and the `notecards sim --json` report. Small draws keep these fast;
the sampler's correctness is tested in test_infer_*."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli, write
from notecards.config import Settings
from notecards.infer import fit
from notecards.parse import parse_file
from notecards.sim.expr import MAX_ELEMENTS
from notecards.models.find import FitOptions, find_model
from notecards.sim.lang import parse_sim
from notecards.models.run import SimJob, cache_key, run_simulations
from notecards.vault import read_source

SCORES = {"Lincoln": [72, 65, 80, 70, 68, 77], "Hillside": [58, 62, 55, 60], "Riverside": [85, 88, 90, 82, 86]}
TABLE = "| student | school | score |\n| --- | --- | --- |\n" + "".join(
    f"| {k} | {school} | {score} |\n"
    for k, (school, score) in enumerate(((s, v) for s, vs in SCORES.items() for v in vs), start=1))

TWO_LEVEL = """\
mu ~ Normal(70, 400)
tau ~ HalfCauchy(10)
sigma2 ~ InverseGamma(2, 100)
theta[1..J] ~ Normal(mu, tau^2)
score[i] ~ Normal(theta[school[i]], sigma2)
"""


def card(question: str, sim: str, back: str = "See the figures.") -> str:
    return f"START\nBasic\n{question}\nBack: {back}\n```sim\n{sim}```\nEND\n\n"


NOTE = ("TARGET DECK: Fits\n\n# Scores\n\n" + TABLE + "\n"
        + card("How much do the school means shrink?", TWO_LEVEL + "draws = 300\nwarmup = 200\n")
        + card("What does a fit far too short look like?", TWO_LEVEL + "warmup = 0\ndraws = 8\n")
        + card("Var(X) in the normal-normal model?",
               "lambda = 4\ntheta ~ Normal(0, lambda)\nX ~ Normal(theta, 1)\nn = 2000\n"
               "check: var(X) ≈ lambda + 1\n"))


def card_lines(text: str, question: str) -> range:
    lines = text.split("\n")
    start = next(k for k, line in enumerate(lines, 1) if line == question)
    end = next(k for k, line in enumerate(lines, 1) if k > start and line == "END")
    return range(start, end + 1)


def package_notes(apkg: Path, tmp_path: Path) -> tuple[list[str], dict[str, bytes]]:
    """The notes' fields and the media (by file name) of an exported package."""
    with zipfile.ZipFile(apkg) as z:
        names = json.loads(z.read("media"))
        media = {name: z.read(number) for number, name in names.items()}
        db = tmp_path / "collection.anki2"
        db.write_bytes(z.read("collection.anki2"))
    with sqlite3.connect(db) as con:
        fields = [row[0] for row in con.execute("select flds from notes order by id")]
    return fields, media


WARM_EXPORT = textwrap.dedent("""
    import sys
    from notecards.cli import main
    status = main(["export", {vault!r}, "-o", {out!r}, "-q"])
    print(status, 'matplotlib' in sys.modules)
""")


def test_export_fits_the_card_with_data_and_a_second_export_renders_nothing(tmp_path):
    vault = tmp_path / "vault"
    write(vault, "scores.md", NOTE)
    cold = run_cli("export", vault, "-o", tmp_path / "cold.apkg")
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "0 errors" in cold.stdout and "3 model cards" in cold.stdout

    fields, media = package_notes(tmp_path / "cold.apkg", tmp_path)
    fitted = next(f for f in fields if "How much do the school means shrink?" in f)
    for kind in ("posterior", "shrinkage", "trace", "ppc"):
        [name] = re.findall(rf'src="(nc-fit-{kind}-[0-9a-f]{{20}}\.svg)"', fitted)
        assert media[name].startswith(b"<svg ")
    assert "R-hat" in fitted and "ESS" in fitted
    assert "4 chains × 300 draws after 200 warmup" in fitted
    forward = next(f for f in fields if "Var(X)" in f)
    assert re.search(r'src="nc-sim-[0-9a-f]{20}\.svg"', forward) and "nc-fit" not in forward

    # the export as a user runs it again: nothing rendered
    again = run_cli("export", vault, "-o", tmp_path / "again.apkg")
    assert "0 figures rendered" in again.stdout
    # without the file cache, every card goes through the model stage and the sim cache serves it
    (vault / ".notecards" / "cache.sqlite").unlink()
    script = WARM_EXPORT.format(vault=str(vault), out=str(tmp_path / "warm.apkg"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False"]
    _, warm_media = package_notes(tmp_path / "warm.apkg", tmp_path)
    assert warm_media == media


def test_a_fit_too_short_to_converge_is_a_warning_on_its_card_and_the_rest_exports(tmp_path):
    vault = tmp_path / "vault"
    path = write(vault, "scores.md", NOTE)
    result = run_cli("export", vault, "-o", tmp_path / "out.apkg")
    assert result.returncode == 0 and "0 errors" in result.stdout
    short = card_lines(NOTE, "What does a fit far too short look like?")
    warnings = [(int(m[1]), m[2]) for m in re.finditer(rf"{re.escape(path.name)}:(\d+): warning: (.*)",
                                                        result.stdout + result.stderr)]
    assert warnings and all(line in short for line, _ in warnings)
    assert any("effective sample size" in message for _, message in warnings)
    fields, media = package_notes(tmp_path / "out.apkg", tmp_path)
    shown = next(f for f in fields if "far too short" in f)
    assert "effective sample size" in shown and "nc-fit-posterior-" in shown     # warned, still shown
    assert sum(name.startswith("nc-fit-posterior-") for name in media) == 2


def fitted_jobs() -> list[SimJob]:
    text = "y = [28, 8, -3, 7, -1, 1, 18, 12]\ns = [15, 10, 16, 11, 9, 11, 10, 18]\nJ = 8\n" \
           "mu ~ Normal(0, 100)\ntau ~ HalfCauchy(5)\ntheta[1..J] ~ Normal(mu, tau^2)\n" \
           "y[j] ~ Normal(theta[j], s[j]^2)\n"
    spec, _ = parse_sim(text, "schools.md", 5)
    small = FitOptions(chains=2, draws=200, warmup=100)
    return [SimJob("guid-mcmc", "schools.md", 4, spec, fit=small),
            SimJob("guid-eb", "schools.md", 4, spec, fit=FitOptions(method="empirical_bayes", draws=200))]


def test_fits_are_deterministic_in_the_pool_and_cached(tmp_path):
    pooled = run_simulations(fitted_jobs(), tmp_path / "pool", workers=2)
    serial = run_simulations(fitted_jobs(), tmp_path / "serial", workers=1)
    assert [[(f.name, f.data) for f in o.figures] for o in pooled] == \
           [[(f.name, f.data) for f in o.figures] for o in serial]
    assert pooled[0].html == serial[0].html and "R-hat" in pooled[0].html
    assert "empirical Bayes" in pooled[1].html and pooled[0].figures[0].name != pooled[1].figures[0].name
    warm = run_simulations(fitted_jobs(), tmp_path / "pool", workers=2)
    assert not any(o.rendered for o in warm)
    assert [(o.html, o.diagnostics) for o in warm] == [(o.html, o.diagnostics) for o in pooled]
    # another fit option is another figure, not a stale one
    more = fitted_jobs()[0]
    more.fit = FitOptions(chains=2, draws=250, warmup=100)
    assert run_simulations([more], tmp_path / "pool", workers=1)[0].rendered


def model_of(tmp_path: Path, text: str, question: str):
    path = write(tmp_path, "note.md", text)
    source = read_source(tmp_path, path.name, [])
    block = next(b for b in parse_file(source, Settings()).blocks if question in b.fields["Front"])
    return find_model(block, source.text)


def test_table_columns_bind_by_name_and_fit_options_are_read(tmp_path):
    sim = TWO_LEVEL + "fit = empirical_bayes   # hyperparameters by marginal likelihood\nchains = 3\n" \
                      "warmup = 50\ndraws = 400\n"
    model, diagnostics = model_of(tmp_path, TABLE + "\n" + card("Q?", sim), "Q?")
    assert diagnostics == []
    assert model.fit == FitOptions(method="empirical_bayes", chains=3, draws=400, warmup=50)
    scores = [v for vs in SCORES.values() for v in vs]
    np.testing.assert_array_equal(model.spec.nodes["score"].observed, scores)
    np.testing.assert_array_equal(model.spec.nodes["school"].value, [1] * 6 + [2] * 4 + [3] * 5)
    assert model.spec.nodes["J"].value == 3 and model.spec.nodes["I"].value == 15


def test_fit_options_that_are_wrong_or_unused_say_so_at_their_line(tmp_path):
    text = TABLE + "\n" + card("Bad?", TWO_LEVEL + "chains = 0\nfit = gibbs\n")
    model, diagnostics = model_of(tmp_path, text, "Bad?")
    lines = text.split("\n")
    assert model is None
    assert [(d.line, d.severity) for d in diagnostics] == [
        (lines.index("chains = 0") + 1, "error"), (lines.index("fit = gibbs") + 1, "error")]
    assert "expected mcmc, empirical_bayes or prior" in diagnostics[1].message

    text = TABLE + "\n" + card("Check?", TWO_LEVEL + "check: mean(mu) ≈ 70\n")
    model, diagnostics = model_of(tmp_path, text, "Check?")
    assert model.fit == FitOptions()
    [warning] = diagnostics
    assert warning.severity == "warning" and warning.line == text.split("\n").index("check: mean(mu) ≈ 70") + 1

    model, diagnostics = model_of(tmp_path, TABLE + "\n" + card("Prior?", TWO_LEVEL + "fit = prior\n"), "Prior?")
    assert model.fit is None and model.spec is not None and diagnostics == []

    text = card("No data?", "theta ~ Normal(0, 1)\nfit = mcmc\n")
    model, diagnostics = model_of(tmp_path, text, "No data?")
    assert model.fit is None
    assert [(d.line, d.severity) for d in diagnostics] == [(text.split("\n").index("fit = mcmc") + 1, "warning")]


def many_groups(groups: int = 100, per_group: int = 50, observed: bool = True) -> str:
    rng = np.random.default_rng(3)
    school = np.repeat(np.arange(1, groups + 1), per_group)
    y = np.round(70 + 5 * rng.standard_normal(groups)[school - 1] + 10 * rng.standard_normal(school.size), 1)
    data = f"y = {y.tolist()}\n" if observed else ""
    return (f"{data}school = {school.tolist()}\nI = {y.size}\nJ = {groups}\n"
            "mu ~ Normal(0, 10000)\ntau ~ HalfCauchy(10)\nsigma2 ~ InverseGamma(0.01, 0.01)\n"
            "theta[1..J] ~ Normal(mu, tau^2)\ny[i] ~ Normal(theta[school[i]], sigma2)\n")


def test_the_element_budget_counts_data_once_and_draws_as_allocated():
    # 100 groups × 50 observations: the fit keeps 4 × 2000 × 103 values, the data count once
    spec, diagnostics = parse_sim(many_groups(), "big.md", 1)
    assert spec is not None, diagnostics
    assert spec.n * 5000 > MAX_ELEMENTS                    # what the old budget counted
    # the same model without data is drawn forward: 10,000 × 5,103 values are still too many
    spec_forward, diagnostics = parse_sim(many_groups(observed=False), "big.md", 1)
    assert spec_forward is None
    assert any("too many values to simulate" in d.message for d in diagnostics)
    # the fit bounds what it keeps before allocating it
    too_many = fit(spec, 1, chains=4, draws=MAX_ELEMENTS // 400)
    assert not too_many.ok
    assert [d.severity for d in too_many.diagnostics] == ["warning"]
    assert "too many values to keep" in too_many.diagnostics[0].message


@pytest.fixture
def scores_note(tmp_path) -> Path:
    return write(tmp_path, "scores.md", TABLE + "\n" + card(
        "Fit it?", TWO_LEVEL + "draws = 500\nwarmup = 300\n") + "<!--ID: 1752652160588-->\n")


def test_sim_command_reports_posterior_summaries_and_samplers(scores_note, tmp_path):
    line = scores_note.read_text().split("\n").index("Fit it?") + 1
    done = run_cli("sim", f"{scores_note}:{line}", "--json", "-o", tmp_path / "figs")
    assert done.returncode == 0, done.stdout + done.stderr
    [report] = json.loads(done.stdout)["cards"]
    fitted = report["model"]["fit"]
    assert set(fitted["params"]) == {"mu", "tau", "sigma2", "theta[1]", "theta[2]", "theta[3]"}
    for p in fitted["params"].values():
        assert set(p) >= {"mean", "sd", "q5", "q50", "q95", "rhat", "ess"}
        assert p["q5"] < p["q50"] < p["q95"] and p["sd"] > 0 and p["rhat"] < 1.05 and p["ess"] > 100
    assert set(fitted["samplers"]) == {"mu", "tau", "sigma2", "theta"}
    assert "slice" in fitted["samplers"]["tau"] and "gibbs" in fitted["samplers"]["sigma2"]
    assert (fitted["chains"], fitted["draws"], fitted["warmup"]) == (4, 500, 300)
    # partial pooling: the lowest and highest schools are pulled towards the grand mean
    grand = np.mean([v for vs in SCORES.values() for v in vs])
    for k in (2, 3):
        raw, post = np.mean(list(SCORES.values())[k - 1]), fitted["params"][f"theta[{k}]"]["mean"]
        assert min(raw, grand) < post < max(raw, grand)
    assert sorted(Path(p).name.split("-")[2] for p in report["figures"]) == ["posterior", "ppc", "shrinkage",
                                                                            "trace"]

    text = run_cli("sim", f"{scores_note}:{line}", "-o", tmp_path / "figs")
    assert text.returncode == 0
    assert re.search(r"mean\s+sd\s+5%\s+50%\s+95%\s+R-hat\s+ESS", text.stdout)
    mu = fitted["params"]["mu"]
    assert re.search(rf"\n  mu\s+{mu['mean']:.4g}\s+{mu['sd']:.4g}\s", text.stdout)
    assert re.search(r"\n  tau\s+slice", text.stdout) and "fitted to its data" in text.stdout


def test_groups_named_in_the_table_are_named_in_the_json_and_keep_their_numbers(scores_note, tmp_path):
    line = scores_note.read_text().split("\n").index("Fit it?") + 1
    done = run_cli("sim", f"{scores_note}:{line}", "--json", "-o", tmp_path / "figs")
    assert done.returncode == 0, done.stdout + done.stderr
    params = json.loads(done.stdout)["cards"][0]["model"]["fit"]["params"]
    assert {name: p["label"] for name, p in params.items() if "label" in p} == {
        "theta[1]": "Lincoln", "theta[2]": "Hillside", "theta[3]": "Riverside"}
    # the label names the group whose data it is: Riverside's scores are the highest
    assert max(("theta[1]", "theta[2]", "theta[3]"), key=lambda n: params[n]["mean"]) == "theta[3]"


SCHOOL_PLATE = """\
mu ~ Normal(70, 400)
tau2 ~ InverseGamma(2, 50)
theta[1..J] ~ Normal(mu, tau2)
sigma2[1..J] ~ InverseGamma(3, 200)
score[i] ~ Normal(theta[school[i]], sigma2[school[i]])
draws = 200
warmup = 100
"""


NUMBERED = TABLE.replace("Lincoln", "1").replace("Hillside", "2").replace("Riverside", "3")


def fitted_caption(tmp_path: Path, table: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The caption and figures of SCHOOL_PLATE fitted to the table (numbered groups set J)."""
    from notecards.infer.figures import fit_caption_html, fit_figures

    sim = SCHOOL_PLATE if table != NUMBERED else "J = 3\n" + SCHOOL_PLATE
    model, diagnostics = model_of(tmp_path, table + "\n" + card("Q?", sim), "Q?")
    assert diagnostics == []
    result = fit(model.spec, 5, chains=2, draws=model.fit.draws, warmup=model.fit.warmup)
    return fit_caption_html(model.spec, result), fit_figures(model.spec, result)


def test_every_parameter_over_a_labelled_plate_is_shown_by_its_group_in_the_caption(tmp_path):
    caption, figures = fitted_caption(tmp_path, TABLE)
    posterior = caption.split("nc-fit-convergence")[0]           # the student's table; R-hat/ESS folded
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>", posterior)
    assert rows == ["μ", "τ²", "θ[Lincoln]", "θ[Hillside]", "θ[Riverside]",
                    "σ²[Lincoln]", "σ²[Hillside]", "σ²[Riverside]"]
    again_caption, again = fitted_caption(tmp_path, TABLE)
    assert (again_caption, again) == (caption, figures)          # labelled figures stay deterministic
    _, numbered = fitted_caption(tmp_path, NUMBERED)
    assert dict(numbered)["shrinkage"] != dict(figures)["shrinkage"]     # the names are drawn


def test_numeric_groups_keep_their_numbers(tmp_path):
    caption, _ = fitted_caption(tmp_path, NUMBERED)
    assert re.findall(r"<tr><td[^>]*>(θ\[[^<]*)</td>", caption.split("nc-fit-convergence")[0]) == ["θ[1]", "θ[2]", "θ[3]"]
    model, _ = model_of(tmp_path, NUMBERED + "\n" + card("Q?", "J = 3\n" + SCHOOL_PLATE), "Q?")
    result = fit(model.spec, 5, chains=2, draws=50, warmup=20)
    assert result.labels == {} and all("label" not in p for p in result.to_dict()["params"].values())


def test_renaming_a_group_changes_the_cache_key_so_the_card_is_redrawn(tmp_path):
    def key(table: str) -> str:
        model, _ = model_of(tmp_path, table + "\n" + card("Q?", SCHOOL_PLATE), "Q?")
        return cache_key(SimJob("guid", "note.md", 1, model.spec, fit=model.fit), {}, None)

    assert key(TABLE) == key(TABLE)
    assert key(TABLE) != key(TABLE.replace("Hillside", "Hillcrest"))


def test_a_plate_indexed_by_two_columns_with_different_labels_keeps_its_numbers():
    from notecards.infer.tables import parse_with_tables

    note = ("| school | district | score |\n| --- | --- | --- |\n| Lincoln | North | 70 |\n"
            "| Hillside | South | 60 |\n| Lincoln | North | 72 |\n")
    sim = ("J = 2\na[1..J] ~ Normal(35, 100)\nb[1..J] ~ Normal(35, 100)\n"
           "score[i] ~ Normal(a[school[i]] + b[district[i]], 25)\n")
    spec, diagnostics, _ = parse_with_tables(sim, note, "note.md", 10)
    assert spec is not None, diagnostics
    result = fit(spec, 1, chains=2, draws=50, warmup=20)
    assert result.ok and set(result.params) == {"a[1]", "a[2]", "b[1]", "b[2]"}
    assert result.labels == {}
