"""notecards renders a field as Obsidian_to_Anki does, so a vault that plugin synced moves over
without its unchanged notes being rewritten.

The reference is showdown itself, from the npm registry (`npm pack showdown@2.1.0`, the version
Obsidian_to_Anki 3.6 pins, kept in ~/.cache/notecards-tests/), run with node on every field of
the plugin's 26 test suites, through the steps of the plugin's own `format` (tests/o2a/o2a_format.js).
Fields with vault links, embeds, local images or code blocks are left out: the plugin rewrites
those from Obsidian's metadata cache or with a highlighter before showdown sees them. Clozes are
in, through the plugin's own CurlyCloze step.
Skipped, with the reason, when node, npm or the suites are not there.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from notecards.config import load_settings
from notecards.parse import parse_file
from notecards.render import RenderContext, is_cloze_type, render_markdown, unwrap_paragraph
from notecards.render.markdown import render_text
from notecards.render.render_state import RenderState
from notecards.vault import VaultIndex, note_files, read_source

SUITES = Path(__file__).resolve().parents[2] / "shared" / "o2a-suites"
CACHE = Path.home() / ".cache" / "notecards-tests"
SHOWDOWN = "showdown@2.1.0"
FORMAT_JS = Path(__file__).parent / "o2a" / "o2a_format.js"
# what the plugin rewrites from Obsidian's metadata cache, or highlights, before showdown sees it:
# wikilinks and embeds, links and images to vault files, code blocks
_OUTSIDE_SHOWDOWN = re.compile(r"\[\[|\]\((?!https?://)|```|~~~")


# where notecards differs on purpose: the plugin reads `==c1::x==` (highlights to clozes) as
# `{c1::x}`, whose CurlyCloze number takes one colon, giving Anki `{{c1:::x}}` (a deletion of ":x")
DELIBERATE = {"cloze_highlight/cloze_highlight.md:5 Text": "{{c1:::"}


def showdown_module() -> Path:
    if not SUITES.is_dir():
        pytest.skip(f"Obsidian_to_Anki suites not present at {SUITES}")
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run showdown, the reference renderer")
    module = CACHE / "showdown-2.1.0" / "package" / "dist" / "showdown.js"
    if not module.is_file():
        folder = module.parents[2]
        folder.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run([npm, "pack", SHOWDOWN, "--silent"], cwd=folder, capture_output=True,
                                text=True, timeout=300)
        if packed.returncode != 0:
            pytest.skip(f"npm pack {SHOWDOWN} failed: {packed.stderr.strip()[:200]}")
        shutil.unpack_archive(folder / packed.stdout.strip().splitlines()[-1], folder)
    return module


def suite_fields() -> list[tuple[str, dict, RenderState]]:
    """(where, the field as o2a_format.js takes it, its render state) for every field of every
    suite's cards: cloze settings as the field's note type and the vault's data.json give them."""
    out = []
    for suite in sorted(p for p in SUITES.iterdir() if p.is_dir()):
        settings = load_settings(suite, [])
        index = VaultIndex.scan(suite)
        for rel in note_files(index, settings):
            source = read_source(suite, rel, [])
            if source is None:
                continue
            ctx = RenderContext(index=index, settings=settings, source=source)
            for card in parse_file(source, settings).blocks:
                cloze = is_cloze_type(card.note_type) and settings.curly_cloze
                highlights = cloze and settings.highlights_to_clozes
                for name, text in card.fields.items():
                    if text.strip() and not _OUTSIDE_SHOWDOWN.search(text):
                        state = RenderState(ctx=ctx, path=rel, first_line=card.field_lines.get(name, card.line),
                                            curly_cloze=cloze, highlight_cloze=highlights)
                        out.append((f"{suite.name}/{rel}:{card.field_lines.get(name, card.line)} {name}",
                                    {"text": text, "cloze": cloze, "highlights": highlights}, state))
    return out


