"""Optimize: FSRS parameters fitted to a person's own history (fsrs-rs), kept only when they
predict it better, saved as `[study] parameters` with every other byte of notecards.toml kept."""

from __future__ import annotations

import json
import random
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fsrs import Card, Rating, Scheduler

from conftest import run_cli, write
from notecards.study.engine import Study
from notecards.study.events import card_id, format_time
from notecards.study.optimize import Fit, NotEnoughReviews, optimize_parameters, with_parameters

START = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
TOML = '# my study settings\n\n[study]\ndesired_retention = 0.85   # fewer reviews\ndevice = "laptop"\n'
# a learner who forgets much faster than FSRS's defaults assume: initial stabilities a fifth
FORGETFUL = (0.05, 0.25, 0.45, 1.6, *Scheduler().parameters[4:])


def _vault(tmp_path: Path, cards: int) -> tuple[Path, list[str]]:
    vault = tmp_path / "notes"
    write(vault, "n.md", "".join(f"START\nBasic\nQuestion {i}\nBack: answer {i}\nEND\n\n" for i in range(cards)))
    write(vault, "notecards.toml", TOML)
    study = Study.open(vault, device="laptop", simulate=False, tz=timezone.utc)
    ids = sorted(study.faces)
    study.close()
    return vault, ids


def _studied_by_a_forgetful_learner(vault: Path, cards: list[str], per_card: int, seed: int = 11) -> int:
    """A history as a person whose memory follows FORGETFUL gives it, studying on the due dates
    that FSRS's defaults set: recalled with the true retrievability, else Again. Written as a
    device's file; returns the number of answers."""
    rng = random.Random(seed)
    shown, memory = Scheduler(enable_fuzzing=False), Scheduler(parameters=FORGETFUL, enable_fuzzing=False)
    lines, n = [], 0
    for cid in cards:
        guid, ordinal = bytes.fromhex(cid.rpartition("-")[0]).decode(), int(cid.rpartition("-")[2])
        due_card, true_card = Card(), Card()
        when = START + timedelta(minutes=rng.randrange(60 * 24 * 20))
        for k in range(per_card):
            if when > START + timedelta(days=600):          # a history that ends in the past
                break
            recalled = k > 0 and rng.random() < memory.get_card_retrievability(true_card, when)
            rating = Rating(rng.choice((2, 3, 3, 3, 4))) if recalled or k == 0 else Rating.Again
            due_card, _ = shown.review_card(due_card, rating, when)
            true_card, _ = memory.review_card(true_card, rating, when)
            n += 1
            lines.append(json.dumps({"id": f"tablet:{n}", "type": "review", "time": format_time(when), "guid": guid,
                                     "ord": ordinal, "rating": int(rating), "ms": 3000}, separators=(",", ":")))
            when = max(due_card.due, when + timedelta(minutes=1)) + timedelta(minutes=rng.randrange(240))
    write(vault, "study-history/tablet.jsonl", "\n".join(lines) + "\n")
    return n


def test_parameters_fitted_to_a_forgetful_learner_predict_them_better_and_are_saved(tmp_path):
    vault, cards = _vault(tmp_path, 120)
    answers = _studied_by_a_forgetful_learner(vault, cards, per_card=12)

    result = optimize_parameters(vault, device="laptop")

    assert result.reviews == answers and result.items > 500
    assert result.after.log_loss < result.before.log_loss and result.after.rmse < result.before.rmse
    assert result.kept and result.saved
    text = (vault / "notecards.toml").read_text()
    assert text == TOML.replace("[study]\n", f"[study]\nparameters = [{', '.join(map(repr, result.parameters))}]\n")
    assert tomllib.loads(text)["study"]["parameters"] == result.parameters
    defaults = Scheduler().parameters
    assert all(result.parameters[i] < defaults[i] for i in (1, 2, 3))   # first stabilities: forgets faster

    study = Study.open(vault, device="laptop", simulate=False, tz=timezone.utc)
    assert not [d for d in study.diagnostics if "notecards.toml" in d.path]
    assert study.replay.schedule.fsrs.parameters == tuple(result.parameters)   # every device schedules with them
    study.close()

    again = optimize_parameters(vault, device="laptop", save=False)
    # the saved parameters are the ones in use (fsrs-rs sums in float32 over threads: to 1e-6)
    assert vars(again.before) == pytest.approx(vars(result.after), rel=1e-6)
    assert (vault / "notecards.toml").read_text() == text


def test_too_short_a_history_is_said_and_changes_nothing(tmp_path):
    vault, cards = _vault(tmp_path, 20)
    answers = _studied_by_a_forgetful_learner(vault, cards, per_card=10)
    with pytest.raises(NotEnoughReviews, match=f"^{answers} reviews can be used.*about 1000"):
        optimize_parameters(vault, device="laptop")
    proc = run_cli("history", "optimize", vault)
    assert proc.returncode == 1 and "FSRS needs about 1000" in proc.stderr and "Traceback" not in proc.stderr
    assert (vault / "notecards.toml").read_text() == TOML


def test_the_cli_reports_log_loss_and_rmse_before_and_after(tmp_path):
    vault, cards = _vault(tmp_path, 130)
    answers = _studied_by_a_forgetful_learner(vault, cards, per_card=12, seed=5)
    proc = run_cli("history", "optimize", vault, "--dry-run", check=True)
    assert f"fitted on {answers} reviews" in proc.stdout and "log loss" in proc.stdout and "RMSE" in proc.stdout
    assert "--dry-run: notecards.toml unchanged" in proc.stdout
    assert (vault / "notecards.toml").read_text() == TOML


def test_new_parameters_are_kept_only_when_both_measures_are_no_worse():
    assert Fit(0.30, 0.05).better_than(Fit(0.35, 0.05))
    assert not Fit(0.30, 0.06).better_than(Fit(0.35, 0.05))     # lower log loss, worse calibration
    assert not Fit(0.35, 0.04).better_than(Fit(0.35, 0.05))


@pytest.mark.parametrize("before, after", [
    ("", "[study]\nparameters = [0.5, 1.0]\n"),
    ("a = 1", "a = 1\n\n[study]\nparameters = [0.5, 1.0]\n"),
    ("[study]  # mine\n  parameters = [1,\n 2]  # old ones\nx = 1\n[y]\n",
     "[study]  # mine\n  parameters = [0.5, 1.0]  # old ones\nx = 1\n[y]\n"),
    ("[other]\nparameters = [3]\n[study]\nx = 1", "[other]\nparameters = [3]\n[study]\nparameters = [0.5, 1.0]\nx = 1"),
])
def test_only_the_parameters_key_changes(before, after):
    assert with_parameters(before, [0.5, 1.0]) == after


def test_bad_parameters_in_notecards_toml_are_an_error_and_the_defaults_schedule(tmp_path):
    vault, _ = _vault(tmp_path, 1)
    write(vault, "notecards.toml", "[study]\nparameters = [1.0, 2.0]\n")
    study = Study.open(vault, device="laptop", simulate=False, tz=timezone.utc)
    assert [d.line for d in study.diagnostics if "[study] parameters must be" in d.message] == [2]
    assert study.replay.schedule.fsrs.parameters == Scheduler().parameters
    study.close()
