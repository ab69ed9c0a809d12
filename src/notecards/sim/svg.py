"""A small SVG writer for the model figures: shapes, paths and text in pixel coordinates.

Why SVG and not matplotlib: a model figure is a few dozen flat shapes and lines of text, and
matplotlib spent 60–70 ms of CPU drawing one (its artists, tick machinery and text rasterising,
then the PNG's palette and deflate), most of a card's cost. Written as SVG the same figure costs
a few milliseconds, is a third of the bytes, stays sharp at a phone's 3× pixel density, and its
text is real text. The figure keeps its pixel size (`width`/`height` are its intrinsic size; the
card's CSS scales it down to the screen) and the white background that night mode inverts.

Text: the viewer's fonts draw it (an <img> cannot load one), so the font list starts with the
DejaVu Sans every matplotlib figure used and falls back to the wide sans fonts every system has
(Verdana's advances are DejaVu's within a few per cent). Layout measures text with DejaVu Sans's
own advances (the font file matplotlib ships, read by Pillow; matplotlib is not imported) and
leaves `FONT_SLACK` for a fallback font. Numbers are written with one decimal and the file has no
date or generator stamp, so equal input gives equal bytes.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Iterable, Sequence

FONT_FAMILY = "DejaVu Sans,Verdana,Geneva,Arial,sans-serif"
ASCENT = 0.76        # DejaVu Sans, in em: a capital's top above the baseline
DESCENT = 0.24       # and a descender's bottom below it
CHAR_EM, WIDE_EM = 0.64, 0.9      # bounds on a glyph's advance in em, when the font file is missing
WIDE = frozenset("−—–mwMW@%ωΩ")
FONT_SLACK = 1.06                  # room left for a fallback font a little wider than DejaVu Sans
MEASURE_PX = 100


def num(value: float) -> str:
    """A coordinate with one decimal, without a trailing `.0` (and never `-0`)."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


@lru_cache(maxsize=2)
def _font(bold: bool):
    """DejaVu Sans (or its bold) at `MEASURE_PX`, from matplotlib's fonts, or None."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf" / \
        ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        from PIL import ImageFont

        return ImageFont.truetype(str(path), MEASURE_PX)
    except OSError:
        return None


def text_width(text: str, size_px: float, bold: bool = False) -> float:
    """The width of `text` at `size_px` in DejaVu Sans, with room for a fallback font."""
    font = _font(bold)
    if font is None:
        return sum(WIDE_EM if c in WIDE else CHAR_EM for c in text) * size_px * (1.1 if bold else 1.0)
    return font.getlength(text) / MEASURE_PX * size_px * FONT_SLACK


def baseline(y: float, size_px: float, valign: str) -> float:
    """The baseline that puts a line of text's top, centre or bottom at `y`."""
    if valign == "top":
        return y + ASCENT * size_px
    if valign == "center":
        return y + (ASCENT - DESCENT) * size_px / 2
    if valign == "bottom":
        return y - DESCENT * size_px
    return y


@dataclass(frozen=True)
class Stroke:
    """How a line or an outline is painted."""

    color: str
    width: float = 1.0
    opacity: float = 1.0
    dash: tuple[float, float] | None = None

    def attrs(self) -> str:
        out = f' stroke="{self.color}" stroke-width="{num(self.width)}"'
        if self.opacity < 1:
            out += f' stroke-opacity="{self.opacity:g}"'
        if self.dash:
            out += f' stroke-dasharray="{num(self.dash[0])} {num(self.dash[1])}"'
        return out


def _fill(color: str | None, opacity: float = 1.0) -> str:
    if color is None:
        return ' fill="none"'
    return f' fill="{color}"' + (f' fill-opacity="{opacity:g}"' if opacity < 1 else "")


def tenths(value: int) -> str:
    """A length given in tenths of a pixel, as short as SVG allows (`-.4`, `1.2`, `7`)."""
    whole, part = divmod(abs(value), 10)
    text = (str(whole) if whole else "") + (f".{part}" if part else "") or "0"
    return ("-" if value < 0 else "") + text


