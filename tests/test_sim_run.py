"""Running cards' simulations: seeds from the model's content, the content-hash cache, the worker pool,
python sim blocks, and the `notecards sim` report."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import time
import sys
import textwrap
from pathlib import Path

import pytest

from notecards.sim.lang import parse_sim
from notecards.sim.model import ModelSpec, Node
from notecards.models.run import ALLOW_CODE_HINT, SimJob, run_simulations, seed_entropy, workers_for

HIERARCHICAL = """\
lambda = 4
sigma = 1
theta ~ Normal(0, lambda)
X ~ Normal(theta, sigma^2)
n = 4000
check: var(X) ≈ lambda + sigma^2
check: mean(X) ≈ 3
"""


def spec_of(text: str = HIERARCHICAL, first_line: int = 11) -> ModelSpec:
    spec, diagnostics = parse_sim(text, "models.md", first_line)
    assert spec is not None, diagnostics
    return spec


def job(key: str = "card-guid-1", text: str = HIERARCHICAL, line: int = 10) -> SimJob:
    return SimJob(key=key, path="models.md", line=line, spec=spec_of(text, line + 1))


def test_a_card_renders_once_then_comes_from_the_cache(tmp_path):
    cold = run_simulations([job()], tmp_path, workers=1)[0]
    assert cold.rendered and len(cold.figures) == 1
    name = cold.figures[0].name
    assert name.startswith("nc-sim-") and name.endswith(".svg") and len(name) == len("nc-sim-.svg") + 20
    assert f'<img src="{name}"' in cold.html
    assert (cold.checks_passed, cold.checks_failed) == (1, 1)
    failed = [d for d in cold.diagnostics if d.line == 17]          # `check: mean(X) ≈ 3` is on line 17
    assert failed and failed[0].severity in ("warning", "error")
    assert (tmp_path / name).is_file() and len(list(tmp_path.glob("*.json"))) == 1

    warm = run_simulations([job()], tmp_path, workers=1)[0]
    assert not warm.rendered
    assert warm.figures[0].data == cold.figures[0].data
    assert (warm.html, warm.diagnostics) == (cold.html, cold.diagnostics)
    assert (warm.checks_passed, warm.checks_failed) == (1, 1)


def test_a_card_moved_down_its_note_keeps_its_cache_and_diagnostics_follow_it(tmp_path):
    cold = run_simulations([job(line=10)], tmp_path, workers=1)[0]
    moved = run_simulations([job(line=30)], tmp_path, workers=1)[0]
    assert not moved.rendered
    assert [d.line - 20 for d in moved.diagnostics] == [d.line for d in cold.diagnostics]


def test_seed_comes_from_the_model_not_the_card_unless_the_model_sets_one(tmp_path):
    a, b, other = run_simulations([job("guid-a"), job("guid-b", line=40),
                                   job("guid-a", HIERARCHICAL.replace("lambda = 4", "lambda = 5"))],
                                  tmp_path, workers=1)
    assert a.figures[0].name == b.figures[0].name                 # same model, two cards: one figure
    assert a.figures[0].data == b.figures[0].data
    assert [d.line - 30 for d in b.diagnostics] == [d.line for d in a.diagnostics]   # each at its own card
    assert other.figures[0].name != a.figures[0].name
    assert seed_entropy(job("guid-a")) == seed_entropy(job("guid-b", line=99))
    seeded = HIERARCHICAL + "seed = 7\n"
    assert seed_entropy(job("guid-a", seeded)) == seed_entropy(job("guid-b", seeded)) == 7


def test_changing_what_shapes_the_figure_renders_again(tmp_path):
    first = run_simulations([job()], tmp_path, workers=1)[0]
    more_draws = run_simulations([job(text=HIERARCHICAL.replace("n = 4000", "n = 5000"))], tmp_path, workers=1)[0]
    other_value = run_simulations([job(text=HIERARCHICAL.replace("lambda = 4", "lambda = 9"))], tmp_path, workers=1)[0]
    assert more_draws.rendered and other_value.rendered
    assert len({first.figures[0].name, more_draws.figures[0].name, other_value.figures[0].name}) == 3


WARM_RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_sim_run import job
    from notecards.models.run import run_simulations
    outcomes = run_simulations([job("k1"), job("k2")], Path({cache!r}), workers=2)
    print(all(not o.rendered for o in outcomes), 'scipy' in sys.modules, 'notecards.sim.sample' in sys.modules)
""")


