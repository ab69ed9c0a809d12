"""Axis ticks of the model figures: whatever the range, the labels fit beside one another, read
as distinct numbers with one number of decimals, and sit inside the axis."""

from __future__ import annotations

import math
import re

from hypothesis import assume, given, settings, strategies as st

from notecards.sim.panel import nice_ticks, tick_labels
from notecards.sim.svg import relative_d, text_width

ROOM, SIZE = 275.0, 16.8            # a panel's width and an 11 pt label at 110 px per inch


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6))
def test_labels_fit_side_by_side_are_distinct_and_inside_the_range(lo, span):
    assume(span >= 1e-3 * abs(lo))        # narrower ranges get their rounded ends (see nice_ticks)
    hi = lo + span
    ticks = nice_ticks(lo, hi, ROOM, SIZE)
    labels = tick_labels(ticks)
    assert len(ticks) >= 2
    assert all(lo - 1e-9 * span <= t <= hi + 1e-9 * span for t in ticks)
    assert len(set(labels)) == len(labels), labels
    widths = [text_width(label, SIZE) for label in labels]
    px = [(t - lo) * ROOM / span for t in ticks]
    assert all(b - a >= (wa + wb) / 2 for a, b, wa, wb in zip(px, px[1:], widths, widths[1:])), labels


def test_labels_share_their_decimals_and_use_a_true_minus():
    assert tick_labels([-1.0, -0.5, 0.0, 0.5, 1.0]) == ["−1.0", "−0.5", "0.0", "0.5", "1.0"]
    assert tick_labels([0.0, 2.5, 5.0]) == ["0.0", "2.5", "5.0"]
    assert tick_labels([0.0, 0.2, 0.4]) == ["0.0", "0.2", "0.4"]
    assert tick_labels([-4.0, -2.0, 0.0, 2.0, 4.0]) == ["−4", "−2", "0", "2", "4"]
    assert tick_labels([0.0, 2e5, 4e5]) == ["0", "2e+05", "4e+05"]


def test_a_y_axis_gets_fewer_ticks_than_its_height_holds_lines_of_text():
    ticks = nice_ticks(-3.9, 4.1, 300.0, SIZE, stacked=True)
    assert 3 <= len(ticks) <= math.floor(300.0 / (2.2 * SIZE))


def test_relative_path_data_returns_to_every_point_within_a_tenth_of_a_pixel():
    xs = [10.04, 13.37, 13.37, 20.0, 7.25]
    ys = [5.0, -2.26, 8.81, 8.81, 0.05]
    d = relative_d(xs, ys)
    first, rest = d[1:].split("l")
    x, y = (float(v) for v in first.split())
    seen = [(x, y)]
    for dx, dy in re.findall(r"(-?[\d.]+)\s?(-?[\d.]+)", rest):
        x, y = x + float(dx), y + float(dy)
        seen.append((x, y))
    assert all(abs(a - b) <= 0.05 + 1e-9 and abs(c - e) <= 0.05 + 1e-9 for (a, c), b, e in zip(seen, xs, ys))
