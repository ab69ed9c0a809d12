"""One panel of a model figure: a box on the figure with data limits, its axes, ticks and the
lines of text above it.

Ticks are the "nice" steps (1, 2, 4, 5 × 10ᵏ) that leave room between their labels: the step
grows until the widest label fits between two ticks, so labels never overlap one
another whatever the range. Labels share one number of decimals (0, 0.5, 1 — not 0, 0.5, 1.0 and
1) and use a true minus sign. Sizes are given in points, as typographers and matplotlib did, and
drawn at the figure's `px_per_pt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from notecards.sim.svg import Stroke, Svg, relative_d, text_width

NICE_STEPS = (1.0, 2.0, 4.0, 5.0, 10.0)
MAX_TICKS = 7
TICK_PT, PAD_PT, LABEL_PAD_PT = 3.5, 3.5, 4.0
# text sizes in points of the 528 px figure, which a 390 px phone shows at two thirds: 13 pt here
# is 13 CSS px there, a caption's size
TICK_LABEL_PT, AXIS_LABEL_PT, HEADER_PT, TITLE_PT, NOTE_PT = 13.0, 14.5, 12.0, 16.0, 11.0
SPINE = "#444444"
# a figure's side margins (fractions of its width) and the gap between two columns (of a column)
LEFT, RIGHT, WSPACE = 0.08, 0.97, 0.28


def column_width(figure_width: float, columns: int = 2) -> float:
    """One column's width, in the unit of `figure_width`, when `columns` share the figure."""
    return (RIGHT - LEFT) * figure_width / (columns + (columns - 1) * WSPACE)


def column_left(figure_width: float, column: float, k: int) -> float:
    """Where the `k`-th column (from 0) of width `column` starts."""
    return LEFT * figure_width + k * column * (1 + WSPACE)


