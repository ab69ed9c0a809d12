"""Export -> import into a real Anki collection: cards, decks, tags, and identity across edits."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from conftest import import_apkg, review, revlog_ids, run_cli, write

NOTE_A = """---
tags: [fm-tag]
---
TARGET DECK: Stats::Models

START
Basic
What is $\\lambda$?
Back: The prior variance, as in $\\theta \\sim N(0, \\lambda)$.
Tags: alpha beta/gamma
END

START
Cloze
The marginal variance is {{c1::$\\lambda + \\sigma^2$}}.
END

STARTI [Basic] Inline question? Back: Inline answer. ENDI
"""

NOTE_B = """START
Basic (and reversed card)
Shrinkage factor
Back: $\\frac{\\lambda}{\\lambda + \\sigma^2}$
END
"""


def make_vault(root: Path) -> Path:
    write(root, "a.md", NOTE_A)
    write(root, "sub/b.md", NOTE_B)
    return root


def export(vault: Path, out: Path) -> None:
    run_cli("export", vault, "-o", out, "--no-sim", check=True)


def notes_by_front(col) -> dict[str, object]:
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out[note.fields[0]] = note
    return out


def test_first_import_adds_every_card_in_its_deck_with_its_tags(tmp_path, collection):
    vault = make_vault(tmp_path / "vault")
    out = tmp_path / "deck.apkg"
    export(vault, out)
    log = import_apkg(collection, out)
    assert len(log.new) == 4
    notes = notes_by_front(collection)
    basic = next(n for f, n in notes.items() if "What is" in f)
    assert "\\(\\lambda\\)" in basic.fields[0]
    assert "The prior variance" in basic["Back"]
    assert set(basic.tags) >= {"fm-tag", "alpha", "beta::gamma"}
    assert basic.note_type()["name"] == "notecards Basic"
    deck_names = {collection.decks.name(c.did) for c in basic.cards()}
    assert deck_names == {"Stats::Models"}
    reversed_note = next(n for f, n in notes.items() if "Shrinkage" in f)
    assert len(reversed_note.cards()) == 2
    assert collection.decks.name(reversed_note.cards()[0].did) == "Default"
    cloze = next(n for f, n in notes.items() if "{{c1::" in f)
    assert cloze.note_type()["name"] == "notecards Cloze"


def test_reexporting_an_unchanged_vault_changes_nothing(tmp_path, collection):
    vault = make_vault(tmp_path / "vault")
    out = tmp_path / "deck.apkg"
    export(vault, out)
    import_apkg(collection, out)
    out.unlink()
    export(vault, out)
    log = import_apkg(collection, out)
    assert (len(log.new), len(log.updated)) == (0, 0)
    assert len(log.duplicate) == 4


def _edit_then_reimport(tmp_path, collection, edit, updated: int = 1):
    vault = make_vault(tmp_path / "vault")
    out = tmp_path / "deck.apkg"
    export(vault, out)
    import_apkg(collection, out)
    before = notes_by_front(collection)
    target = next(n for f, n in before.items() if "What is" in f)
    card_id = target.cards()[0].id
    review(collection, card_id)
    history = revlog_ids(collection, card_id)
    interval = collection.get_card(card_id).ivl
    assert history
    edit(vault)
    export(vault, out)
    log = import_apkg(collection, out)
    assert len(log.new) == 0
    assert len(log.updated) == updated
    assert len(collection.find_notes("")) == 4
    after = collection.get_note(target.id)
    assert revlog_ids(collection, card_id) == history
    assert collection.get_card(card_id).ivl == interval
    return after


def test_editing_the_back_updates_the_note_in_place_and_keeps_its_reviews(tmp_path, collection):
    def edit(vault):
        p = vault / "a.md"
        p.write_text(p.read_text().replace("The prior variance", "The variance of the prior"))
    note = _edit_then_reimport(tmp_path, collection, edit)
    assert "The variance of the prior" in note["Back"]


def test_editing_the_front_updates_the_note_in_place(tmp_path, collection):
    def edit(vault):
        p = vault / "a.md"
        p.write_text(p.read_text().replace("What is $\\lambda$?", "What does $\\lambda$ stand for?"))
    note = _edit_then_reimport(tmp_path, collection, edit)
    assert "stand for" in note["Front"]


def test_moving_the_file_to_another_folder_keeps_identity(tmp_path, collection):
    def edit(vault):
        (vault / "moved").mkdir()
        shutil.move(vault / "a.md", vault / "moved" / "a.md")
        p = vault / "moved" / "a.md"
        p.write_text(p.read_text().replace("The prior variance", "Prior variance (moved)"))
    note = _edit_then_reimport(tmp_path, collection, edit)
    assert "moved" in note["Back"]


def test_moving_without_state_still_keeps_identity(tmp_path, collection):
    """Identity must not depend on `.notecards/`: delete it between the runs."""
    def edit(vault):
        # Without state a note's time is its file's mtime (one-second resolution): the edit
        # must carry a later second than the first export for Anki to see it as newer.
        first = (vault / "a.md").stat().st_mtime_ns
        shutil.rmtree(vault / ".notecards")
        (vault / "deeper" / "still").mkdir(parents=True)
        shutil.move(vault / "a.md", vault / "deeper" / "still" / "a.md")
        p = vault / "deeper" / "still" / "a.md"
        p.write_text(p.read_text().replace("The prior variance", "Prior variance, no state"))
        later = first + 2_000_000_000
        os.utime(p, ns=(later, later))
    # without state every card of the edited file is re-sent (same content, newer time)
    note = _edit_then_reimport(tmp_path, collection, edit, updated=3)
    assert "no state" in note["Back"]


def test_inserting_a_card_above_keeps_each_cards_identity(tmp_path, collection):
    vault = make_vault(tmp_path / "vault")
    out = tmp_path / "deck.apkg"
    export(vault, out)
    import_apkg(collection, out)
    before = {n.id: n["Front"] for n in notes_by_front(collection).values() if "Front" in n.keys()}
    p = vault / "a.md"
    p.write_text(p.read_text().replace("TARGET DECK: Stats::Models\n",
                                       "TARGET DECK: Stats::Models\n\nSTART\nBasic\nA new first card\nBack: new\nEND\n"))
    export(vault, out)
    log = import_apkg(collection, out)
    assert (len(log.new), len(log.updated)) == (1, 0)
    for nid, front in before.items():
        assert collection.get_note(nid)["Front"] == front


def test_two_vaults_with_identical_cards_never_collide(tmp_path, collection):
    for name in ("vault-one", "vault-two"):
        vault = tmp_path / name
        write(vault, "same.md", NOTE_B)
        out = tmp_path / f"{name}.apkg"
        export(vault, out)
        log = import_apkg(collection, out)
        assert len(log.new) == 1
    assert len(collection.find_notes("")) == 2


def test_an_id_line_gives_the_identity(tmp_path, collection):
    vault = tmp_path / "vault"
    write(vault, "x.md", "START\nBasic\nQ\nBack: A\n<!--ID: 1752652160588-->\nEND\n")
    out = tmp_path / "x.apkg"
    export(vault, out)
    import_apkg(collection, out)
    (vault / "x.md").rename(vault / "renamed.md")
    (vault / "renamed.md").write_text("intro\n\nSTART\nBasic\nQ2\nBack: A2\n<!--ID: 1752652160588-->\nEND\n")
    export(vault, out)
    log = import_apkg(collection, out)
    assert (len(log.new), len(log.updated)) == (0, 1)


def test_anki_renders_the_cards_math_and_figures_on_the_answer_side_only(tmp_path, collection):
    """What Anki itself shows: MathJax delimiters intact, figures on answers, media imported."""
    vault = tmp_path / "vault"
    write(vault, "m.md", "START\nBasic (and reversed card)\nWhat is $\\operatorname{Var}(X)$?\nBack:\n"
                         "$$\n\\begin{split}\n\\theta &\\sim \\mathcal{N}(0, \\lambda) \\\\\n"
                         "X &\\sim \\mathcal{N}(\\theta, \\sigma^2) \\\\\n\\end{split}\n$$\nEND\n")
    out = tmp_path / "m.apkg"
    run_cli("export", vault, "-o", out, check=True)
    import_apkg(collection, out)
    [nid] = collection.find_notes("")
    forward, backward = sorted(collection.get_note(nid).cards(), key=lambda c: c.ord)
    assert "\\(\\operatorname{Var}(X)\\)" in forward.question()
    assert 'src="nc-sim' not in forward.question() and 'src="nc-sim' not in backward.question()
    answer = forward.answer()
    assert "\\theta &amp;\\sim \\mathcal{N}(0, \\lambda) \\\\" in answer
    figure = re.search(r'<img src="(nc-sim-[0-9a-f]+\.svg)"', answer)
    assert figure and (Path(collection.media.dir()) / figure.group(1)).is_file()
    assert 'src="nc-sim' in backward.answer()


def test_editing_a_note_embedded_two_levels_down_updates_the_card(tmp_path, collection):
    vault = tmp_path / "vault"
    write(vault, "card.md", "START\nBasic\nQ\nBack: ![[middle]]\nEND\n")
    write(vault, "middle.md", "Middle text.\n\n![[deep]]\n")
    deep = write(vault, "deep.txt", "Deep text, first version.\n")
    out = tmp_path / "deck.apkg"
    run_cli("export", vault, "-o", out, "--no-sim", "--ext", ".txt", check=True)
    import_apkg(collection, out)
    deep.write_text("Deep text, second version.\n", encoding="utf-8")
    run_cli("export", vault, "-o", out, "--no-sim", "--ext", ".txt", check=True)
    log = import_apkg(collection, out)
    assert (len(log.new), len(log.updated)) == (0, 1)
    back = collection.get_note(collection.find_notes("")[0])["Back"]
    assert "second version" in back and "Middle text" in back


def test_a_card_copied_with_its_id_line_becomes_a_new_note_with_a_warning(tmp_path, collection):
    vault = tmp_path / "vault"
    card = "START\nBasic\n{q}\nBack: A\n<!--ID: 1752652160588-->\nEND\n"
    write(vault, "a.md", card.format(q="original"))
    write(vault, "b.md", card.format(q="copy") + "\n" + card.format(q="second copy"))
    out = tmp_path / "x.apkg"
    proc = run_cli("export", vault, "-o", out, "--no-sim")
    assert proc.returncode == 0, proc.stderr
    assert "b.md:5: warning: ID 1752652160588 is also on an earlier card" in proc.stderr
    assert "b.md:12: warning: ID 1752652160588" in proc.stderr
    log = import_apkg(collection, out)
    assert len(log.new) == 3
    assert collection.get_note(1752652160588)["Front"] == "original"


def test_exporting_one_file_keeps_the_other_cards_times(tmp_path, collection):
    """Else the other card's next change (here through an embedded note, so its own file's
    mtime stays) would get the time Anki already has, and Anki would skip the update."""
    vault = tmp_path / "vault"
    write(vault, "x.md", "START\nBasic\nQ\nBack: ![[E]]\nEND\n")
    write(vault, "y.md", "START\nBasic\nother\nBack: B\nEND\n")
    embedded = write(vault, "E.md", "first\n")
    out = tmp_path / "deck.apkg"
    export(vault, out)
    embedded.write_text("second\n", encoding="utf-8")
    export(vault, out)
    import_apkg(collection, out)
    export(vault / "y.md", tmp_path / "y.apkg")
    embedded.write_text("third\n", encoding="utf-8")
    export(vault, out)
    log = import_apkg(collection, out)
    assert (len(log.new), len(log.updated)) == (0, 1)
    assert "third" in notes_by_front(collection)["Q"]["Back"]


def test_exporting_a_new_file_alone_never_takes_the_identity_of_its_namesake(tmp_path, collection):
    vault = tmp_path / "vault"
    write(vault, "a/index.md", "START\nBasic\nfrom a\nBack: A\nEND\n")
    (vault / ".obsidian").mkdir()      # so the file named alone is known to be of this vault
    export(vault, tmp_path / "all.apkg")
    import_apkg(collection, tmp_path / "all.apkg")
    write(vault, "b/index.md", "START\nBasic\nfrom b\nBack: B\nEND\n")
    export(vault / "b" / "index.md", tmp_path / "b.apkg")
    log = import_apkg(collection, tmp_path / "b.apkg")
    assert (len(log.new), len(log.updated)) == (1, 0)


def test_compressed_media_is_stored_as_is_and_anki_imports_it_byte_for_byte(tmp_path, collection):
    """PNG and JPEG are not deflated a second time (it cost most of a cold export of a vault of
    images); SVG, which is text, still is; Anki imports both exactly."""
    import io
    import random
    import zipfile

    from PIL import Image

    vault = tmp_path / "vault"
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 64), random.Random(3).randbytes(64 * 64 * 3)).save(out, format="PNG")
    png = out.getvalue()
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
           + '<rect width="1" height="1"/>' * 200 + "</svg>").encode()
    (vault / "img").mkdir(parents=True)
    (vault / "img" / "noise.png").write_bytes(png)
    (vault / "img" / "box.svg").write_bytes(svg)
    write(vault, "m.md", "START\nBasic\nWhat do the pictures show?\nBack:\n![[noise.png]]\n![[box.svg]]\nEND\n")
    apkg = tmp_path / "m.apkg"
    run_cli("export", vault, "-o", apkg, "--no-sim", check=True)
    with zipfile.ZipFile(apkg) as z:
        names = json.loads(z.read("media"))
        kinds = {Path(names[info.filename]).suffix: info.compress_type
                 for info in z.infolist() if info.filename in names}
    assert kinds == {".png": zipfile.ZIP_STORED, ".svg": zipfile.ZIP_DEFLATED}
    import_apkg(collection, apkg)
    media = Path(collection.media.dir())
    imported = {p.suffix: p.read_bytes() for p in media.iterdir() if p.suffix in (".png", ".svg")}
    assert imported == {".png": png, ".svg": svg}