def relative_d(xs: Iterable[float], ys: Iterable[float], whole: bool = False) -> str:
    """Path data through the points in order, each step relative to the last and rounded to a
    tenth of a pixel (the steps are rounded positions' differences, so no error accumulates):
    about half the bytes of absolute coordinates. `whole` rounds to whole pixels instead, for a
    line so dense (a trace of 2,000 draws) that no eye can follow a single step of it."""
    scale = 1 if whole else 10
    points = [(round(x * scale) * (10 // scale), round(y * scale) * (10 // scale)) for x, y in zip(xs, ys)]
    if not points:
        return ""
    (x0, y0), out = points[0], []
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        dy = tenths(yb - ya)
        out.append(tenths(xb - xa) + ("" if dy.startswith("-") else " ") + dy)
    return f"M{tenths(x0)} {tenths(y0)}" + ("l" + " ".join(out) if out else "")


@dataclass
class Svg:
    """One figure being written: its size in pixels and its elements in drawing order."""

    width: float
    height: float
    parts: list[str] = field(default_factory=list)
    clips: int = 0

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str | None = None, opacity: float = 1.0,
             stroke: Stroke | None = None, radius: float = 0.0) -> None:
        corner = f' rx="{num(radius)}"' if radius else ""
        self.parts.append(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}"{corner}'
                          f'{_fill(fill, opacity)}{stroke.attrs() if stroke else ""}/>')

    def path(self, d: str, *, fill: str | None = None, opacity: float = 1.0, stroke: Stroke | None = None,
             clip: str | None = None, joined: bool = False) -> None:
        if not d:
            return
        extra = f' clip-path="url(#{clip})"' if clip else ""
        extra += ' stroke-linejoin="round"' if joined else ""
        self.parts.append(f'<path d="{d}"{_fill(fill, opacity)}{stroke.attrs() if stroke else ""}{extra}/>')

    def line(self, x0: float, y0: float, x1: float, y1: float, stroke: Stroke) -> None:
        self.path(f"M{num(x0)} {num(y0)}L{num(x1)} {num(y1)}", stroke=stroke)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, *, fill: str, stroke: Stroke) -> None:
        self.parts.append(f'<ellipse cx="{num(cx)}" cy="{num(cy)}" rx="{num(rx)}" ry="{num(ry)}"'
                          f'{_fill(fill)}{stroke.attrs()}/>')

    def dots(self, xs: Sequence[float], ys: Sequence[float], diameter: float, color: str, opacity: float = 1.0,
             clip: str | None = None) -> None:
        """Round markers. Each is its own element so that translucent markers darken where they
        overlap, as a scatter of draws should; positions are whole pixels, which at a marker's
        size no eye can tell from exact ones and which keeps a 1,500-point scatter small."""
        if len(xs) == 0:
            return
        group = (f'<g stroke="{color}" stroke-width="{num(diameter)}" stroke-linecap="round"'
                 + (f' stroke-opacity="{opacity:g}"' if opacity < 1 else "")
                 + (f' clip-path="url(#{clip})"' if clip else "") + ">")
        marks = "".join(f'<path d="M{round(x)} {round(y)}h0"/>' for x, y in zip(xs, ys))
        self.parts.append(group + marks + "</g>")

    def text(self, x: float, y: float, text: str, size: float, *, color: str = "#000000", anchor: str = "start",
             valign: str = "baseline", bold: bool = False, vertical: bool = False) -> None:
        """A line of text; `anchor` is start, middle or end; `vertical` turns it to read upwards,
        its baseline towards +x (an axis label left of its axis)."""
        base_y = baseline(y, size, valign)
        attrs = f' font-size="{num(size)}"' + (f' fill="{color}"' if color != "#000000" else "")
        attrs += f' text-anchor="{anchor}"' if anchor != "start" else ""
        attrs += ' font-weight="bold"' if bold else ""
        if vertical:
            base_x = x - DESCENT * size if valign == "bottom" else x
            attrs += f' transform="rotate(-90 {num(base_x)} {num(y)})"'
            self.parts.append(f'<text x="{num(base_x)}" y="{num(y)}"{attrs}>{escape(text)}</text>')
            return
        self.parts.append(f'<text x="{num(x)}" y="{num(base_y)}"{attrs}>{escape(text)}</text>')

    def clip_rect(self, x: float, y: float, w: float, h: float) -> str:
        """A clip path for a panel's data, by a name unique within this figure."""
        self.clips += 1
        name = f"c{self.clips}"
        self.parts.append(f'<clipPath id="{name}"><rect x="{num(x)}" y="{num(y)}" width="{num(w)}" '
                          f'height="{num(h)}"/></clipPath>')
        return name

    def to_bytes(self, title: str) -> bytes:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(self.width)}" height="{num(self.height)}" '
                f'viewBox="0 0 {num(self.width)} {num(self.height)}" font-family="{FONT_FAMILY}">'
                f"<title>{escape(title)}</title>")
        return (head + "".join(self.parts) + "</svg>\n").encode("utf-8")
