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

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from notecards.sim.labels import pretty
from notecards.sim.model import ModelSpec
from notecards.sim.panel import Panel
from notecards.sim.style import INK, MUTED
from notecards.sim.svg import Stroke

FONT_PT = 13.0
CHAR_IN = 0.62 * FONT_PT / 72          # an upper bound on one DejaVu Sans glyph's advance
LEVEL_IN = 0.78
GAP_IN = 0.22
MIN_RADIUS_IN = 0.23
PLATE_PAD_IN = 0.1
PLATE_LABEL_IN = 0.22
OVERHANG_IN = 0.2          # how far a graph in one column may reach into the gap beside it
MAX_NODES = 14
SWEEPS = 4


@dataclass(frozen=True)
class Placed:
    """One node of the drawn graph: its centre (inches), its half-width, and how it is drawn."""

    name: str
    label: str
    x: float
    y: float
    half: float                      # half the width
    const: bool

    @property
    def rise(self) -> float:
        """Half the height: a circle for a short label, an ellipse as tall as a circle for a long one."""
        return 0.1 if self.const else min(self.half, MIN_RADIUS_IN + 0.02)

    def edge(self, dx: float, dy: float) -> float:
        """Distance (inches) from the centre to the node's edge towards (dx, dy)."""
        a, b = self.half, self.rise
        norm = math.hypot(dx, dy) or 1.0
        return a * b / math.hypot(b * dx / norm, a * dy / norm)


def graph_nodes(spec: ModelSpec) -> tuple[list[str], set[str]]:
    """The names drawn (constants that feed a draw, then the draws) and which are constants;
    beyond `MAX_NODES` the constants are left out so the graph stays legible."""
    drawn = [n for n in spec.nodes.values() if n.kind in ("stochastic", "deterministic")]
    used = {p for n in drawn for p in n.parents} - {",".join(n.plates) or None for n in drawn}
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
    """Every drawn node with its position, level by level from the top: first each row ordered by
    where its nodes' parents are, then `SWEEPS` passes up and down the rows ordering each by the
    mean position of its nodes' children (up) or parents (down) — the barycentre heuristic of
    layered graph drawing — keeping the order whose arrows cross least."""
    names, consts = graph_nodes(spec)
    if not names:
        return []
    level = levels(spec, names, consts)
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(level[name], []).append(name)
    placed: dict[str, Placed] = {}
    for d in sorted(rows):
        rows[d] = sorted(rows[d], key=lambda n: _row_order(spec, n, placed, names))
        _place_row(spec, rows[d], d, consts, placed)
    best = _clear_plates(spec, list(placed.values()))
    fewest = _crossings(spec, best)
    for sweep in range(SWEEPS):
        upwards = sweep % 2 == 0
        for d in sorted(rows, reverse=upwards):
            rows[d] = sorted(rows[d], key=lambda n: _barycentre(spec, n, placed, names, upwards))
            _place_row(spec, rows[d], d, consts, placed)
        cleared = _clear_plates(spec, list(placed.values()))
        if _crossings(spec, cleared) < fewest:
            best, fewest = cleared, _crossings(spec, cleared)
    return best


def _barycentre(spec: ModelSpec, name: str, placed: dict[str, Placed], names: list[str], children: bool) -> tuple:
    """Plates first, as in `_row_order`; then the mean position of the node's children (or
    parents), its own position when it has none."""
    plated, plate, _, index = _row_order(spec, name, placed, names)
    if children:
        xs = [placed[c].x for c in placed if name in _parents(spec, c)]
    else:
        xs = [placed[p].x for p in _parents(spec, name) if p in placed]
    return (plated, plate, float(np.mean(xs)) if xs else placed[name].x, index)


def _crossings(spec: ModelSpec, nodes: list[Placed]) -> int:
    """How many pairs of arrows cross (arrows sharing a node never do)."""
    placed = {n.name: n for n in nodes}
    arrows = [(placed[p], node) for node in nodes for p in _parents(spec, node.name) if p in placed]
    return sum(1 for (a, b), (c, d) in itertools.combinations(arrows, 2)
               if len({a.name, b.name, c.name, d.name}) == 4 and _cross((a.x, a.y), (b.x, b.y), (c.x, c.y), (d.x, d.y)))


def _cross(p, q, r, s) -> bool:
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


def _place_row(spec: ModelSpec, row: list[str], d: int, consts: set[str], placed: dict[str, Placed]) -> None:
    """The row's nodes side by side in this order, centred, plates' members kept apart."""
    sizes = [_half_width(spec, n, n in consts) for n in row]
    plated = [plate_of(spec, n) for n in row]
    gaps = [GAP_IN + (2 * PLATE_PAD_IN if a != b else 0.0) for a, b in zip(plated, plated[1:])]
    x = -(2 * sum(sizes) + sum(gaps)) / 2
    for k, (name, half) in enumerate(zip(row, sizes)):
        x += half
        placed[name] = Placed(name, pretty(name, spec.nodes.get(name)), x, -d * LEVEL_IN, half, name in consts)
        x += half + (gaps[k] if k < len(gaps) else 0.0)


