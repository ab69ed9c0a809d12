"""Variable names as the card's math writes them, shared by every figure and caption."""

from __future__ import annotations

from notecards.sim.expr import GREEK_LETTERS as GREEK
from notecards.sim.model import Node

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def pretty(name: str, node: Node | None = None) -> str:
    """A variable as the card's math writes it: Greek words become letters, plates show their index."""
    base, _, suffix = name.partition("_")
    word = base.rstrip("0123456789")
    digits = base[len(word):]
    if digits == "2" and word in GREEK:
        base = GREEK[word] + "²"                       # sigma2 is how a sim block writes σ²
    elif digits and word:
        base = GREEK.get(word, word) + digits.translate(SUBSCRIPTS)    # mu0 is μ₀
    text = GREEK.get(base, base) + (f"_{GREEK.get(suffix, suffix)}" if suffix else "")
    if node is not None and node.plates and node.indices:
        text += f"[{','.join(node.indices)}]"
    return text
