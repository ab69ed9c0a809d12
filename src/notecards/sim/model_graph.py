"""The model graph panel: nodes laid out by levels, sized to their labels, so no label sits on
another label, node or plate.

Levels: a draw sits one below its deepest drawn parent; a draw whose parents are all constants
(a root, such as σ² ~ Inverse-Gamma(a, b)) is pushed down to just above its shallowest child, so
its constants do not crowd the top row; a constant sits one above its first child. Within a
level, nodes of a plate stay together (its box then holds only its own nodes) and the rest are
ordered by where their parents are, which keeps arrows short and rarely crossing.

Positions are in inches of the panel, so the sizes below are the sizes on the page: a node is a
circle wide enough for its label at the panel's font size, a level is `LEVEL_IN` below the one
above, neighbours are at least `GAP_IN` apart, and a plate's box is widened and lowered to hold
its size label below its nodes, not on them. A graph too wide for half the figure spans its full
width (see `needs_full_width`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from notecards.sim.labels import pretty
from notecards.sim.model import ModelSpec
from notecards.sim.style import INK, MUTED

FONT_PT = 11.0
CHAR_IN = 0.62 * FONT_PT / 72          # an upper bound on one DejaVu Sans glyph's advance
LEVEL_IN = 0.78
GAP_IN = 0.22
MIN_RADIUS_IN = 0.2
PLATE_PAD_IN = 0.1
PLATE_LABEL_IN = 0.22
HALF_WIDTH_IN = 2.7
MAX_NODES = 14


@dataclass(frozen=True)
class Placed:
    """One node of the drawn graph: its centre (inches), its half-width, and how it is drawn."""

    name: str
    label: str
    x: float
    y: float
    half: float
    const: bool


def graph_nodes(spec: ModelSpec) -> tuple[list[str], set[str]]:
    """The names drawn (constants that feed a draw, then the draws) and which are constants;
    beyond `MAX_NODES` the constants are left out so the graph stays legible."""
    drawn = [n for n in spec.nodes.values() if n.kind in ("stochastic", "deterministic")]
    used = {p for n in drawn for p in n.parents} - {n.plate for n in drawn}
    consts = [n.name for n in spec.nodes.values() if n.kind in ("const", "data") and n.name in used]
    consts += [name for name in spec.defaults if name in used and name not in consts]
    if len(consts) + len(drawn) > MAX_NODES:
        consts = []
    return consts + [n.name for n in drawn], set(consts)


def levels(spec: ModelSpec, names: list[str], consts: set[str]) -> dict[str, int]:
    """Each drawn name's level, 0 at the top (see the module docstring)."""
    drawn = [spec.nodes[n] for n in names if n not in consts]
    level: dict[str, int] = {}
    for node in drawn:
        level[node.name] = 1 + max((level[p] for p in node.parents if p in level), default=0)
    children = {n.name: [c.name for c in drawn if n.name in c.parents] for n in drawn}
    for node in reversed(drawn):          # roots move down to just above their shallowest child
        if not any(p in level for p in node.parents) and children[node.name]:
            level[node.name] = max(level[node.name], min(level[c] for c in children[node.name]) - 1)
    for name in consts:
        level[name] = min((level[n.name] for n in drawn if name in n.parents), default=1) - 1
    top = min(level.values(), default=0)
    return {name: d - top for name, d in level.items()}


def layout(spec: ModelSpec) -> list[Placed]:
    """Every drawn node with its position, level by level from the top."""
    names, consts = graph_nodes(spec)
    if not names:
        return []
    level = levels(spec, names, consts)
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(level[name], []).append(name)
    placed: dict[str, Placed] = {}
    for d in sorted(rows):
        row = sorted(rows[d], key=lambda n: _row_order(spec, n, placed, names))
        sizes = [_half_width(spec, n, n in consts) for n in row]
        plated = [plate_of(spec, n) for n in row]
        gaps = [GAP_IN + (2 * PLATE_PAD_IN if a != b else 0.0) for a, b in zip(plated, plated[1:])]
        width = 2 * sum(sizes) + sum(gaps)
        x = -width / 2
        for k, (name, half) in enumerate(zip(row, sizes)):
            x += half
            placed[name] = Placed(name, pretty(name, spec.nodes.get(name)), x, -d * LEVEL_IN, half, name in consts)
            x += half + (gaps[k] if k < len(gaps) else 0.0)
    return list(placed.values())


def _row_order(spec: ModelSpec, name: str, placed: dict[str, Placed], names: list[str]) -> tuple:
    """Plates first (each together), then by the mean position of the node's placed parents, then
    by model order, so equal input gives an equal layout."""
    node = spec.nodes.get(name)
    parents = [placed[p].x for p in (node.parents if node else []) if p in placed]
    children = [c for c in spec.nodes.values() if name in c.parents]
    plate = plate_of(spec, name) or (plate_of(spec, children[0].name) if children else None)
    return (plate is None, plate or "", float(np.mean(parents)) if parents else 0.0, names.index(name))


