"""Model stage: where a card's model comes from — a ```sim block, a ```python sim block, or the
card's own LaTeX. Cards with neither cost nothing: numpy and the sim parser are imported only
when a card could hold a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notecards.sim.model import ModelSpec
from notecards.types import CardBlock, Diagnostic

_SIM_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>python[ \t]+sim|sim)[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S,
)


@dataclass
class ModelSource:
    """A card's model: a parsed spec, or code to run in the sandbox."""

    line: int
    spec: ModelSpec | None = None
    code: str | None = None


def find_model(block: CardBlock) -> tuple[ModelSource | None, list[Diagnostic]]:
    """The card's model, from its first sim block or else from its LaTeX; None when it has none."""
    for name, text in block.fields.items():
        match = _SIM_FENCE.search(text)
        if match is None:
            continue
        line = block.field_lines.get(name, block.line) + text.count("\n", 0, match.start())
        if match["info"].startswith("python"):
            return ModelSource(line, code=match["body"]), []
        from notecards.sim.lang import parse_sim
        spec, diagnostics = parse_sim(match["body"], block.path, line + 1)
        return (ModelSource(line, spec=spec) if spec else None), diagnostics
    if not any("\\sim" in text for text in block.fields.values()):
        return None, []
    from notecards.sim.latex import model_from_latex
    spec, diagnostics = model_from_latex(block)
    return (ModelSource(spec.line, spec=spec) if spec else None), diagnostics
