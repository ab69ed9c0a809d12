"""The fixed matplotlib look of a fitted card's figures, and how they are written to a small PNG.

Fitted cards' figures (posterior, shrinkage, trace, posterior predictive) are still drawn by
matplotlib: their cost is the sampler's, not the drawing's. The style is fixed here rather than
read from the user's matplotlibrc, so equal input gives equal bytes on every machine; colours are
the model figures' (`sim.style`), and night mode treats both alike.

`png_bytes` writes a palette PNG: a figure uses a few flat colours and their anti-aliased edges,
which 48 colours hold without visible loss, at a quarter of the bytes of matplotlib's RGBA PNG and
with no Software or date metadata.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from PIL import Image  # noqa: E402

from notecards.sim.style import DRAW_COLOR  # noqa: E402

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 12.5,
    "axes.labelsize": 12.5,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.9,
    "axes.edgecolor": "#444444",
    "axes.prop_cycle": matplotlib.cycler(color=[DRAW_COLOR]),
    "lines.linewidth": 2.2,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": True,
    "agg.path.chunksize": 0,
    "text.usetex": False,
    "mathtext.fontset": "dejavusans",
    "axes.unicode_minus": True,
    "hist.bins": 50,
}

PALETTE_COLORS = 48


def png_bytes(canvas, compress_level: int = 6) -> bytes:
    """The drawn canvas as a palette PNG (deterministic: a fixed quantiser, no dithering)."""
    canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    palette = image.quantize(colors=PALETTE_COLORS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    palette.save(buf, "PNG", compress_level=compress_level)
    return buf.getvalue()