def nice_ticks(lo: float, hi: float, room_px: float, size_px: float, stacked: bool = False) -> list[float]:
    """Tick positions inside [lo, hi] whose labels at `size_px` fit `room_px`: side by side on an
    x axis, one above another (`stacked`) on a y axis. A range too narrow for its magnitude
    (10000.91 to 10000.92) has no such ticks and gets two: its ends, rounded inwards to a tenth
    of a power of ten below the span."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo]
    exponent = math.floor(math.log10(span / MAX_TICKS))
    for k in range(exponent, exponent + 4):
        for base in NICE_STEPS:
            step = base * 10.0 ** k
            ticks = _ticks_at(lo, hi, step)
            if not 2 <= len(ticks) <= MAX_TICKS:
                continue
            need = 2.2 * size_px if stacked else \
                max(text_width(label, size_px) for label in tick_labels(ticks)) + 0.5 * size_px
            if step * room_px / span >= need:
                return ticks
    quantum = 10.0 ** math.floor(math.log10(span)) / 10
    return [math.ceil(lo / quantum) * quantum, math.floor(hi / quantum) * quantum]


def _ticks_at(lo: float, hi: float, step: float) -> list[float]:
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [k * step for k in range(first, last + 1)]


def tick_labels(ticks: list[float]) -> list[str]:
    """The ticks' labels with one shared number of decimals, or — for numbers too large or too
    small to write out — as many significant digits as tell neighbours apart (three at least)."""
    if not ticks:
        return []
    biggest = max(abs(t) for t in ticks)
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else (biggest or 1.0)
    if biggest >= 1e5 or step < 1e-4:
        digits = max(3, math.floor(math.log10(biggest or 1.0)) - math.floor(math.log10(step)) + 2)
        labels = [f"{t:.{digits}g}" for t in ticks]
    else:
        decimals = next(d for d in range(0, 12) if abs(round(step, d) - step) <= 1e-6 * step)
        labels = [f"{0.0 if abs(t) < step * 1e-9 else t:.{decimals}f}" for t in ticks]
    return [label.replace("-", "\u2212") for label in labels]


@dataclass
class Panel:
    """A panel's box on the figure (pixels, y down) and its data limits."""

    svg: Svg
    x: float
    y: float
    w: float
    h: float
    px_per_pt: float
    xlim: tuple[float, float] = (0.0, 1.0)
    ylim: tuple[float, float] = (0.0, 1.0)

    def px(self, xs) -> np.ndarray:
        lo, hi = self.xlim
        return self.x + (np.asarray(xs, dtype=float) - lo) * (self.w / (hi - lo))

    def py(self, ys) -> np.ndarray:
        lo, hi = self.ylim
        return self.y + self.h - (np.asarray(ys, dtype=float) - lo) * (self.h / (hi - lo))

    def pt(self, points: float) -> float:
        return points * self.px_per_pt

    def stairs_d(self, edges, heights) -> str:
        """A histogram's outline: up from the baseline, along its bars, and back down."""
        xs = self.px(np.repeat(edges, 2))
        ys = self.py(np.concatenate([[0.0], np.repeat(heights, 2), [0.0]]))
        return relative_d(xs, ys)

    def clip(self) -> str:
        return self.svg.clip_rect(self.x, self.y, self.w, self.h)

    def above(self, text: str, offset_pt: float, color: str, size_pt: float = HEADER_PT, bold: bool = False) -> None:
        """A line of text whose bottom sits `offset_pt` above the panel, from its left edge; a
        line too long for the panel (and a little of the gap beside it) is set smaller, never
        over the next panel's text or off the figure."""
        room = min(self.svg.width - 4, self.x + 1.25 * self.w) - self.x
        size = self.pt(size_pt)
        widest = text_width(text, size, bold)
        self.svg.text(self.x, self.y - self.pt(offset_pt), text, size * min(1.0, room / widest) if widest else size,
                      color=color, valign="bottom", bold=bold)

    def note_below(self, text: str, color: str, size_pt: float = NOTE_PT) -> None:
        """A line of text under the x axis's labels, ending at the panel's right edge: never over
        the data, set smaller if the panel is narrower than the line."""
        size = self.pt(size_pt)
        size *= min(1.0, self.w / text_width(text, size))
        top = self.y + self.h + self.pt(TICK_PT + PAD_PT) + 1.25 * self.pt(TICK_LABEL_PT)
        self.svg.text(self.x + self.w, top, text, size, color=color, anchor="end", valign="top")

    def centre_note(self, text: str, color: str, size_pt: float = AXIS_LABEL_PT) -> None:
        self.svg.text(self.x + self.w / 2, self.y + self.h / 2, text, self.pt(size_pt), color=color,
                      anchor="middle", valign="center")

    def bottom_axis(self, label: str = "") -> None:
        """The x axis: its line, ticks and their labels below the panel, and its label under them."""
        size = self.pt(TICK_LABEL_PT)
        base = self.y + self.h
        self.svg.line(self.x, base, self.x + self.w, base, Stroke(SPINE, self.pt(0.9)))
        ticks = nice_ticks(*self.xlim, self.w, size)
        inside = [t for t in ticks if self.xlim[0] <= t <= self.xlim[1]]
        marks = "".join(f"M{x:.1f} {base:.1f}v{self.pt(TICK_PT):.1f}" for x in self.px(inside))
        self.svg.path(marks, stroke=Stroke("#000000", self.pt(0.8)))
        label_top = base + self.pt(TICK_PT + PAD_PT)
        for x, text in zip(self.px(inside), tick_labels(inside)):
            half = text_width(text, size) / 2 + 1        # an end label is kept inside the figure
            x = min(max(float(x), half), self.svg.width - half)
            self.svg.text(x, label_top, text, size, anchor="middle", valign="top")
        if label:
            self.svg.text(self.x + self.w / 2, label_top + 1.2 * size + self.pt(LABEL_PAD_PT), label,
                          self.pt(AXIS_LABEL_PT), anchor="middle", valign="top")

    def _y_ticks(self) -> list[float]:
        ticks = nice_ticks(*self.ylim, self.h, self.pt(TICK_LABEL_PT), stacked=True)
        return [t for t in ticks if self.ylim[0] <= t <= self.ylim[1]]

    def make_room_for_left_axis(self) -> None:
        """Narrow the panel from the left, if need be, so that its y axis's tick labels and label
        stay inside the figure (a left-column panel whose labels read 10000 has 56 px)."""
        size = self.pt(TICK_LABEL_PT)
        widest = max((text_width(t, size) for t in tick_labels(self._y_ticks())), default=0.0)
        need = self.pt(TICK_PT + PAD_PT + LABEL_PAD_PT) + widest + 1.2 * self.pt(AXIS_LABEL_PT)
        if need > self.x:
            self.w -= need - self.x
            self.x = need

    def left_axis(self, label: str = "") -> None:
        """The y axis: its line, ticks and their labels left of the panel, and its label reading
        upwards left of them, clear of the widest label."""
        size = self.pt(TICK_LABEL_PT)
        self.svg.line(self.x, self.y, self.x, self.y + self.h, Stroke(SPINE, self.pt(0.9)))
        inside = self._y_ticks()
        marks = "".join(f"M{self.x:.1f} {y:.1f}h{-self.pt(TICK_PT):.1f}" for y in self.py(inside))
        self.svg.path(marks, stroke=Stroke("#000000", self.pt(0.8)))
        right = self.x - self.pt(TICK_PT + PAD_PT)
        labels = tick_labels(inside)
        for y, text in zip(self.py(inside), labels):
            self.svg.text(right, float(y), text, size, anchor="end", valign="center")
        if label:
            widest = max((text_width(t, size) for t in labels), default=0.0)
            self.svg.text(right - widest - self.pt(LABEL_PAD_PT), self.y + self.h / 2, label,
                          self.pt(AXIS_LABEL_PT), anchor="middle", valign="bottom", vertical=True)

    def category_axis(self, positions: list[float], labels: list[str], label: str = "") -> None:
        """An x axis of named places rather than nice numbers (a fitted card's "raw group
        estimate" → "posterior mean of θ", or observations 1 to 8): its line, a tick at each
        position and its label below it, an end label kept inside the figure, and the axis's
        label under them."""
        size = self.pt(TICK_LABEL_PT)
        base = self.y + self.h
        self.svg.line(self.x, base, self.x + self.w, base, Stroke(SPINE, self.pt(0.9)))
        xs = [float(x) for x in self.px(positions)]
        self.svg.path("".join(f"M{x:.1f} {base:.1f}v{self.pt(TICK_PT):.1f}" for x in xs),
                      stroke=Stroke("#000000", self.pt(0.8)))
        for x, text in zip(apart(xs, [text_width(t, size) for t in labels], size / 2, self.svg.width), labels):
            self.svg.text(x, base + self.pt(TICK_PT + PAD_PT), text, size, anchor="middle", valign="top")
        if label:
            self.svg.text(self.x + self.w / 2, base + self.pt(TICK_PT + PAD_PT + LABEL_PAD_PT) + 1.2 * size, label,
                          self.pt(AXIS_LABEL_PT), anchor="middle", valign="top")

    def x_span(self, lo: float, hi: float, color: str, opacity: float) -> None:
        """A band the panel's full height between two x values (an interval), behind what follows."""
        left, right = (float(v) for v in self.px([max(lo, self.xlim[0]), min(hi, self.xlim[1])]))
        if right > left:
            self.svg.rect(left, self.y, right - left, self.h, fill=color, opacity=opacity)

    def x_line(self, value: float, stroke: Stroke) -> None:
        """A vertical line the panel's full height at one x value (a mean)."""
        x = float(self.px([value])[0])
        self.svg.line(x, self.y, x, self.y + self.h, stroke)


def apart(centres: list[float], widths: list[float], gap: float, width: float) -> list[float]:
    """Centres of labels in a row, as near their places as they can be while each keeps `gap`
    from the next and all stay inside [0, `width`]: pushed right where they would overlap, then
    pulled back from the right edge."""
    out = []
    for c, w in zip(centres, widths):
        left = max(c - w / 2, 1.0, out[-1][1] + gap if out else 0.0)
        out.append((left, left + w))
    for k in range(len(out) - 1, -1, -1):
        limit = width - 1 if k == len(out) - 1 else out[k + 1][0] - gap
        if out[k][1] > limit:
            out[k] = (limit - widths[k], limit)
    return [(a + b) / 2 for a, b in out]
