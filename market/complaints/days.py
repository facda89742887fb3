"""Counting a time limit in days: calendar days, or working days by the Chinese official calendar
with its holidays and make-up working days (调休), which the `chinese-calendar` library knows."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # The library knows the years the State Council has announced (up to 2026 in 1.11.0); for a
        # later year, until it is updated, only weekends are days off.
        return day.weekday() < 5


def add_days(start: date, days: int, kind: str) -> date:
    """The day a limit of `days` counted from `start` ends: the `days`-th calendar or working day after it."""
    if kind == "calendar":
        return start + timedelta(days=days)
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