def test_a_run_served_by_the_cache_neither_imports_scipy_nor_simulates(tmp_path):
    run_simulations([job("k1"), job("k2")], tmp_path, workers=1)
    script = WARM_RUN.format(tests=str(Path(__file__).parent), cache=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False"]


def has_imported_scipy(pid: int) -> bool:
    """Whether the process has loaded scipy's special functions (a C extension the exact marginals
    need, and the largest of a worker's imports), from /proc."""
    try:
        return "scipy/special/_ufuncs" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists() or (os.cpu_count() or 1) < 2, reason="needs Linux /proc, 2 cores")
def test_workers_warm_up_before_their_jobs_come_and_are_not_started_for_one_or_no_missing_figure(tmp_path):
    jobs = [job("w1"), job("w2", HIERARCHICAL.replace("lambda = 4", "lambda = 5"))]
    assert workers_for(jobs[:1], tmp_path, workers=2) is None      # a lone figure is drawn in-process
    before = set(multiprocessing.active_children())
    pool = workers_for(jobs, tmp_path, workers=2)
    assert pool is not None
    try:
        started = [p for p in multiprocessing.active_children() if p not in before]
        assert len(started) == 2                   # a worker per missing figure, up to `workers`
        deadline = time.monotonic() + 120          # a hang guard, not a speed limit
        while not all(has_imported_scipy(p.pid) for p in started):   # no job given yet
            assert time.monotonic() < deadline, "the workers never imported scipy"
            time.sleep(0.05)
        outcomes = run_simulations(jobs, tmp_path, workers=2, pool=pool)
    finally:
        pool.close()
    # gone, not merely signalled: the executor's own thread may reap a worker before Process.join
    # does (then is_alive() can no longer tell), so ask the kernel whether the pid still exists
    deadline = time.monotonic() + 30                 # a hang guard, not a speed limit
    while any(Path(f"/proc/{p.pid}").exists() for p in started):
        assert time.monotonic() < deadline, "a worker outlived close()"
        time.sleep(0.05)
    serial = run_simulations(jobs, tmp_path / "serial", workers=1)
    assert all(o.rendered for o in outcomes)
    assert [o.figures[0].data for o in outcomes] == [o.figures[0].data for o in serial]
    assert workers_for(jobs + [job("w3", line=40)], tmp_path, workers=2) is None   # all cached: nothing starts


def broken_job(key: str) -> SimJob:
    """A model graph no parser would produce: a Normal draw without its arguments."""
    spec = ModelSpec("models.md", 40, nodes={"x": Node("x", "stochastic", 41, dist="Normal", args={})})
    return SimJob(key=key, path="models.md", line=40, spec=spec)


def test_the_pool_renders_many_cards_and_a_broken_one_does_not_stop_the_rest(tmp_path):
    jobs = [job("p1"), broken_job("bad"), job("p2", line=50)]
    outcomes = run_simulations(jobs, tmp_path, workers=2)
    assert [o.key for o in outcomes] == ["p1", "bad", "p2"]
    assert outcomes[0].figures and outcomes[2].figures
    assert not outcomes[1].figures
    [failure] = outcomes[1].diagnostics
    assert (failure.line, failure.severity) == (40, "error") and "simulation failed" in failure.message
    serial = run_simulations([job("p1")], tmp_path / "serial", workers=1)[0]
    assert serial.figures[0].data == outcomes[0].figures[0].data     # same bytes in a worker


