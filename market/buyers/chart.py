"""The geometry of a buyer scorecard's chart, drawn as SVG by the page (no script): for each year a
bar per component and a point on the score's line, on a 0-100 scale. A template global."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from market.buyers.models import JurisdictionScorecard

WIDTH, HEIGHT = 320, 200
LEFT, RIGHT = 30, 310  # the plot's x range
BOTTOM, TOP = 170, 20  # y of 0 and of 100


@dataclass(frozen=True)
class Bar:
    component: str
    series: int  # which colour
    year: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Point:
    year: int
    x: float
    y: float
    score: Decimal


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    points: list[Point]
    years: list[tuple[int, float]]  # each year's label and its x
    ticks: list[tuple[int, float]]  # each gridline's value and its y


def _y(score: Decimal | int) -> float:
    return round(BOTTOM - (BOTTOM - TOP) * float(score) / 100, 1)


def chart(view: JurisdictionScorecard) -> Chart:
    components = [c.key for c in view.components]
    group = (RIGHT - LEFT) / max(1, len(view.years))
    bar = group * 0.6 / max(1, len(components))
    bars, points, years = [], [], []
    for i, year in enumerate(view.years):
        left = LEFT + group * i
        years.append((year.year, round(left + group / 2, 1)))
        for figure in year.figures:
            if figure.component in components and figure.score is not None:
                series = components.index(figure.component)
                bars.append(Bar(component=figure.component, series=series, year=year.year,
                                x=round(left + group * 0.2 + bar * series, 1), y=_y(figure.score),
                                width=round(bar - 1, 1), height=round(BOTTOM - _y(figure.score), 1)))
        if year.score is not None:
            points.append(Point(year=year.year, x=round(left + group / 2, 1), y=_y(year.score), score=year.score))
    return Chart(width=WIDTH, height=HEIGHT, bars=bars, points=points, years=years,
                 ticks=[(t, _y(t)) for t in (0, 50, 100)])
