"""Data for a model from a markdown table or a ```csv block in the same note.

A column binds to the model by name: a column `y` becomes the data of `y[i] ~ …`, a column
`school` the index in `theta[school[i]]`. A column of labels (A, B, Lincoln High …) is a grouping
column: its labels become group numbers 1..K in order of first appearance, and K is the size of
the plate of the node it indexes (`theta[1..J]` gets J = K) when the model leaves that size unset.

The labels stay with the model (the column's node holds them in `Node.labels`), so they travel with the spec to the worker pool and into the cache key, and renaming a
school re-renders its card. Every parameter over a plate that a grouping column indexes is shown
by its label (`theta[2]` is `theta[Hillside]`, and so is `sigma2[2]` over the same plate);
`parameter_labels` gives that mapping. A plate indexed by two columns with different labels gets
none: numbers are then the only names that are not wrong. The number of rows is the size of the data's own plate
(`y[i]` gets I = rows) when unset.

The table's columns are written as sim statements before the block's own text and parsed by the
sim language like any data, so every check it makes applies; nodes and diagnostics that come from
the table are pinned to the table's first line, and the block's own lines keep their numbers.
Only columns the model uses are bound; the first table with a given column name wins.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np

from notecards.sim.lang import parse_sim
from notecards.sim.model import Expr, ModelSpec
from notecards.types import Diagnostic

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s*```+\s*csv\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Table:
    line: int                                          # 1-based line of the header in the note
    columns: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Column:
    values: np.ndarray                                 # numbers, or group codes 1..K
    labels: list[str] | None                           # the group labels, for a grouping column
    line: int


def read_tables(note_text: str) -> list[Table]:
    """Every pipe table and ```csv block in the note, with its header line."""
    lines = note_text.split("\n")
    tables = []
    k = 0
    while k < len(lines):
        if _FENCE.match(lines[k]):
            end = next((m for m in range(k + 1, len(lines)) if lines[m].strip().startswith("```")),
                       len(lines))
            tables.append(_csv_table(lines[k + 1:end], k + 2))
            k = end + 1
        elif "|" in lines[k] and k + 1 < len(lines) and _SEPARATOR.match(lines[k + 1]):
            end = k + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            tables.append(_pipe_table(lines[k], lines[k + 2:end], k + 1))
            k = end
        else:
            k += 1
    return [t for t in tables if t.columns]


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") else row
    return [c.strip() for c in row.split("|")]


def _pipe_table(header: str, rows: list[str], line: int) -> Table:
    return _table(_cells(header), [_cells(r) for r in rows], line)


def _csv_table(lines: list[str], line: int) -> Table:
    rows = list(csv.reader(io.StringIO("\n".join(l for l in lines if l.strip()))))
    if not rows:
        return Table(line)
    return _table([c.strip() for c in rows[0]], [[c.strip() for c in r] for r in rows[1:]], line)


def _table(header: list[str], rows: list[list[str]], line: int) -> Table:
    table = Table(line)
    for k, name in enumerate(header):
        name = name.strip("*` ")
        if _NAME.match(name):
            table.columns[name] = [r[k] if k < len(r) else "" for r in rows]
    return table


def column_of(cells: list[str], line: int) -> Column:
    try:
        return Column(np.array([float(c) for c in cells]), None, line)
    except ValueError:
        labels = list(dict.fromkeys(cells))
        return Column(np.array([labels.index(c) + 1 for c in cells], dtype=float), labels, line)


