"""A fund's charts, drawn on the server as SVG so they need no script: the geometry is worked out
here, the markup (and its words, in the page's language) is in templates/funding/_charts.html."""

from __future__ import annotations

import msgspec

from market.funding.funds.models import MonthFlow

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 96, 12, 12, 36
MAX_LABELS = 12


class Bar(msgspec.Struct, frozen=True, kw_only=True):
    series: str  # "in" or "out"
    month: str
    value_fen: int
    x: float
    y: float
    width: float
    height: float


class Tick(msgspec.Struct, frozen=True, kw_only=True):
    y: float
    value_fen: int


class Label(msgspec.Struct, frozen=True, kw_only=True):
    x: float
    month: str


class Point(msgspec.Struct, frozen=True, kw_only=True):
    x: float
    y: float
    month: str
    value_fen: int


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    bottom: float  # y of the zero line
    ticks: list[Tick]
    labels: list[Label]
    bars: list[Bar] = []
    points: list[Point] = []

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


def nice_ceiling(fen: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ yuan at or above `fen`, so the axis reads in round amounts."""
    step = 100
    while True:
        for m in (1, 2, 5):
            if m * step >= fen:
                return m * step
        step *= 10


def _frame(months: list[MonthFlow], top_fen: int) -> tuple[float, float, list[Tick], list[Label]]:
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(months)
    ticks = [Tick(y=round(TOP + plot_h * (1 - v / top_fen), 1), value_fen=v) for v in (0, top_fen // 2, top_fen)]
    every = -(-len(months) // MAX_LABELS)  # ceiling: at most MAX_LABELS month names fit under the axis
    labels = [Label(x=round(LEFT + (i + 0.5) * slot, 1), month=m.month) for i, m in enumerate(months) if i % every == 0]
    return slot, plot_h, ticks, labels


def _y(value: int, top_fen: int, plot_h: float) -> float:
    return round(TOP + plot_h * (1 - value / top_fen), 1)


def flows(months: list[MonthFlow]) -> Chart | None:
    """Money in and out of the fund, month by month, as pairs of bars."""
    if not months:
        return None
    top = nice_ceiling(max(max(m.in_fen, m.out_fen) for m in months))
    slot, plot_h, ticks, labels = _frame(months, top)
    width = round(min(slot * 0.35, 28), 1)
    bars = []
    for i, m in enumerate(months):
        middle = LEFT + (i + 0.5) * slot
        for series, value, x in (("in", m.in_fen, middle - width), ("out", m.out_fen, middle)):
            y = _y(value, top, plot_h)
            bars.append(Bar(series=series, month=m.month, value_fen=value, x=round(x, 1), y=y, width=width,
                            height=round(TOP + plot_h - y, 1)))
    return Chart(width=WIDTH, height=HEIGHT, left=LEFT, right=WIDTH - RIGHT, bottom=TOP + plot_h, ticks=ticks,
                 labels=labels, bars=bars)


def balance(months: list[MonthFlow]) -> Chart | None:
    """The fund's balance at the end of each month, as a line."""
    if not months:
        return None
    top = nice_ceiling(max(m.balance_fen for m in months))
    slot, plot_h, ticks, labels = _frame(months, top)
    points = [Point(x=round(LEFT + (i + 0.5) * slot, 1), y=_y(m.balance_fen, top, plot_h), month=m.month,
                    value_fen=m.balance_fen) for i, m in enumerate(months)]
    return Chart(width=WIDTH, height=HEIGHT, left=LEFT, right=WIDTH - RIGHT, bottom=TOP + plot_h, ticks=ticks,
                 labels=labels, points=points)
