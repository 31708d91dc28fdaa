"""Chart primitives as inline SVG: bar, stacked bar, line and funnel.

Each function returns one ``<svg>`` element as text, meant to sit inside an HTML page (so no
``xmlns``: the page needs nothing from the network, not even a namespace URL). Sizes are in a
``viewBox`` and the chart stretches to its container; every bar and point carries a ``<title>``
the browser shows on hover (no scripts). Text is escaped; colours come from the caller or
``PALETTE``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 34, 40
PALETTE = ("#1565c0", "#2e7d32", "#c62828", "#ef6c00", "#6a1b9a", "#4e342e", "#9e9e9e")
MAX_X_LABELS = 12


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of values (``None``: no value for a label, e.g. a rate with nothing sent)."""

    name: str
    values: Sequence[float | None]
    color: str = PALETTE[0]


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[float], color: str = PALETTE[0]
) -> str:
    """One bar per label."""
    return stacked_bar_chart(title, labels, [Series(title, values, color)], legend=False)


def stacked_bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], *, legend: bool = True
) -> str:
    """One bar per label, each series stacked on the previous ones (bottom first)."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top, ticks = _ticks(max(totals, default=0))
    frame = _Frame(title, labels, top)
    parts = frame.axes(ticks, _count)
    band = frame.band
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            y_top, y_bottom = frame.y(base + value), frame.y(base)
            left = frame.x(i) - band * 0.35
            tip = f"{label} · {s.name}: {_count(value)}"
            parts.append(
                f'<rect x="{left:.1f}" y="{y_top:.1f}" width="{band * 0.7:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{_attr(s.color)}">'
                f"<title>{_text(tip)}</title></rect>"
            )
            base += value
    if legend:
        parts.append(_legend(series))
    return frame.wrap(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
    legend: bool = True,
) -> str:
    """One line per series; a ``None`` value breaks the line. ``percent``: values are 0-1 and
    the axis runs 0-100 %."""
    values = [v for s in series for v in s.values if v is not None]
    if percent:
        top, ticks = 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]
        fmt: Callable[[float], str] = _percent
    else:
        top, ticks = _ticks(max(values, default=0))
        fmt = _count
    frame = _Frame(title, labels, top)
    parts = frame.axes(ticks, fmt)
    for s in series:
        for run in _runs(s.values):
            points = " ".join(f"{frame.x(i):.1f},{frame.y(v):.1f}" for i, v in run)
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{points}" fill="none" '
                    f'stroke="{_attr(s.color)}" stroke-width="2"/>'
                )
            for i, v in run:
                tip = f"{labels[i]} · {s.name}: {fmt(v)}"
                parts.append(
                    f'<circle cx="{frame.x(i):.1f}" cy="{frame.y(v):.1f}" r="3" '
                    f'fill="{_attr(s.color)}"><title>{_text(tip)}</title></circle>'
                )
    if legend:
        parts.append(_legend(series))
    return frame.wrap(parts)


def funnel_chart(title: str, steps: Sequence[tuple[str, float]], color: str = PALETTE[0]) -> str:
    """One horizontal bar per step, longest first: the step's name on the left, its count and
    its share of the first step after the bar."""
    row, gap, labels, after = 26, 8, 220, 120
    height = TOP + len(steps) * (row + gap)
    first = steps[0][1] if steps else 0
    widest = max((value for _, value in steps), default=0) or 1
    span = WIDTH - labels - after
    parts = [f'<text x="{LEFT}" y="20" class="title">{_text(title)}</text>']
    for n, (label, value) in enumerate(steps):
        y = TOP + n * (row + gap)
        width = max(span * value / widest, 1.0)
        share = f" ({value / first:.0%})" if first and n else ""
        tip = f"{label}: {_count(value)}{share}"
        parts.append(
            f'<text x="{labels - 8}" y="{y + row / 2 + 4:.0f}" text-anchor="end" class="tick">'
            f"{_text(label)}</text>"
            f'<rect x="{labels}" y="{y}" width="{width:.1f}" height="{row}" fill="{_attr(color)}">'
            f"<title>{_text(tip)}</title></rect>"
            f'<text x="{labels + width + 6:.1f}" y="{y + row / 2 + 4:.0f}" class="tick">'
            f"{_text(_count(value) + share)}</text>"
        )
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="100%" role="img" class="chart">'
        f"<title>{_text(title)}</title>{''.join(parts)}</svg>"
    )


class _Frame:
    """Plot area, scales, axes and x labels shared by the bar and line charts."""

    def __init__(self, title: str, labels: Sequence[str], top: float) -> None:
        self.title, self.labels, self.top = title, labels, top or 1.0
        self.band = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)

    def x(self, index: int) -> float:
        return LEFT + self.band * (index + 0.5)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / self.top

    def axes(self, ticks: Sequence[float], fmt: Callable[[float], str]) -> list[str]:
        parts = [f'<text x="{LEFT}" y="20" class="title">{_text(self.title)}</text>']
        for tick in ticks:
            y = self.y(tick)
            parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                'class="grid"/>'
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                f"{_text(fmt(tick))}</text>"
            )
        every = math.ceil(len(self.labels) / MAX_X_LABELS) or 1
        for i, label in enumerate(self.labels):
            if i % every == 0:
                parts.append(
                    f'<text x="{self.x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                    f'text-anchor="middle" class="tick">{_text(label)}</text>'
                )
        return parts

    def wrap(self, parts: list[str]) -> str:
        return (
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" class="chart">'
            f"<title>{_text(self.title)}</title>{''.join(parts)}</svg>"
        )


def _legend(series: Sequence[Series]) -> str:
    items, x = [], LEFT
    for s in series:
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" '
            f'fill="{_attr(s.color)}"/><text x="{x + 14}" y="{HEIGHT - 5}" '
            f'class="tick">{_text(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return f'<g class="legend">{"".join(items)}</g>'


def _ticks(largest: float) -> tuple[float, list[float]]:
    """A round top for the axis and 3-5 evenly spaced ticks from 0 (1, 2 or 5 × 10ⁿ apart)."""
    if largest <= 0:
        return 1.0, [0.0, 1.0]
    raw = largest / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1)  # counts: never a tick between two whole numbers
    top = step * math.ceil(largest / step)
    return top, [step * n for n in range(round(top / step) + 1)]


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Consecutive non-``None`` values with their indexes."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if run]


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%" if (value * 100).is_integer() else f"{value * 100:.1f}%"


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
