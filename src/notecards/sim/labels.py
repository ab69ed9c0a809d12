"""Variable names as the card's math writes them, shared by every figure and caption."""

from __future__ import annotations

from notecards.sim.expr import GREEK_LETTERS as GREEK
from notecards.sim.model import Node


def pretty(name: str, node: Node | None = None) -> str:
    """A variable as the card's math writes it: Greek words become letters, plates show their index."""
    base, _, suffix = name.partition("_")
    if base.endswith("2") and base[:-1] in GREEK:
        base = GREEK[base[:-1]] + "²"                  # sigma2 is how a sim block writes σ²
    text = GREEK.get(base, base) + (f"_{GREEK.get(suffix, suffix)}" if suffix else "")
    if node is not None and node.plate and node.index:
        text += f"[{node.index}]"
    return text
