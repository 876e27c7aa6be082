"""A patient's pain scores (0-10) over the days since their session, as a small inline SVG.

A change of 2 points or more from the previous score is marked: about 2 points is the
smallest change on the pain scale that patients feel as real (pubmed 11690728)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MEANINGFUL = 2  # points
WIDTH, HEIGHT = 360, 200  # viewBox units; the SVG scales to its box
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 12, 34  # margins for the axes' labels


@dataclass(frozen=True)
class PainPoint:
    day: float  # days since the session ended
    score: int
    change: int | None  # from the previous score; None for the first

    @property
    def marked(self) -> bool:
        return self.change is not None and abs(self.change) >= MEANINGFUL


def pain_points(scores: list[tuple[datetime, int]], session_end: datetime) -> list[PainPoint]:
    """(received at, score) pairs, in any order, as points since `session_end`."""
    points: list[PainPoint] = []
    previous: int | None = None
    for at, score in sorted(scores):
        day = max((at - session_end).total_seconds() / 86400, 0.0)
        points.append(PainPoint(day, score, None if previous is None else score - previous))
        previous = score
    return points


def _describe(point: PainPoint) -> str:
    text = f"day {point.day:.1f}: {point.score}"
    if point.marked and point.change is not None:
        text += f" ({'up' if point.change > 0 else 'down'} {abs(point.change)})"
    return text


def pain_chart(points: list[PainPoint]) -> str:
    """The SVG; its accessible name lists every score, so nothing is in the picture only."""
    last_day = max([7.0, *(p.day for p in points)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return round(LEFT + plot_w * day / last_day, 1)

    def y(score: int) -> float:
        return round(TOP + plot_h * (10 - score) / 10, 1)

    grid = "".join(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(s)}" y2="{y(s)}" stroke="#ddd"></line>'
        f'<text x="{LEFT - 6}" y="{y(s) + 4}" font-size="11" text-anchor="end">{s}</text>'
        for s in (0, 2, 4, 6, 8, 10)
    )
    days = "".join(
        f'<text x="{x(d)}" y="{HEIGHT - BOTTOM + 14}" font-size="11" text-anchor="middle">{d}</text>'
        for d in range(0, int(last_day) + 1)
        if d == 0 or d % max(int(last_day) // 7, 1) == 0
    )
    axis = (
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 4}" font-size="11" text-anchor="middle">'
        "days since the session</text>"
    )
    line = " ".join(f"{x(p.day)},{y(p.score)}" for p in points)
    path = (
        f'<polyline points="{line}" fill="none" stroke="#2f6fa8" stroke-width="2"></polyline>'
        if len(points) > 1
        else ""
    )
    dots = "".join(_dot(p, x(p.day), y(p.score)) for p in points)
    label = "Pain scores since the session: " + "; ".join(_describe(p) for p in points)
    return (
        f'<svg class="chart pain-chart" role="img" aria-label="{label}" width="100%"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}">{grid}{days}{axis}{path}{dots}</svg>'
    )


def _dot(point: PainPoint, cx: float, cy: float) -> str:
    dot = f'<circle class="score" cx="{cx}" cy="{cy}" r="4" fill="#2f6fa8"></circle>'
    if not point.marked or point.change is None:
        return dot
    sign = "+" if point.change > 0 else "−"
    ty = cy - 10 if cy > TOP + 14 else cy + 18
    return (
        dot + f'<circle class="change" cx="{cx}" cy="{cy}" r="9" fill="none" stroke="#7a3e00"'
        ' stroke-width="2"></circle>'
        f'<text x="{cx}" y="{ty}" font-size="11" font-weight="700" fill="#7a3e00"'
        f' text-anchor="middle">{sign}{abs(point.change)}</text>'
    )
