"""Symbolic links: nothing outside the vault reaches a deck; links inside it keep working.

The vault is a real folder with real links. Before, a link inside the vault pointing out of it
(to a note or an image) was followed for embeds and media, so the target's text and bytes
shipped in the deck; a link loop was reported by the file read and again by each embed of it.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli, write

PNG = b"\x89PNG\r\n\x1a\n" + b"OUTSIDE-BYTES" * 4

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links on this system")


def deck_bytes(apkg: Path) -> bytes:
    with zipfile.ZipFile(apkg) as z:
        return b"".join(z.read(name) for name in z.namelist())


@pytest.fixture
def vault(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.md", "SECRET-NOTE-TEXT\n")
    (outside / "s.png").write_bytes(PNG)
    (outside / "assets").mkdir()
    (outside / "assets" / "t.png").write_bytes(PNG)
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    (root / "linked.md").symlink_to(outside / "secret.md")
    (root / "img.png").symlink_to(outside / "s.png")
    (root / "outdir").symlink_to(outside / "assets", target_is_directory=True)
    return root


def export(root: Path) -> tuple[list[str], Path]:
    out = root.parent / "deck.apkg"
    proc = run_cli("export", ".", "-o", out, "--no-sim", cwd=root)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr.splitlines(), out


def test_links_out_of_the_vault_are_not_read_and_are_told_at_the_reference(vault):
    write(vault, "card.md", "START\nBasic\nq ![[linked]]\nBack: ![](img.png) ![[img.png]]\n"
          "![](outdir/t.png)\nEND\n\nProse ![](img.png) and ![[linked]].\n")
    lines, out = export(vault)
    warnings = [line for line in lines if ": warning:" in line]
    by_line = sorted(line.split(": warning:")[0] for line in warnings)
    assert by_line == ["card.md:3", "card.md:4", "card.md:4", "card.md:5", "card.md:8", "card.md:8",
                       "linked.md:1"], lines
    assert all("outside the vault" in w or "out of the vault" in w for w in warnings)
    data = deck_bytes(out)
    assert b"SECRET-NOTE-TEXT" not in data and b"OUTSIDE-BYTES" not in data


def test_a_note_that_is_a_link_out_of_the_vault_gives_no_cards(vault):
    (vault / "linked.md").unlink()
    write(vault.parent / "outside", "secret.md", "START\nBasic\nSECRET-NOTE-TEXT\nBack: x\nEND\n")
    (vault / "linked.md").symlink_to(vault.parent / "outside" / "secret.md")
    write(vault, "real.md", "START\nBasic\nreal\nBack: y\nEND\n")
    lines, out = export(vault)
    assert [line for line in lines if "linked.md" in line] == [
        f"linked.md:1: warning: symbolic link to {(vault.parent / 'outside' / 'secret.md').resolve()}, "
        "outside the vault; not read (nothing outside the vault goes into a deck)"]
    assert b"SECRET-NOTE-TEXT" not in deck_bytes(out)


def test_links_that_stay_inside_the_vault_keep_working(tmp_path):
    root = tmp_path / "vault"
    write(root, "notes/real.md", "The embedded text.\n")
    (root / "assets").mkdir()
    (root / "assets" / "a.png").write_bytes(PNG)
    (root / "alias.md").symlink_to(root / "notes" / "real.md")
    (root / "pic.png").symlink_to(Path("assets") / "a.png")
    write(root, "card.md", "START\nBasic\nq ![[alias]]\nBack: ![](pic.png)\nEND\n")
    lines, out = export(root)
    assert [line for line in lines if ": warning:" in line or ": error:" in line] == []
    data = deck_bytes(out)
    assert b"The embedded text." in data and b"OUTSIDE-BYTES" in data


def test_a_link_loop_is_told_once_however_often_it_is_embedded(tmp_path):
    root = tmp_path / "vault"
    root.mkdir()
    (root / "self.md").symlink_to("self.md")
    (root / "a.md").symlink_to("b.md")
    (root / "b.md").symlink_to("a.md")
    write(root, "card.md", "START\nBasic\nq ![[self]]\nBack: ![[a]]\nEND\n\n![[self]]\n")
    lines, _ = export(root)
    assert sorted(line.split(":")[0] for line in lines if "self.md" in line and "loops" in line) == [
        "card.md", "card.md", "self.md"], lines
    assert [line for line in lines if line.startswith("self.md")] == [
        "self.md:1: warning: symbolic link loops (it leads back to itself); skipped"]
    assert len([line for line in lines if line.startswith(("a.md", "b.md"))]) == 2