def _parents(spec: ModelSpec, name: str) -> list[str]:
    node = spec.nodes.get(name)
    return list(node.parents) if node is not None else []


def _clear_plates(spec: ModelSpec, nodes: list[Placed]) -> list[Placed]:
    """Move every node a plate's box would hold without being in the plate out of the box, to the
    side nearer its centre, pushing its row's nodes on that side along, so a box holds only its
    own nodes (and an arrow from the left stays on the left)."""
    for _ in range(len(nodes)):
        moved = False
        for plate in plate_boxes(spec, nodes):
            x0, y0, x1, y1 = plate.box
            for k, node in enumerate(nodes):
                if node.name in plate.members or not (node.y + node.rise > y0 and node.y - node.rise < y1):
                    continue
                if node.x + node.half > x0 and node.x - node.half < x1:
                    left = node.x < (x0 + x1) / 2
                    nodes[k] = replace(node, x=x0 - GAP_IN - node.half if left else x1 + GAP_IN + node.half)
                    nodes = _repack_row(nodes, nodes[k], -1 if left else 1)
                    moved = True
        if not moved:
            break
    return nodes


def _repack_row(nodes: list[Placed], pushed: Placed, direction: int = 1) -> list[Placed]:
    """Nodes beyond `pushed` in its row (right of it for `direction` 1, left for -1) move on as
    far as needed to keep their gap."""
    row = sorted((n for n in nodes if n.y == pushed.y and n.name != pushed.name
                  and (n.x - pushed.x) * direction >= -1e-9), key=lambda n: n.x * direction)
    edge = pushed.x + direction * pushed.half
    moved = {}
    for node in row:
        x = node.x if (node.x - edge) * direction >= GAP_IN + node.half else edge + direction * (GAP_IN + node.half)
        moved[node.name] = replace(node, x=x)
        edge = x + direction * node.half
    return [moved.get(n.name, n) for n in nodes]


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


def needs_full_width(spec: ModelSpec, nodes: list[Placed], panel_height_in: float, column_in: float) -> bool:
    """Whether the graph (`nodes`, its `layout`) needs the figure's whole width (and a row as tall
    as itself) rather than one panel of its two columns."""
    if not nodes:
        return False
    wide = max(n.x + n.half for n in nodes) - min(n.x - n.half for n in nodes) > column_in + OVERHANG_IN
    return wide or height_in(spec, nodes) > panel_height_in


def height_in(spec: ModelSpec, nodes: list[Placed]) -> float:
    """The inches the graph (`nodes`, its `layout`) needs top to bottom, plate labels included."""
    if not nodes:
        return 0.0
    top = max(n.y + n.rise for n in nodes)
    bottom = min([n.y - n.rise for n in nodes] + [b.box[1] for b in plate_boxes(spec, nodes)])
    return top - bottom + 0.15


def draw_model_graph(panel: Panel, spec: ModelSpec, nodes: list[Placed]) -> None:
    """Nodes (circles for draws, shaded when observed, dashed when deterministic, bare text for
    constants), arrows from parents, and plates as rounded boxes labelled with their size, at one
    inch of the layout (`nodes`) per inch of the figure, centred across the panel and from its top.
    The layout is the caller's: it costs milliseconds, and the figure's grid needs it first."""
    if not nodes:
        return
    scale = panel.px_per_pt * 72
    left = min(n.x - n.half for n in nodes)
    right = max(n.x + n.half for n in nodes)
    top = max(n.y + n.rise for n in nodes) + 0.05
    panel.xlim = ((left + right) / 2 - panel.w / scale / 2, (left + right) / 2 + panel.w / scale / 2)
    panel.ylim = (top - panel.h / scale, top)
    by_name = {n.name: n for n in nodes}
    _draw_plates(panel, spec, nodes)
    for node in nodes:
        _draw_node(panel, spec, node)
    for node in nodes:
        spec_node = spec.nodes.get(node.name)
        for parent in (spec_node.parents if spec_node is not None else []):
            if parent in by_name:
                _arrow(panel, by_name[parent], node)


def _draw_node(panel: Panel, spec: ModelSpec, node: Placed) -> None:
    x, y = float(panel.px(node.x)), float(panel.py(node.y))
    if not node.const:
        model_node = spec.nodes.get(node.name)
        observed = model_node is not None and model_node.observed is not None
        dashed = model_node is not None and model_node.kind == "deterministic"
        scale = panel.px_per_pt * 72
        stroke = Stroke(INK, panel.pt(1.3), dash=(panel.pt(4.8), panel.pt(2.1)) if dashed else None)
        panel.svg.ellipse(x, y, node.half * scale, node.rise * scale, fill="#d5d5d5" if observed else "#ffffff",
                          stroke=stroke)
    panel.svg.text(x, y, node.label, panel.pt(FONT_PT), color=MUTED if node.const else INK, anchor="middle",
                   valign="center")


