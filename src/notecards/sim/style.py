"""The colours every notecards figure uses, so a card reads the same way in each: blue is what
was simulated, red what is exact, near-black the simulated conditional means.

A figure (SVG, a model's or a fitted card's) has no background of its own: its shapes are
anti-aliased against the card's background whatever it is. In night mode the card's CSS inverts
it and turns the hues back (`invert(0.88) hue-rotate(180deg)`), so black
text becomes light grey, white the card's dark grey, and blue stays blue and red red — one file
per figure, nothing extra to sync (see docs/simulations.md, "Night mode"). Kept apart from any
drawing code so that every figure module can read them without importing another.
"""

from __future__ import annotations

DRAW_COLOR = "#3b6ea8"
EXACT_COLOR = "#c0392b"
BIN_COLOR = "#1e1e1e"
INK = "#222222"
MUTED = "#555555"
