"""The catalogue of broken notes, all in one vault: each gives its diagnostic at the right line
and the good cards of the vault (and of the same files) still export."""

from __future__ import annotations

import re

from conftest import import_apkg, run_cli, write

GOOD = "START\nBasic\nGood question\nBack: good answer\nEND\n"

CATALOGUE = {
    # file: (text, line, severity, words the message must contain)
    "missing_end.md": (GOOD + "\nSTART\nBasic\nNo end\nBack: never closed\n", 7, "warning", "END"),
    "start_inside.md": ("START\nBasic\nfirst\nSTART\nBasic\nsecond\nBack: b\nEND\n", 4, "error", "START"),
    "unknown_type.md": ("START\nBasik\nQ\nBack: A\nEND\n" + GOOD, 2, "error", "Basic"),
    "empty_front.md": ("START\nBasic\n\nBack: only a back\nEND\n" + GOOD, 1, "error", "empty"),
    "unknown_field.md": ("START\nBasic\nQ\nBakc: A\nEND\n", 4, "warning", "Back"),
    "cloze_without_cloze.md": ("START\nCloze\nThere is nothing hidden here.\nEND\n" + GOOD, 1, "error", "cloze"),
    "unclosed_math.md": ("START\nBasic\nQ\nBack: text\n$$\nx = 1\nEND\n", 5, "warning", "$$"),
    "missing_embed.md": ("START\nBasic\nQ\nBack:\n![[no such note#part]]\nEND\n", 5, "warning", "no such note"),
    "missing_image.md": ("START\nBasic\nQ ![[nowhere.png]]\nBack: A\nEND\n", 3, "warning", "nowhere.png"),
    # Anki's note ids are signed 64-bit: genanki crashed on 2^63, Python on 5,000 digits
    "id_beyond_anki.md": ("START\nBasic\nQ\nBack: A\n<!--ID: 9223372036854775808-->\nEND\n" + GOOD,
                          5, "warning", "not an Anki note id"),
    "id_of_5000_digits.md": ("START\nBasic\nQ\nBack: A\n<!--ID: " + "7" * 5000 + "-->\nEND\n" + GOOD,
                             5, "warning", "not an Anki note id"),
}


def test_every_broken_note_is_reported_at_its_line_and_the_rest_exports(tmp_path, collection):
    vault = tmp_path / "vault"
    write(vault, "good.md", GOOD)
    for name, (text, *_rest) in CATALOGUE.items():
        write(vault, name, text)
    (vault / "latin1.md").write_bytes(b"START\nBasic\ncaf\xe9\nBack: x\nEND\n")
    (vault / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "out.apkg"
    proc = run_cli("export", vault, "-o", out, "--no-sim")
    assert proc.returncode == 1                      # errors were found …
    lines = proc.stderr.splitlines()
    for name, (_text, line, severity, words) in CATALOGUE.items():
        hits = [l for l in lines if l.startswith(f"{vault.name}/{name}:{line}: {severity}:")
                or re.search(rf"{re.escape(name)}:{line}: {severity}:", l)]
        assert hits, f"{name}: no {severity} at line {line} in\n{proc.stderr}"
        assert any(words.lower() in h.lower() for h in hits), hits
    assert any("latin1.md:3: error:" in l for l in lines)
    assert any("binary.md:1: error:" in l for l in lines)
    log = import_apkg(collection, out)               # … and everything good still exported
    fronts = [collection.get_note(n)["Front"] for n in collection.find_notes("note:*Basic*")]
    assert fronts.count("Good question") == 7        # good.md and the six files that also hold GOOD
    assert fronts.count("Q") == 4                    # with unknown_field.md: impossible IDs make new notes
    assert len(log.new) >= 13


def test_a_bug_while_one_file_is_processed_costs_that_file_only(tmp_path, collection, monkeypatch):
    """A real export with a failure injected into one file's stage (the test hook of
    notecards.faults): one error for that file, every other card exported, no traceback."""
    vault = tmp_path / "vault"
    for name in ("a", "b", "c"):
        write(vault, f"{name}.md", GOOD.replace("Good question", f"question {name}"))
    for stage in ("parse", "render"):
        monkeypatch.setenv("NOTECARDS_INJECT_FAULT", f"{stage}:b.md")
        out = tmp_path / f"{stage}.apkg"
        proc = run_cli("export", vault, "-o", out, "--no-sim")
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.endswith("b.md:1: error: internal error while "
                             f"{'reading' if stage == 'parse' else 'rendering'} this file: InjectedFault: "
                             f"fault injected into {stage} of b.md — please report it; the rest of the vault "
                             "was processed"), line
        assert "2 notes" in proc.stdout
        import_apkg(collection, out)
    monkeypatch.delenv("NOTECARDS_INJECT_FAULT")
    proc = run_cli("export", vault, "-o", tmp_path / "healed.apkg", "--no-sim")   # not cached as broken
    assert proc.returncode == 0 and "3 notes" in proc.stdout, proc.stderr
    fronts = sorted(collection.get_note(n)["Front"] for n in collection.find_notes(""))
    assert fronts == ["question a", "question c"]


def sim_card(*statements: str) -> str:
    return "START\nBasic\nQ\nBack:\n```sim\n" + "\n".join(statements) + "\n```\nEND\n"


SIM_CATALOGUE = {
    # file: (text, line of the statement, severity, words the message must contain)
    "self_reference.md": (sim_card("a ~ Normal(a, 1)"), 6, "error", "itself"),
    "infinite_n.md": (sim_card("x ~ Normal(0, 1)", "n = 1e400"), 7, "error", "n must be a whole number"),
    "nan_seed.md": (sim_card("x ~ Normal(0, 1)", "seed = 0/0"), 7, "error", "seed must be a whole number"),
    "infinite_constant.md": (sim_card("c = 1e308 * 10", "x ~ Normal(c, 1)"), 7, "error", "finite"),
    "check_divides_by_zero.md": (sim_card("x ~ Normal(0, 1)", "check: mean(x) ≈ 1/0"), 7, "error",
                                 "divides by zero"),
    "poisson_beyond_numpy.md": (sim_card("y ~ Poisson(1e30)"), 6, "error", "beyond what numpy can sample"),
    "binomial_beyond_numpy.md": (sim_card("y ~ Binomial(1e30, 0.5)"), 6, "error", "beyond what numpy"),
    "overflowing_draws.md": (sim_card("y ~ LogNormal(1000, 1)", "n = 200"), 6, "warning", "not finite"),
}


def test_numbers_the_code_did_not_expect_are_diagnostics_at_their_statement(tmp_path):
    """inf, NaN, 1/0 and parameters beyond numpy's range: a diagnostic at the statement's line, no
    traceback, no Python exception name, no numpy RuntimeWarning, and the rest still exports."""
    vault = tmp_path / "vault"
    write(vault, "good.md", GOOD)
    for name, (text, *_rest) in SIM_CATALOGUE.items():
        write(vault, name, text)
    proc = run_cli("export", vault, "-o", tmp_path / "out.apkg")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "RuntimeWarning" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    for name, (_text, line, severity, words) in SIM_CATALOGUE.items():
        hits = [l for l in proc.stderr.splitlines() if f"{name}:{line}: {severity}:" in l]
        assert hits and any(words in h for h in hits), f"{name}:{line}\n{proc.stderr}"
        assert not re.search(r"\b\w+(Error|Exception)\b", " ".join(hits)), hits
    assert f"{len(SIM_CATALOGUE) + 1} notes" in proc.stdout