def _half_width(spec: ModelSpec, name: str, const: bool) -> float:
    text = len(pretty(name, spec.nodes.get(name))) * CHAR_IN / 2
    return text + 0.04 if const else max(MIN_RADIUS_IN, text + 0.07)


def needs_full_width(spec: ModelSpec) -> bool:
    """Whether the graph needs the figure's whole width rather than one of its two columns."""
    nodes = layout(spec)
    if not nodes:
        return False
    return max(n.x + n.half for n in nodes) - min(n.x - n.half for n in nodes) > HALF_WIDTH_IN


def height_in(spec: ModelSpec) -> float:
    """The inches the graph needs top to bottom, plate labels included."""
    nodes = layout(spec)
    depth = -min((n.y for n in nodes), default=0.0)
    return depth + 2 * MIN_RADIUS_IN + PLATE_LABEL_IN + 2 * PLATE_PAD_IN


def draw_model_graph(ax, spec: ModelSpec, box_in: tuple[float, float]) -> None:
    """Nodes (circles for draws, shaded when observed, dashed when deterministic, bare text for
    constants), arrows from parents, and plates as rounded boxes labelled with their size; the
    axes (`box_in`: its width and height in inches) get limits in inches, centred on the graph."""
    nodes = layout(spec)
    ax.set_axis_off()
    if not nodes:
        return
    width, height = box_in
    left = min(n.x - n.half for n in nodes)
    right = max(n.x + n.half for n in nodes)
    top = max(n.y for n in nodes) + MIN_RADIUS_IN + 0.05
    centre = (left + right) / 2
    ax.set_xlim(centre - width / 2, centre + width / 2)
    ax.set_ylim(top - height, top)
    by_name = {n.name: n for n in nodes}
    _draw_plates(ax, spec, nodes)
    for node in nodes:
        _draw_node(ax, spec, node)
    for node in nodes:
        spec_node = spec.nodes.get(node.name)
        for parent in (spec_node.parents if spec_node is not None else []):
            if parent in by_name:
                _arrow(ax, by_name[parent], node)


def _draw_node(ax, spec: ModelSpec, node: Placed) -> None:
    if node.const:
        ax.text(node.x, node.y, node.label, ha="center", va="center", fontsize=FONT_PT, color=MUTED)
        return
    model_node = spec.nodes.get(node.name)
    observed = model_node is not None and model_node.observed is not None
    dashed = model_node is not None and model_node.kind == "deterministic"
    ax.add_artist(Circle((node.x, node.y), node.half, facecolor="#d5d5d5" if observed else "white",
                        edgecolor=INK, linewidth=1.3, linestyle="--" if dashed else "-"))
    ax.text(node.x, node.y, node.label, ha="center", va="center", fontsize=FONT_PT, color=INK)


def _arrow(ax, start: Placed, end: Placed) -> None:
    """An arrow from edge to edge, so it never runs through a label (shrink is in points)."""
    ax.add_artist(FancyArrowPatch((start.x, start.y), (end.x, end.y), arrowstyle="-|>", mutation_scale=11,
                                 linewidth=1.1, color=MUTED, shrinkA=(start.half if not start.const else 0.1) * 72,
                                 shrinkB=end.half * 72 + 1))


def _draw_plates(ax, spec: ModelSpec, nodes: list[Placed]) -> None:
    plates: dict[str, list[Placed]] = {}
    for node in nodes:
        plate = plate_of(spec, node.name)
        if plate:
            plates.setdefault(plate, []).append(node)
    for plate, members in plates.items():
        label = _plate_label(spec, plate)
        x0 = min(n.x - n.half for n in members) - PLATE_PAD_IN
        x1 = max(n.x + n.half for n in members) + PLATE_PAD_IN
        x1 = max(x1, x0 + len(label) * CHAR_IN * 0.85 + 2 * PLATE_PAD_IN)
        y0 = min(n.y - n.half for n in members) - PLATE_LABEL_IN - PLATE_PAD_IN
        y1 = max(n.y + n.half for n in members) + PLATE_PAD_IN
        ax.add_artist(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor="none", edgecolor=MUTED, linewidth=1.0))
        ax.text(x1 - 0.05, y0 + 0.04, label, ha="right", va="bottom", fontsize=FONT_PT * 0.85, color=MUTED)


def plate_of(spec: ModelSpec, name: str) -> str | None:
    """The plate a node is drawn in: its own, or for a data vector (`s = [15, 10, 16]` read as
    `s[j]`) the plate of the draws that index it."""
    node = spec.nodes.get(name)
    if node is None:
        return None
    if node.plate:
        return node.plate
    if node.value is None or np.ndim(node.value) != 1:
        return None
    plates = {n.plate for n in spec.nodes.values() if name in n.parents}
    return plates.pop() if len(plates) == 1 else None


def _plate_label(spec: ModelSpec, plate: str) -> str:
    size = spec.nodes.get(plate)
    value = size.value if size is not None else spec.defaults.get(plate)
    if value is not None and np.ndim(value) == 0:
        return f"{pretty(plate)} = {int(value)}"
    return pretty(plate)
