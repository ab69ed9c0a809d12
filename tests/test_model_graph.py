"""The model graph of the user's own two- and three-level models (seeds 001, 003, 004, their LaTeX
put in a card): no label over another label, node or plate, and plates that hold only their own
nodes."""

from __future__ import annotations

import itertools

import pytest

from conftest import SEEDS
from notecards.sim.latex import model_from_latex
from notecards.sim.model_graph import layout, plate_boxes
from notecards.types import CardBlock


def seed_spec(prefix: str):
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip("seed notes are not available")
    block = CardBlock(path=f"{prefix}.md", line=0, end_line=10_000, kind="block", note_type="Basic",
                      fields={"Back": matches[0].read_text(encoding="utf-8")}, field_lines={"Back": 1},
                      tags=[], deck="Default", ordinal=0)
    spec, _ = model_from_latex(block)
    assert spec is not None
    return spec


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def node_box(node) -> tuple[float, float, float, float]:
    return (node.x - node.half, node.y - node.rise, node.x + node.half, node.y + node.rise)


@pytest.mark.parametrize("prefix", ["001", "003", "004"])
def test_no_label_sits_on_another_label_node_or_plate(prefix):
    spec = seed_spec(prefix)
    nodes = layout(spec)
    assert len(nodes) >= 4
    for a, b in itertools.combinations(nodes, 2):
        assert not overlap(node_box(a), node_box(b)), (a.label, b.label)
    for plate in plate_boxes(spec, nodes):
        for node in nodes:
            assert not overlap(plate.label_box, node_box(node)), (plate.label, node.label)
            inside = overlap(plate.box, node_box(node))
            assert inside == (node.name in plate.members), (plate.label, node.label)


@pytest.mark.parametrize("prefix, chain", [("001", ["tau2", "u", "beta", "y"]),     # its structural form
                                           ("004", ["tau2", "mu", "y"]), ("004", ["mu_overall", "mu", "y"])])
def test_a_three_level_model_is_laid_out_top_to_bottom_by_level(prefix, chain):
    y = {node.name: node.y for node in layout(seed_spec(prefix))}
    assert [y[name] for name in chain] == sorted((y[name] for name in chain), reverse=True)
    assert len({y[name] for name in chain}) == len(chain)


def crosses(p, q, r, s) -> bool:
    """Whether segment pq properly crosses segment rs (a shared end is not a crossing)."""
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if {p, q} & {r, s}:
        return False
    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


@pytest.mark.parametrize("prefix", ["001", "003", "004"])
def test_no_two_arrows_of_a_seed_model_cross(prefix):
    spec = seed_spec(prefix)
    at = {node.name: (node.x, node.y) for node in layout(spec)}
    arrows = [(at[p], at[n.name]) for n in spec.nodes.values() if n.name in at for p in n.parents if p in at]
    assert len(arrows) >= 3
    for (a, b), (c, d) in itertools.combinations(arrows, 2):
        assert not crosses(a, b, c, d), (a, b, c, d)
