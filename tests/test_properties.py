"""Property-based tests: notes generated from the card grammar, then mutated the way real files and
fuzzers mutate them (random unicode, CR / CRLF mixes, a BOM, huge lines, unbalanced math and
clozes, huge numbers). Whatever the input:

* no exception escapes the build;
* every diagnostic points at a real line of its file;
* export writes a deck Anki can open;
* sync changes nothing in a note but ID lines.

Deterministic in CI: the profile is derandomized (the examples are a function of the test), so
a failure reproduces on every run, and small enough to stay well under a minute.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notecards.config import load_settings
from notecards.export import export_package
from notecards.export_state import ExportState
from notecards.pipeline import BuildOptions, build

PROFILE = dict(derandomize=True, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---------------------------------------------------------------- the card grammar

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
plain = st.text("abcdefgh xyz", min_size=1, max_size=20).map(str.strip).filter(bool)
text_piece = st.one_of(
    plain, words,
    plain.map(lambda t: f"${t}$"), plain.map(lambda t: f"$$\n{t}\n$$"),
    plain.map(lambda t: f"{{{{c1::{t}}}}}"), plain.map(lambda t: f"==**{t}**=="),
    plain.map(lambda t: f"[[{t}]]"), plain.map(lambda t: f"![[{t}.png]]"), plain.map(lambda t: f"#{t.split()[0]}"),
)
field_text = st.lists(text_piece, min_size=1, max_size=4).map(" ".join)
id_line = st.one_of(st.integers(1, 2**63 - 1), st.integers(2**63, 2**80)).map(lambda n: f"<!--ID: {n}-->")


@st.composite
def block(draw) -> str:
    kind = draw(st.sampled_from(["Basic", "Basic (and reversed card)", "Cloze", "inline", "prose", "deck",
                                 "sim", "delete"]))
    if kind == "inline":
        return f"STARTI [Basic] {draw(field_text)} Back: {draw(field_text)} ENDI"
    if kind == "prose":
        return draw(field_text)
    if kind == "deck":
        return f"TARGET DECK: {draw(plain)}::{draw(plain)}"
    if kind == "delete":
        return f"DELETE\n{draw(id_line)}"
    lines = ["START", "Basic" if kind == "sim" else kind, draw(field_text)]
    if kind == "Cloze":
        lines.append(f"{{{{c{draw(st.integers(1, 3))}::{draw(plain)}}}}}")
    else:
        lines.append(f"Back: {draw(field_text)}")
    if kind == "sim":
        lines += ["```sim", f"x ~ Normal({draw(st.integers(-5, 5))}, 1)", f"n = {draw(st.integers(10, 100))}",
                  "check: mean(x) ≈ 0", "```"]
    if draw(st.booleans()):
        lines.append(f"Tags: {draw(plain)}")
    if draw(st.booleans()):
        lines.append(draw(id_line))
    lines.append("END")
    return "\n".join(lines)


# ---------------------------------------------------------------- mutations of a well-formed note

def _insert(text: str, at: float, piece: str) -> str:
    i = int(len(text) * at)
    return text[:i] + piece + text[i:]


mutation = st.one_of(
    st.tuples(st.just("unicode"), st.floats(0, 1), words),
    st.tuples(st.just("newlines"), st.sampled_from(["\r\n", "\r", "mixed"]), st.just("")),
    st.tuples(st.just("bom"), st.just(0.0), st.just("")),
    st.tuples(st.just("huge line"), st.floats(0, 1), st.integers(10_000, 200_000).map(lambda n: "x" * n + "\n")),
    st.tuples(st.just("unbalanced"), st.floats(0, 1), st.sampled_from(["$", "$$", "{{c1::", "}}", "==", "```", "%%",
                                                                        "START\n", "END\n", "![[", "{"])),
    st.tuples(st.just("huge number"), st.floats(0, 1),
              st.sampled_from(["<!--ID: " + "9" * 5000 + "-->\n", "ID: 18446744073709551616\n",
                               "n = 1e400\n", "<!--ID: 0-->\n"])),
    st.tuples(st.just("cut"), st.floats(0, 1), st.just("")),
)


def mutate(text: str, change: tuple) -> str:
    kind, where, piece = change
    if kind == "newlines":
        if where == "mixed":
            return "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(text.split("\n")))
        return text.replace("\n", where)
    if kind == "bom":
        return "\ufeff" + text
    if kind == "cut":
        return text[:int(len(text) * where)]
    return _insert(text, where, piece)


@st.composite
def note(draw) -> str:
    text = "\n\n".join(draw(st.lists(block(), min_size=1, max_size=5))) + "\n"
    for change in draw(st.lists(mutation, max_size=3)):
        text = mutate(text, change)
    return text


def write_vault(root: Path, notes: list[str]) -> Path:
    vault = root / "vault"
    vault.mkdir()
    for i, text in enumerate(notes):
        (vault / f"note{i}.md").write_bytes(text.encode("utf-8"))
    return vault


def line_count(vault: Path, rel: str) -> int:
    text = (vault / rel).read_bytes().decode("utf-8", errors="replace")
    return max(1, len(re.split(r"\r\n|\r|\n", text)))


# ---------------------------------------------------------------- the invariants

@settings(max_examples=40, **PROFILE)
@given(st.lists(note(), min_size=1, max_size=3))
def test_any_note_builds_with_diagnostics_at_real_lines_and_exports_a_deck(notes):
    with tempfile.TemporaryDirectory() as tmp:
        vault = write_vault(Path(tmp), notes)
        result = build(vault, load_settings(vault), ExportState(), BuildOptions(simulate=False))
        for d in result.diagnostics:
            if d.path:
                assert 1 <= d.line <= line_count(vault, d.path), d
        out = Path(tmp) / "deck.apkg"
        export_package(result, ExportState(), out)
        with zipfile.ZipFile(out) as package:
            (Path(tmp) / "collection.anki2").write_bytes(package.read("collection.anki2"))
        with sqlite3.connect(Path(tmp) / "collection.anki2") as db:
            assert db.execute("select count(*) from notes").fetchone()[0] == len(result.cards)


_ID_LINE = re.compile(r"^[ \t]*(?:<!--\s*)?ID:\s*\d+\s*(?:-->)?[ \t]*$")
_INLINE_ID = re.compile(r" ?<!--ID: \d+-->(?= ?ENDI)")


def without_id_lines(data: bytes) -> list[str]:
    """The file's lines (endings kept) without ID lines, and without the ID sync puts before ENDI."""
    lines = re.split(r"(?<=\n)|(?<=\r)(?!\n)", data.decode("utf-8", errors="surrogateescape"))
    return [_INLINE_ID.sub("", line) for line in lines if not _ID_LINE.match(line.rstrip("\r\n"))]


@settings(max_examples=15, **PROFILE)
@given(st.lists(note(), min_size=1, max_size=2))
def test_sync_changes_nothing_but_id_lines(notes):
    from anki.collection import Collection

    from notecards.options import CommandOptions
    from notecards.sync import sync_vault

    with tempfile.TemporaryDirectory() as tmp:
        vault = write_vault(Path(tmp), notes)
        Collection(str(Path(tmp) / "c.anki2")).close()
        before = {p.name: p.read_bytes() for p in vault.glob("*.md")}
        report = sync_vault(vault, collection=Path(tmp) / "c.anki2", options=CommandOptions(simulate=False))
        assert report.problem is None, report.problem
        for name, data in before.items():
            after = (vault / name).read_bytes()
            assert without_id_lines(after) == without_id_lines(data), name
