"""Counting days the way a procedure type says: calendar days, or working days (Monday to Friday,
in the platform's time zone)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def add_days(start: datetime, days: int, kind: str, tz: str = "Asia/Shanghai") -> datetime:
    """`days` days after `start` (or before, if negative); working days skip Saturdays and Sundays."""
    if kind == "calendar" or days == 0:
        return start + timedelta(days=days)
    local = start.astimezone(ZoneInfo(tz))
    step = 1 if days > 0 else -1
    remaining = abs(days)
    while remaining:
        local += timedelta(days=step)
        if local.weekday() < 5:
            remaining -= 1
    return local
