"""How a simulation's figure looks, apart from the model: read by `sim.figures` and
`infer.figures` when they draw, and by `models.run`, whose cache key includes it (so a change of
size or resolution renders every figure again). Kept apart from the drawing code so that a run
whose every card comes from the cache imports no drawing code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FigureOptions:
    """Everything about the look that is not in the model; part of the cache key."""

    width_in: float = 4.8              # every figure: 528 px, two panels a row (see docs/simulations.md)
    dpi: int = 110
    panel_height_in: float = 2.3
    max_variables: int = 5
    scatter_points: int = 500
    bins: int = 50


FIGURE_OPTIONS = FigureOptions()