def _arrow(panel: Panel, start: Placed, end: Placed) -> None:
    """An arrow from edge to edge, a point clear of each, so it never runs through a label."""
    dx, dy = end.x - start.x, end.y - start.y
    length = math.hypot(dx, dy)
    if length == 0:
        return
    ux, uy = dx / length, dy / length
    gap = 1 / 72
    begin = start.edge(dx, dy) + gap
    finish = length - end.edge(-dx, -dy) - gap
    if finish <= begin:
        return
    head_in, half_in = 0.4 * 11 / 72, 0.2 * 11 / 72           # matplotlib's "-|>" at mutation scale 11
    tip = (end.x - ux * (length - finish), end.y - uy * (length - finish))
    neck = (tip[0] - ux * head_in, tip[1] - uy * head_in)
    x0, y0 = float(panel.px(start.x + ux * begin)), float(panel.py(start.y + uy * begin))
    panel.svg.line(x0, y0, float(panel.px(neck[0])), float(panel.py(neck[1])), Stroke(MUTED, panel.pt(1.1)))
    corners = [tip, (neck[0] - uy * half_in, neck[1] + ux * half_in), (neck[0] + uy * half_in, neck[1] - ux * half_in)]
    head = "M" + "L".join(f"{float(panel.px(cx)):.1f} {float(panel.py(cy)):.1f}" for cx, cy in corners) + "Z"
    panel.svg.path(head, fill=MUTED)


@dataclass(frozen=True)
class PlateBox:
    """A plate's rounded box and the box its size label takes, below its nodes (inches)."""

    plate: str
    label: str
    members: frozenset[str]
    box: tuple[float, float, float, float]           # x0, y0, x1, y1
    label_box: tuple[float, float, float, float]


def plate_boxes(spec: ModelSpec, nodes: list[Placed]) -> list[PlateBox]:
    """Each plate's box around its nodes, with its size label below them at the right; a plate
    whose nodes hold a smaller plate's (y[i, j] in I inside J) holds that whole box, label too."""
    plates: dict[str, list[Placed]] = {}
    for node in nodes:
        for plate in plates_of(spec, node.name):
            plates.setdefault(plate, []).append(node)
    out: list[PlateBox] = []
    for plate, members in sorted(plates.items(), key=lambda item: (len(item[1]), item[0])):
        names = frozenset(n.name for n in members)
        label = _plate_label(spec, plate)
        label_width = len(label) * CHAR_IN * 0.85
        inner = [b for b in out if b.members <= names]
        x0 = min([n.x - n.half for n in members] + [b.box[0] for b in inner]) - PLATE_PAD_IN
        x1 = max([n.x + n.half for n in members] + [b.box[2] for b in inner]) + PLATE_PAD_IN
        x1 = max(x1, x0 + label_width + 2 * PLATE_PAD_IN)
        bottom = min([n.y - n.rise for n in members] + [b.box[1] for b in inner])
        y0 = bottom - PLATE_LABEL_IN - PLATE_PAD_IN
        y1 = max([n.y + n.rise for n in members] + [b.box[3] for b in inner]) + PLATE_PAD_IN
        label_box = (x1 - 0.05 - label_width, y0 + 0.03, x1 - 0.05, bottom - 0.02)
        out.append(PlateBox(plate, label, names, (x0, y0, x1, y1), label_box))
    return out


def _draw_plates(panel: Panel, spec: ModelSpec, nodes: list[Placed]) -> None:
    scale = panel.px_per_pt * 72
    for plate in plate_boxes(spec, nodes):
        x0, y0, x1, y1 = plate.box
        panel.svg.rect(float(panel.px(x0)), float(panel.py(y1)), (x1 - x0) * scale, (y1 - y0) * scale,
                       stroke=Stroke(MUTED, panel.pt(1.0)), radius=0.08 * scale)
        panel.svg.text(float(panel.px(plate.label_box[2])), float(panel.py(plate.label_box[1])), plate.label,
                       panel.pt(FONT_PT * 0.85), color=MUTED, anchor="end", valign="bottom")


def plate_of(spec: ModelSpec, name: str) -> str | None:
    """The plate a node is drawn in (`I,J` for y[i, j]): its own, or for a data vector
    (`s = [15, 10, 16]` read as `s[j]`) the plate of the draws that index it."""
    node = spec.nodes.get(name)
    if node is None:
        return None
    if node.plates:
        return ",".join(node.plates)
    if node.value is None or np.ndim(node.value) != 1:
        return None
    plates = {",".join(n.plates) or None for n in spec.nodes.values() if name in n.parents}
    return plates.pop() if len(plates) == 1 else None


def plates_of(spec: ModelSpec, name: str) -> tuple[str, ...]:
    """Every plate a node is in: y[i, j] is in I and in J."""
    plate = plate_of(spec, name)
    return tuple(p.strip() for p in plate.split(",")) if plate else ()


def _plate_label(spec: ModelSpec, plate: str) -> str:
    size = spec.nodes.get(plate)
    value = size.value if size is not None else spec.defaults.get(plate)
    if value is not None and np.ndim(value) == 0:
        return f"{pretty(plate)} = {int(value)}"
    return pretty(plate)
