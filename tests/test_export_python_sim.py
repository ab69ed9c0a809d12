"""```python sim blocks through a real export: hostile code ends as a diagnostic on its card,
the rest of the vault exports, and nothing outside the sandbox changes."""

from __future__ import annotations

import zipfile

from conftest import import_apkg, run_cli, write


def card(question: str, code: str) -> str:
    return f"START\nBasic\n{question}\nBack:\n```python sim\n{code}\n```\nEND\n\n"


def make_vault(tmp_path):
    vault = tmp_path / "vault"
    victim = write(vault, "victim.md", "START\nBasic\nPlain card\nBack: still here\nEND\n")
    cards = [
        # Pillow, not matplotlib: the good block must finish well inside the 4 s every block gets
        # even on a loaded machine (matplotlib in the sandbox is tested in test_sim_run.py)
        ("good", "from PIL import Image\nImage.new('RGB', (8, 8), 'red').save('dot.png')"),
        ("loop", "while True:\n    pass"),
        ("memory", "x = bytearray(100 * 2**30)"),
        ("forkbomb", "import os\nwhile True:\n    os.fork()"),
        ("escape", f"open({str(victim)!r}, 'w').write('overwritten')"),
    ]
    text = "".join(card(q, c) for q, c in cards)
    note = write(vault, "code.md", text)
    lines = {q: text[:text.index(f"\n{q}\n")].count("\n") + 4 for q, _ in cards}   # the fence line
    return vault, victim, note, lines


def test_hostile_blocks_become_diagnostics_and_the_rest_exports(tmp_path, collection):
    vault, victim, note, lines = make_vault(tmp_path)
    write(vault, "notecards.toml", "allow_code = true\ncode_timeout = 4\ncode_memory_mb = 768\n")
    before = victim.read_bytes()
    out = tmp_path / "out.apkg"
    proc = run_cli("export", vault, "-o", out)
    assert proc.returncode == 1, proc.stderr                    # errors found, package still written
    err = proc.stderr
    assert f"code.md:{lines['loop']}: error: python sim block failed: timed out" in err
    assert f"code.md:{lines['memory']}: error: python sim block failed: ran out of memory" in err
    assert f"code.md:{lines['forkbomb']}: error: python sim block failed:" in err
    assert f"code.md:{lines['escape']}: error: python sim block failed:" in err
    assert f"code.md:{lines['good']}:" not in err
    assert victim.read_bytes() == before                        # the write outside went nowhere
    names = zipfile.ZipFile(out).read("media").decode()
    assert names.count(".png") == 1                             # the good block's figure only
    import_apkg(collection, out)
    fronts = {collection.get_note(n)["Front"] for n in collection.find_notes("")}
    assert {"Plain card", "good", "loop", "memory", "forkbomb", "escape"} <= fronts


def test_without_permission_the_block_is_skipped_with_a_warning(tmp_path):
    vault, _victim, _note, lines = make_vault(tmp_path)
    proc = run_cli("export", vault, "-o", tmp_path / "out.apkg")
    assert proc.returncode == 0, proc.stderr
    assert f"code.md:{lines['good']}: warning: python sim block skipped: run with --allow-code" in proc.stderr
    assert "failed" not in proc.stderr
