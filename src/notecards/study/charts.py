"""The stats page's charts as inline SVG, drawn from `stats.Stats`.

Pictures, not tables: a calendar heatmap of answers per day, bars of the due forecast, bars of
true retention, one bar of card counts by state, and the answer buttons' shares. Colours are
never written here: every mark carries a class that `app.css` colours with the theme's CSS
variables, so one drawing serves the light and the dark theme. Each chart has a `<title>` and
its marks have their own, so hovering (or a screen reader) gives the numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from notecards.study.stats import HEATMAP_DAYS, KINDS, Stats

WIDTH = 400                     # viewBox units; the page scales a chart to its column
CELL, GAP = 11, 2
RATINGS = ("Again", "Hard", "Good", "Easy")
STATES = ("new", "learning", "review")


def charts(stats: Stats) -> dict[str, str]:
    """Every chart of the page, by name."""
    return {"heatmap": heatmap(stats), "forecast": forecast(stats.forecast), "retention": retention(stats),
            "counts": counts(stats.counts), "buttons": buttons(stats.buttons)}


def heatmap(stats: Stats) -> str:
    """Weeks as columns (Monday on top), the last 365 days; darker is more answers."""
    today = date.fromisoformat(stats.today)
    first = today - timedelta(days=HEATMAP_DAYS - 1)
    start = first - timedelta(days=first.weekday())
    top = max(stats.reviews_per_day.values(), default=0)
    weeks = (today - start).days // 7 + 1
    step = CELL + GAP
    parts = []
    for k in range((today - start).days + 1):
        day = start + timedelta(days=k)
        if day < first:
            continue
        n = stats.reviews_per_day.get(day.isoformat(), 0)
        level = 0 if n == 0 else min(4, 1 + int(4 * n / (top + 1)))
        x, y = (k // 7) * step, 14 + (k % 7) * step
        parts.append(f'<rect class="heat-{level}" x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="2">'
                     f'<title>{day.isoformat()}: {n} answer{"s" if n != 1 else ""}</title></rect>')
        if day.day == 1:
            parts.append(f'<text class="axis" x="{x}" y="10">{day.strftime("%b")}</text>')
    width = weeks * step + 16                   # room for the last month's name
    return _svg("Answers per day, last 12 months", width, 14 + 7 * step, "".join(parts), fixed=True)


def forecast(days: list[int]) -> str:
    """Cards due on each of the next days (day 0 includes the overdue)."""
    height, base, left = 150, 126, 28
    top = max(days, default=0) or 1
    bar = (WIDTH - left) / len(days)
    parts = [_axis_y(left, base, 20, top)]
    for i, n in enumerate(days):
        h = (base - 20) * n / top
        label = "today" if i == 0 else f"in {i} day{'s' if i > 1 else ''}"
        parts.append(f'<rect class="bar-due" x="{left + i * bar + 1:.1f}" y="{base - h:.1f}" '
                     f'width="{bar - 2:.1f}" height="{h:.1f}"><title>{label}: {n} due</title></rect>')
        if i % 5 == 0:
            parts.append(f'<text class="axis" x="{left + i * bar + bar / 2:.1f}" y="{base + 16}" '
                         f'text-anchor="middle">{"today" if i == 0 else f"+{i}d"}</text>')
    return _svg("Due in the next 30 days", WIDTH, height, "".join(parts))


def retention(stats: Stats) -> str:
    """Per period, young and mature: a bar to 100 % with the share and the count of answers."""
    row, left = 22, 64
    parts = []
    y = 4
    for period in stats.retention:
        parts.append(f'<text class="label strong" x="0" y="{y + 14}">last {period.days} days</text>')
        y += row
        for kind in ("young", "mature"):
            total, passed = period.total[kind], period.passed[kind]
            share = passed / total if total else 0.0
            span = WIDTH - left - 110
            text = f"{share:.1%} of {total:,}" if total else "no answers"
            parts.append(f'<text class="label" x="{left - 8}" y="{y + 14}" text-anchor="end">{kind}</text>'
                         f'<rect class="track" x="{left}" y="{y + 3}" width="{span}" height="14" rx="3"/>'
                         f'<rect class="bar-{kind}" x="{left}" y="{y + 3}" width="{span * share:.1f}" height="14" rx="3">'
                         f'<title>{kind}, last {period.days} days: {passed:,} of {total:,} passed</title></rect>'
                         f'<text class="value" x="{left + span + 8}" y="{y + 14}">{text}</text>')
            y += row
        y += 8
    return _svg("True retention: answers to review cards not Again", WIDTH, y, "".join(parts))


def counts(values: dict[str, int]) -> str:
    """One bar split by state, then suspended and leeches beside it."""
    total = sum(values[s] for s in STATES) or 1
    parts, x = [], 0.0
    for state in STATES:
        w = WIDTH * values[state] / total
        parts.append(f'<rect class="state-{state}" x="{x:.1f}" y="4" width="{w:.1f}" height="22">'
                     f'<title>{state}: {values[state]:,}</title></rect>')
        x += w
    legend = [(f"state-{s}", f"{s} {values[s]:,}") for s in STATES]
    legend += [("state-suspended", f"suspended {values['suspended']:,}"), ("state-leech", f"leeches {values['leech']:,}")]
    parts.append(_legend(legend, 44))
    return _svg("Cards by state", WIDTH, 52, "".join(parts))


def buttons(values: dict[str, list[int]]) -> str:
    """Learning, young and mature answers: each a bar split Again / Hard / Good / Easy."""
    left, parts, y = 70, [], 4
    for kind in KINDS:
        row = values[kind]
        total = sum(row)
        parts.append(f'<text class="label" x="{left - 8}" y="{y + 15}" text-anchor="end">{kind}</text>')
        if not total:
            parts.append(f'<rect class="track" x="{left}" y="{y + 3}" width="{WIDTH - left}" height="16" rx="3"/>'
                         f'<text class="value" x="{left + 6}" y="{y + 15}">no answers</text>')
        x = float(left)
        for i, n in enumerate(row if total else ()):
            w = (WIDTH - left) * n / total
            parts.append(f'<rect class="rate-{i + 1}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="16">'
                         f'<title>{kind}, {RATINGS[i]}: {n:,} ({n / total:.0%})</title></rect>')
            if w > 34:
                parts.append(f'<text class="on-bar" x="{x + w / 2:.1f}" y="{y + 15}" text-anchor="middle">{n / total:.0%}</text>')
            x += w
        y += 26
    parts.append(_legend([(f"rate-{i + 1}", name) for i, name in enumerate(RATINGS)], y + 12))
    return _svg("Answer buttons, last 12 months", WIDTH, y + 24, "".join(parts))


def _axis_y(left: int, base: int, top_y: int, top: int) -> str:
    return (f'<line class="grid" x1="{left}" x2="{WIDTH}" y1="{base}" y2="{base}"/>'
            f'<line class="grid" x1="{left}" x2="{WIDTH}" y1="{top_y}" y2="{top_y}"/>'
            f'<text class="axis" x="{left - 4}" y="{top_y + 4}" text-anchor="end">{top:,}</text>'
            f'<text class="axis" x="{left - 4}" y="{base + 4}" text-anchor="end">0</text>')


def _legend(entries: list[tuple[str, str]], y: int) -> str:
    parts, x = [], 0
    for cls, text in entries:
        parts.append(f'<rect class="{cls}" x="{x}" y="{y - 9}" width="10" height="10" rx="2"/>'
                     f'<text class="label" x="{x + 14}" y="{y}">{escape(text)}</text>')
        x += 22 + 6.6 * len(text)
    return "".join(parts)


def _svg(title: str, width: float, height: float, body: str, fixed: bool = False) -> str:
    """A chart; `fixed` keeps its size in pixels (the heatmap scrolls in its box on a phone)."""
    size = f'width="{width:.0f}" height="{height:.0f}"' if fixed else 'width="100%"'
    return (f'<svg class="chart" role="img" viewBox="0 0 {width:.0f} {height:.0f}" {size} '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>')