def bind(sim_text: str, tables: list[Table]) -> tuple[str, dict[str, Column]]:
    """Sim statements defining the table columns (and unset plate sizes) the model uses."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sim_text))
    assigned = set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", sim_text, re.M))
    columns: dict[str, Column] = {}
    for table in tables:
        for name, cells in table.columns.items():
            if name in used and name not in assigned and name not in columns:
                columns[name] = column_of(cells, table.line)
    lines = [f"{name} = [{', '.join(format(v, 'g') for v in col.values)}]"
             for name, col in columns.items()]
    sizes = _plate_sizes(sim_text, columns, assigned)
    lines += [f"{plate} = {size}" for plate, size in sizes.items()]
    return "\n".join(lines), columns


def _plate_sizes(sim_text: str, columns: dict[str, Column], assigned: set[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    declared = dict(re.findall(r"([A-Za-z_]\w*)\[\s*1\s*\.\.\s*([A-Za-z_]\w*)\s*\]", sim_text))
    for node, column in re.findall(r"([A-Za-z_]\w*)\[\s*([A-Za-z_]\w*)\s*\[", sim_text):
        plate = declared.get(node)
        if column in columns and plate and plate not in assigned and columns[column].labels:
            sizes[plate] = len(columns[column].labels)
    for name, letter in re.findall(r"([A-Za-z_]\w*)\[\s*([a-z])\s*\]\s*~", sim_text):
        if name in columns and letter.upper() not in assigned:
            sizes.setdefault(letter.upper(), int(columns[name].values.size))
    return sizes


def parse_with_tables(sim_text: str, note_text: str, path: str,
                      first_line: int) -> tuple[ModelSpec | None, list[Diagnostic], dict[str, Column]]:
    """parse_sim on the block with the note's table columns bound as data."""
    prelude, columns = bind(sim_text, read_tables(note_text))
    if not prelude:
        spec, diagnostics = parse_sim(sim_text, path, first_line)
        return spec, diagnostics, columns
    shift = prelude.count("\n") + 1
    spec, diagnostics = parse_sim(prelude + "\n" + sim_text, path, first_line - shift)
    table_line = min(c.line for c in columns.values())
    pinned = [d if d.line >= first_line else Diagnostic(d.path, table_line, d.severity, d.message, d.col)
              for d in diagnostics]
    if spec is not None:
        spec.line = first_line                       # the block's, not the prelude's first line
        for node in spec.nodes.values():
            if node.line < first_line:
                node.line = columns[node.name].line if node.name in columns else table_line
        _keep_labels(spec, columns)
    return spec, pinned, columns


def _keep_labels(spec: ModelSpec, columns: dict[str, Column]) -> None:
    """Give each grouping column's node its group names, so captions can say which is which."""
    for name, column in columns.items():
        node = spec.nodes.get(name)
        if column.labels and node is not None and node.kind == "data":
            node.labels = list(column.labels)


def parameter_labels(spec: ModelSpec, names: list[str]) -> dict[str, str]:
    """The group label of each indexed parameter (`theta[2]` -> "Hillside") that has one."""
    by_plate = plate_labels(spec)
    found = {}
    for name in names:
        base, bracket, rest = name.partition("[")
        node = spec.nodes.get(base)
        if not bracket or node is None or len(node.plates) != 1 or node.plates[0] not in by_plate:
            continue
        k = int(rest.rstrip("]")) - 1
        if k < len(by_plate[node.plates[0]]):
            found[name] = by_plate[node.plates[0]][k]
    return found


def plate_labels(spec: ModelSpec) -> dict[str, list[str]]:
    """Plate -> group labels, for each plate some node reads through a grouping column
    (`theta[school[i]]` labels theta's plate with the schools)."""
    found: dict[str, list[str]] = {}
    ambiguous = set()
    for node in spec.nodes.values():
        for expr in [*node.args.values(), *([node.expr] if node.expr is not None else [])]:
            for target, column in _grouped_reads(expr):
                target_node, column_node = spec.nodes.get(target), spec.nodes.get(column)
                if column_node is None or not column_node.labels or target_node is None:
                    continue
                if len(target_node.plates) != 1:
                    continue
                plate = target_node.plates[0]
                if found.setdefault(plate, column_node.labels) != column_node.labels:
                    ambiguous.add(plate)
    return {plate: labels for plate, labels in found.items() if plate not in ambiguous}


def _grouped_reads(expr: Expr) -> list[tuple[str, str]]:
    """(node, column) for every `node[column[…]]` in the expression."""
    found = []
    if expr.op == "index" and len(expr.args) == 2:
        base, index = expr.args
        if base.op == "name" and index.op == "index" and index.args[0].op == "name":
            found.append((str(base.value), str(index.args[0].value)))
    for sub in expr.args:
        found += _grouped_reads(sub)
    return found