PLOT_CODE = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [1, 4, 9])
plt.savefig("curve.png")
"""


def test_python_sim_block_is_skipped_without_permission(tmp_path):
    code_job = SimJob(key="c1", path="code.md", line=7, spec=None, code=PLOT_CODE)
    outcome = run_simulations([code_job], tmp_path)[0]
    assert outcome.figures == [] and outcome.html == ""
    assert [(d.line, d.severity, d.message) for d in outcome.diagnostics] == [(7, "warning", ALLOW_CODE_HINT)]


def test_python_sim_block_figures_come_back_with_content_hash_names(tmp_path):
    code_job = SimJob(key="c1", path="code.md", line=7, spec=None, code=PLOT_CODE)
    outcome = run_simulations([code_job], tmp_path, allow_code=True)[0]
    if any("sandbox" in d.message and "unavailable" in d.message for d in outcome.diagnostics):
        pytest.skip("the sandbox cannot run on this machine")
    assert [d for d in outcome.diagnostics if d.severity == "error"] == []
    assert len(outcome.figures) == 1 and outcome.figures[0].data[:4] == b"\x89PNG"
    assert f'src="{outcome.figures[0].name}"' in outcome.html
    failing = SimJob(key="c2", path="code.md", line=20, spec=None, code="raise SystemExit('no data')\n")
    bad = run_simulations([failing], tmp_path, allow_code=True)[0]
    assert any(d.severity == "error" and d.line == 20 for d in bad.diagnostics)


def test_report_states_the_model_values_summaries_and_checks():
    from notecards.sim_report import report_json, report_text
    from notecards.sim.sample import simulate

    spec = spec_of()
    result, _ = simulate(spec, 123)
    text = report_text(spec, result)
    assert "theta ~ Normal(mean 0, var lambda)" in text
    assert "X ~ Normal(mean theta, var sigma^2)" in text
    assert "lambda = 4" in text and "N(0, 5)" in text
    assert "FAILED: mean(X) ≈ 3" in text and "passed: var(X) ≈ lambda + sigma^2" in text
    data = json.loads(json.dumps(report_json(spec, result)))
    assert data["summaries"]["X"]["exact"] == "N(0, 5)"
    assert abs(data["summaries"]["X"]["mean"]) < 4 * (5 / spec.n) ** 0.5
    assert [c["passed"] for c in data["checks"]] == [True, False]


def test_sim_command_reports_the_card_at_a_line_and_writes_its_figure(tmp_path):
    from notecards.config import Settings
    from notecards.sim_report import run_sim_command

    note = tmp_path / "hierarchical model.md"
    note.write_text("# hierarchical model\n\nSTART\nBasic\nWhat does shrinkage do?\nBack: it pulls theta to 0\n"
                    "```sim\n" + HIERARCHICAL + "```\n<!--ID: 1752652160588-->\nEND\n", encoding="utf-8")
    out = tmp_path / "figures"
    text, status = run_sim_command(note, 5, out, False, Settings())
    assert status == 1                                                  # `mean(X) ≈ 3` fails
    assert "theta ~ Normal(mean 0, var lambda)" in text and "FAILED: mean(X) ≈ 3" in text
    [figure] = list(out.glob("nc-sim-*.svg"))
    assert f"figure: {figure}" in text
    data, status = run_sim_command(note, None, out, True, Settings())
    cards = json.loads(data)["cards"]
    assert [c["model"]["checks"][1]["passed"] for c in cards] == [False]
    assert run_sim_command(note, 1, out, False, Settings())[1] == 2   # no card on line 1


def _package_media(apkg: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(apkg) as z:
        return {name: z.read(number) for number, name in json.loads(z.read("media")).items()}


def test_changing_lambda_in_one_card_renders_that_card_only_and_ships_no_stale_figure(tmp_path):
    from conftest import run_cli, write

    sim_card = ("START\nBasic\nVar(X) in the normal-normal model?\nBack: lambda plus one.\n```sim\n"
                "lambda = 4\ntheta ~ Normal(0, lambda)\nX ~ Normal(theta, 1)\nn = 2000\n"
                "check: var(X) ≈ lambda + 1\n```\nEND\n\n")
    latex_card = ("START\nBasic\nWhat does the card's own math say?\n"
                  "Back: $$\\theta \\sim \\mathcal{N}(0, \\lambda) \\\\ X \\sim \\mathcal{N}(\\theta, \\sigma^2)$$\n"
                  "END\n")
    vault = tmp_path / "vault"
    note = write(vault, "models.md", "TARGET DECK: Models\n\n" + sim_card + latex_card)
    cold = run_cli("export", vault, "-o", tmp_path / "cold.apkg", check=True)
    assert "2 model cards, 2 figures rendered, 0 reused, checks 1 passed, 0 failed" in cold.stdout
    note.write_text(note.read_text(encoding="utf-8").replace("lambda = 4", "lambda = 9"), encoding="utf-8")
    edited = run_cli("export", vault, "-o", tmp_path / "edited.apkg", check=True)
    assert "2 model cards, 1 figure rendered, 1 reused, checks 1 passed, 0 failed" in edited.stdout
    before, after = _package_media(tmp_path / "cold.apkg"), _package_media(tmp_path / "edited.apkg")
    assert len(before) == len(after) == 2                     # the λ = 4 figure is not shipped again
    assert len(set(before) & set(after)) == 1                 # the LaTeX card's figure is the same file
    [kept] = set(before) & set(after)
    assert before[kept] == after[kept]