def run_showdown(module: Path, fields: list) -> list[str]:
    proc = subprocess.run(["node", str(FORMAT_JS), str(module)], input=json.dumps(fields),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(proc.stdout)


def test_fields_render_as_obsidian_to_anki_renders_them():
    module = showdown_module()
    fields = suite_fields()
    assert len(fields) > 40 and sum(f[1]["cloze"] for f in fields) > 5
    theirs = run_showdown(module, [f[1] for f in fields])
    ours = [unwrap_paragraph(render_text(field["text"], state)) for _, field, state in fields]
    for (where, _, _), mine, ref in zip(fields, ours, theirs):
        if where in DELIBERATE:
            assert DELIBERATE[where] in ref and DELIBERATE[where] not in mine, (where, mine, ref)
    differ = [(where, field["text"], mine, ref) for (where, field, _), mine, ref in zip(fields, ours, theirs)
              if mine != ref and where not in DELIBERATE]
    assert differ == [], "\n\n".join(f"{w}\n  markdown: {t!r}\n  ours:     {o!r}\n  showdown: {r!r}"
                                      for w, t, o, r in differ[:8]) + f"\n\n{len(differ)} of {len(fields)} differ"


# --- Obsidian syntax the plugin's vaults use ------------------------------------------------

def render_vault(tmp_path: Path, files: dict[str, str], data_json: dict | None = None):
    from notecards.pipeline import build

    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if data_json is not None:
        target = tmp_path / ".obsidian/plugins/obsidian-to-anki-plugin/data.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data_json), encoding="utf-8")
    diags: list = []
    result = build(tmp_path, load_settings(tmp_path, diags))
    return result, diags + result.diagnostics


def test_a_numbered_highlight_cloze_is_that_deletion_not_a_cloze_inside_a_cloze(tmp_path):
    settings = {"settings": {"Defaults": {"CurlyCloze": True, "CurlyCloze - Highlights to Clozes": True}}}
    result, diags = render_vault(tmp_path, {"n.md": "START\nCloze\n==c2::two== and ==one== and ==3:three==\nEND\n"},
                                 settings)
    assert diags == []
    assert result.cards[0].fields["Text"] == "{{c2::two}} and {{c1::one}} and {{c3::three}}"


def test_footnotes_and_task_lists_render_instead_of_showing_as_raw_text(tmp_path):
    text = "START\nBasic\nWhat is left?\nBack: Two things[^1]\n- [ ] open\n- [x] done\n\n[^1]: says who\nEND\n"
    result, diags = render_vault(tmp_path, {"n.md": text})
    assert diags == []
    back = result.cards[0].fields["Back"]
    assert "[^1]" not in back and "says who" in back and 'class="footnote' in back
    assert "[ ]" not in back and "[x]" not in back and back.count('type="checkbox"') == 2


def test_notes_are_read_in_order_of_their_full_vault_path(tmp_path):
    files = {"b.md": "START\nBasic\nfrom b\nEND\n", "a/z.md": "START\nBasic\nfrom a/z\nEND\n",
             "a b.md": "START\nBasic\nfrom a b\nEND\n"}
    result, _ = render_vault(tmp_path, files)
    assert [c.block.path for c in result.cards] == sorted(files) == ["a b.md", "a/z.md", "b.md"]


def test_xhtml_void_elements_and_a_bare_single_paragraph(tmp_path):
    (tmp_path / "i.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result, diags = render_vault(tmp_path, {"n.md": "START\nBasic\nline one\nline two ![](i.png)\nEND\n"})
    assert diags == []
    front = result.cards[0].fields["Front"]
    assert front.startswith("line one<br />\nline two <img src=") and front.endswith(' alt="" />')


def test_the_new_html_is_stable_from_one_export_to_the_next(tmp_path):
    from conftest import run_cli

    text = "START\nBasic\n# Head\nline  \nnext ==mark==\nBack: a\n\nb[^1]\n\n[^1]: n\n- [ ] t\nEND\n"
    render_vault(tmp_path, {"n.md": text})
    out = tmp_path / "deck.apkg"
    first = run_cli("export", tmp_path, "-o", out, check=True)
    assert "wrote" in first.stdout
    hashes = [c.content_hash for c in render_vault(tmp_path, {})[0].cards]
    again = run_cli("export", tmp_path, "-o", out, check=True)
    assert "unchanged" in again.stdout
    assert [c.content_hash for c in render_vault(tmp_path, {})[0].cards] == hashes


def test_quotes_task_lists_and_blockquotes_are_written_as_showdown_writes_them():
    """Constructs the suites do not hold, against showdown too."""
    module = showdown_module()
    samples = ['He said "yes" & left <3', '`a "b" <c>`', "- [ ] open\n- [x] done",
               "> quoted\n> line\n>\n> > nested\n\nafter", "para one  \nnext  \n\npara two"]
    ours = [render_markdown(text)[0] for text in samples]
    assert ours == run_showdown(module, samples)


@pytest.mark.parametrize("suite", ["basic_sync", "cloze_sync", "markdown_test", "math_test"])
def test_the_first_sync_of_a_vault_obsidian_to_anki_synced_updates_no_unchanged_note(tmp_path, suite):
    """The collection holds each note as the plugin wrote it (showdown's HTML for every field
    showdown renders alone), the vault its ID lines, and notecards has no record yet: a sync
    finds nothing to update."""
    pytest.importorskip("anki")
    from anki.collection import Collection

    from notecards.pipeline import build
    from notecards.sync import sync_vault

    module = showdown_module()
    vault = tmp_path / "vault"
    shutil.copytree(SUITES / suite, vault / suite, ignore=shutil.ignore_patterns(".obsidian"))
    if (SUITES / suite / ".obsidian").is_dir():
        shutil.copytree(SUITES / suite / ".obsidian", vault / ".obsidian")
    col_path = tmp_path / "collection.anki2"
    Collection(str(col_path)).close()
    assert sync_vault(vault, collection=col_path).problem is None      # notes made, ID lines written
    result = build(vault)
    settings = result.settings
    plain = []
    for card in result.cards:
        cloze = is_cloze_type(card.note_type) and settings.curly_cloze
        plain += [(card.block.anki_id, name, {"text": text, "cloze": cloze,
                                              "highlights": cloze and settings.highlights_to_clozes})
                  for name, text in card.block.fields.items()
                  if text.strip() and not _OUTSIDE_SHOWDOWN.search(text)]
    assert plain
    col = Collection(str(col_path))
    try:
        for (nid, name, _), html in zip(plain, run_showdown(module, [p[2] for p in plain])):
            note = col.get_note(nid)
            note[name] = html
            col.update_note(note)
    finally:
        col.close()
    shutil.rmtree(vault / ".notecards")                                 # no record: Anki's notes are compared
    report = sync_vault(vault, collection=col_path, dry_run=True)
    assert report.plan is not None, report.summary()
    assert [u.card.block.line for u in report.plan.updates if "fields" in u.changes] == []
