"""The command line as a user meets it: the shipped vault, the seeds, bad input, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO, SEEDS, import_apkg, run_cli, write


def test_shipped_vault_exports_with_a_summary(tmp_path, collection):
    vault = tmp_path / "notes"
    shutil.copytree(REPO / "notes", vault)
    out = tmp_path / "notes.apkg"
    proc = run_cli("export", vault, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "files" in proc.stdout and "notes (" in proc.stdout and "wrote" in proc.stdout
    assert "error" not in proc.stderr
    log = import_apkg(collection, out)
    assert len(log.new) >= 10
    names = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"Statistics::Hierarchical models", "Statistics::Conjugacy"} <= names
    media = zipfile.ZipFile(out).read("media").decode()
    assert ".svg" in media                  # the model cards' figures


def test_default_output_is_output_slash_vault_name(tmp_path):
    """As in the README: a vault named relative to the working folder."""
    vault = tmp_path / "myvault"
    write(vault, "a.md", "START\nBasic\nQ\nBack: A\nEND\n")
    for command in ("export", "check", "export"):   # the second export reads the cache
        proc = run_cli(command, "myvault/", "--no-sim", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "output" / "myvault.apkg").is_file()


def test_check_writes_nothing(tmp_path):
    vault = tmp_path / "v"
    note = write(vault, "a.md", "START\nBasic\nQ\nBack:\n```sim\nx ~ Normal(0, 1)\n```\nEND\n")
    before = note.read_bytes(), note.stat().st_mtime_ns
    proc = run_cli("check", vault, cwd=tmp_path)
    assert proc.returncode == 0
    assert "1 file, 1 note (1 card)" in proc.stdout and "1 figure rendered" in proc.stdout
    assert sorted(p.name for p in vault.iterdir()) == ["a.md"]
    assert (note.read_bytes(), note.stat().st_mtime_ns) == before
    assert not (tmp_path / "output").exists()


def test_check_uses_what_export_cached_without_changing_it(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic\nQ\nBack: A ![[missing.png]]\nEND\n")
    run_cli("export", vault, "-o", tmp_path / "o.apkg", "--no-sim", check=True)
    state = {p.name: p.read_bytes() for p in (vault / ".notecards").iterdir() if p.is_file()}
    proc = run_cli("check", vault, "--no-sim")
    assert "a.md:4: warning:" in proc.stderr          # cached diagnostics are still reported
    assert {p.name: p.read_bytes() for p in (vault / ".notecards").iterdir() if p.is_file()} == state


@pytest.fixture
def seeds_vault(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip("shared seeds not present")
    vault = tmp_path / "seeds"
    shutil.copytree(SEEDS, vault)
    return vault


def test_seed_000_as_a_vault_gives_its_card_with_warnings_at_the_right_lines(seeds_vault, tmp_path, collection):
    out = tmp_path / "seeds.apkg"
    proc = run_cli("export", seeds_vault, "--ext", ".txt", "-o", out, "--no-sim")
    assert proc.returncode == 0, proc.stderr
    # the embed of a note missing from the vault and seed 004's missing image, both in prose: no card is affected
    assert "000_2a68b4ef0f7bcf07.txt:37: info:" in proc.stderr
    assert "004_ffe18ab55ae4ec47.txt:49: info:" in proc.stderr
    assert ": error:" not in proc.stderr
    log = import_apkg(collection, out)
    assert len(log.new) == 1
    note = collection.get_note(collection.find_notes("")[0])
    assert sorted(note.tags) == sorted(["mathematics", "statistics", "SS25"])
    assert "hierarchical model" in note["Front"] and "<li>definition</li>" in note["Front"]
    back = note["Back"]
    assert back.count("\\begin{split}") == 3
    assert "\\theta &amp;\\sim \\mathcal{N}(0, \\lambda) \\\\" in back
    assert "X = \\theta + \\epsilon, \\epsilon &amp;\\sim \\mathcal{N}(\\theta, \\sigma^2)" in back
    assert "(X, \\theta) \\sim \\mathcal{M}(\\lambda)" in back


def test_seed_named_on_the_command_line_is_read_as_markdown(seeds_vault, tmp_path):
    out = tmp_path / "one.apkg"
    proc = run_cli("export", seeds_vault / "000_2a68b4ef0f7bcf07.txt", "-o", out, "--no-sim")
    assert proc.returncode == 0, proc.stderr
    assert "1 file, 1 note (1 card)" in proc.stdout


def test_bad_files_are_diagnosed_and_the_rest_exports(tmp_path):
    vault = tmp_path / "v"
    write(vault, "good.md", "START\nBasic\nQ\nBack: A\nEND\n")
    (vault / "latin1.md").write_bytes("START\nBasic\ncaf\xe9\nBack: x\nEND\n".encode("latin-1"))
    (vault / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(range(256)))
    big = "".join(f"line {i} with some words and $x_{i}$\n" for i in range(140_000))
    write(vault, "big.md", big + "START\nBasic\nbig Q\nBack: big A\nEND\n")
    assert (vault / "big.md").stat().st_size > 5_000_000
    proc = run_cli("export", vault, "-o", tmp_path / "o.apkg", "--no-sim")
    assert proc.returncode == 1
    assert "latin1.md:3: error: file is not valid UTF-8" in proc.stderr
    assert "binary.md:1: error:" in proc.stderr and "binary" in proc.stderr
    assert "2 cards" in proc.stdout      # good.md and the 5 MB note


def test_empty_vault_is_not_an_error(tmp_path):
    vault = tmp_path / "empty"
    vault.mkdir()
    proc = run_cli("export", vault, "-o", tmp_path / "e.apkg", "--no-sim")
    assert proc.returncode == 0, proc.stderr
    assert "0 files, 0 notes (0 cards)" in proc.stdout


def test_bad_usage_exits_2(tmp_path):
    assert run_cli("export", tmp_path / "nope").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_strict_turns_warnings_into_failure(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic\nQ ![[missing.png]]\nBack: A\nEND\n")
    assert run_cli("check", vault, "--no-sim").returncode == 0
    assert run_cli("check", vault, "--no-sim", "--strict").returncode == 1


def test_python_module_and_console_script_agree(tmp_path):
    exe = shutil.which("notecards")
    if exe is None:
        pytest.skip("console script not on PATH")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "export" in out.stdout


def test_an_unwritable_output_is_a_plain_error_not_a_traceback(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic\nQ\nBack: A\nEND\n")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli("export", vault, "-o", blocker / "out.apkg", "--no-sim")
    assert proc.returncode == 1
    assert proc.stderr.startswith("notecards: error:") and "Traceback" not in proc.stderr


def test_a_vault_named_relative_to_another_folder_reuses_its_cache_with_its_images(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic\nQ\nBack: ![[img.png]]\nEND\n")
    (vault / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"image data")
    run_cli("export", "v", "-o", tmp_path / "1.apkg", "--no-sim", cwd=tmp_path, check=True)
    proc = run_cli("export", ".", "-o", tmp_path / "2.apkg", "--no-sim", cwd=vault)
    assert proc.returncode == 0, proc.stderr
    package = zipfile.ZipFile(tmp_path / "2.apkg")
    assert package.read("0") == (vault / "img.png").read_bytes()


def test_a_package_another_vault_wrote_over_is_written_again(tmp_path):
    write(tmp_path / "a", "x.md", "START\nBasic\nfrom vault a\nBack: A\nEND\n")
    write(tmp_path / "b", "y.md", "START\nBasic\nfrom vault b\nBack: B\nEND\n")
    out = tmp_path / "deck.apkg"
    for vault in ("a", "b", "a"):
        run_cli("export", tmp_path / vault, "-o", out, "--no-sim", check=True)
    collection = zipfile.ZipFile(out).read("collection.anki2")
    assert b"from vault a" in collection and b"from vault b" not in collection


# ---------------------------------------------------------------- a newcomer's first hour (issue 10, class 9)

BASIC = "START\nBasic\nQ\nBack: A\nEND\n"


def test_a_vault_of_txt_notes_says_how_to_read_them(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.txt", BASIC)
    write(vault, "b.txt", BASIC.replace("Q", "Q2"))
    proc = run_cli("export", vault, "-o", tmp_path / "o.apkg", "--no-sim")
    assert proc.returncode == 0
    assert "warning: no .md notes here, but 2 .txt files: read them as notes with `--ext .txt`" in proc.stderr
    proc = run_cli("export", vault, "-o", tmp_path / "o.apkg", "--no-sim", "--ext", "txt")
    assert "2 files, 2 notes (2 cards)" in proc.stdout and "--ext" not in proc.stderr


def test_sync_and_watch_take_the_common_options(tmp_path):
    from anki.collection import Collection

    vault = tmp_path / "v"
    note = write(vault, "a.txt", BASIC)
    Collection(str(tmp_path / "c.anki2")).close()
    common = ["--ext", ".txt", "-q", "--no-sim", "--allow-code", "-j", "1", "--strict"]
    proc = run_cli("sync", vault, "--collection", tmp_path / "c.anki2", *common)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == "" and "<!--ID: " in note.read_text()      # -q: nothing but problems
    for command in ("sync", "watch"):
        helptext = run_cli(command, "--help").stdout
        assert all(option in helptext for option in common if option.startswith("-")), command


def test_summary_counts_notes_and_the_cards_anki_makes_of_them(tmp_path, collection):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic (and reversed card)\nfront\nBack: back\nEND\n\n"
                         "START\nCloze\n{{c1::one}} {{c2::two}} {{c2::again}}\nEND\n\n" + BASIC)
    out = tmp_path / "o.apkg"
    proc = run_cli("export", vault, "-o", out, "--no-sim")
    assert "1 file, 3 notes (5 cards) in 1 deck" in proc.stdout, proc.stdout
    assert "  Default: 3 notes (5 cards)" in proc.stdout
    import_apkg(collection, out)
    assert collection.card_count() == 5 and collection.note_count() == 3


def test_o_naming_a_folder_writes_the_vault_package_into_it(tmp_path):
    vault = tmp_path / "myvault"
    write(vault, "a.md", BASIC)
    (tmp_path / "decks").mkdir()
    proc = run_cli("export", "myvault", "-o", "decks", "--no-sim", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "wrote decks/myvault.apkg"
    assert [p.name for p in (tmp_path / "decks").iterdir()] == ["myvault.apkg"]


def test_an_unwritable_output_is_found_before_anything_is_built(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic\nQ\nBack:\n```sim\nx ~ Normal(0, 1)\n```\nEND\n")
    (tmp_path / "file").write_text("not a folder")
    proc = run_cli("export", vault, "-o", tmp_path / "file" / "out.apkg")
    assert proc.returncode == 1 and proc.stderr.startswith("notecards: error: ")
    assert not (vault / ".notecards").exists()          # nothing was simulated, nothing cached


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="a read-only mount needs root and unshare")
def test_a_read_only_vault_exports_without_state(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", BASIC)
    script = (f"mount --bind {vault} {vault} && mount -o remount,bind,ro {vault} && "
              f"CI=true {sys.executable} -m notecards export {vault} -o {tmp_path / 'o.apkg'} --no-sim")
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ})
    if "mount:" in proc.stderr and proc.returncode != 0:
        pytest.skip(f"no read-only bind mount here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert "info: the vault is read-only: no cache or state is kept" in proc.stderr
    assert "1 file, 1 note (1 card)" in proc.stdout and (tmp_path / "o.apkg").is_file()
    assert sorted(p.name for p in vault.iterdir()) == ["a.md"]


def test_sim_on_a_folder_says_what_sim_takes(tmp_path):
    proc = run_cli("sim", tmp_path)
    assert proc.returncode == 2 and "is a folder" in proc.stderr and "notecards check" in proc.stderr


def test_paths_are_printed_from_the_working_folder_by_every_command(tmp_path):
    from anki.collection import Collection

    vault = tmp_path / "v"
    write(vault, "sub/a.md", "START\nBasic\nQ ![[missing.png]]\nBack:\n```sim\nx ~ Normal(0, 1)\nn = 100\n"
                             "check: mean(x) ≈ 5\n```\nEND\n")
    Collection(str(tmp_path / "c.anki2")).close()
    shown = "v/sub/a.md"
    check = run_cli("check", "v", cwd=tmp_path)
    sim = run_cli("sim", "v/sub/a.md", "-o", "figs", cwd=tmp_path)
    dry = run_cli("sync", "v", "--collection", "c.anki2", "--dry-run", "--no-sim", cwd=tmp_path)
    assert f"{shown}:3: warning:" in check.stderr
    assert f"{shown}:8: warning: check failed" in sim.stdout
    assert f"  {shown}:1: add Basic note" in dry.stdout


def test_decks_and_state_are_private_whatever_the_umask(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic\nQ\nBack:\n```sim\nx ~ Normal(0, 1)\n```\nEND\n")
    env = {**os.environ, "CI": "true"}
    subprocess.run([sys.executable, "-c", "import os, sys; os.umask(0); from notecards.cli import main; "
                    f"sys.exit(main(['export', {str(vault)!r}, '-o', {str(tmp_path / 'out' / 'o.apkg')!r}]))"],
                   env=env, check=True, capture_output=True, timeout=600)
    written = [tmp_path / "out" / "o.apkg", *(vault / ".notecards").rglob("*")]
    assert len(written) > 3
    for path in written:
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_check_json_is_for_editors_and_ci(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "START\nBasic (and reversed card)\nQ ![[missing.png]]\nBack: A\nEND\n")
    proc = run_cli("check", vault, "--json", "--no-sim", "--strict")
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and data["status"] == 1
    assert (data["files"], data["notes"], data["cards"], data["warnings"], data["errors"]) == (1, 1, 2, 1, 0)
    [d] = data["diagnostics"]
    assert (d["line"], d["severity"]) == (3, "warning") and d["path"].endswith("v/a.md")


def test_sim_json_reports_errors_as_json(tmp_path):
    note = write(tmp_path, "a.md", BASIC)
    proc = run_cli("sim", f"{note}:99", "--json")
    data = json.loads(proc.stdout)
    assert proc.returncode == 2
    assert [(d["line"], d["severity"], d["message"]) for d in data["diagnostics"]] == [(99, "error", "no card at this line")]


def test_a_broken_embed_in_prose_is_info_and_passes_strict(tmp_path):
    vault = tmp_path / "v"
    write(vault, "a.md", "Some prose ![[nowhere.png]]\n\n" + BASIC)
    proc = run_cli("check", vault, "--no-sim", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert "a.md:1: info: " in proc.stderr and "nowhere.png" in proc.stderr
