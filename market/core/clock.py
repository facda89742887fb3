"""The one clock every time rule reads (deadlines, notice periods, due dates, "today").

In production it is the system clock. Tests, the demo and a running `market serve` in test mode move
it forward honestly instead of editing rows: the offset lives in the database (`clock_offset`, read
by the SQL function `market_now()`, which column defaults and queries use) and in this process.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from market.core import i18n

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today where the deployment is (MARKET_TIMEZONE), by this clock."""
    return now().astimezone(ZoneInfo(i18n.current_timezone.get())).date()


def offset() -> timedelta:
    return _offset


def _set(seconds: float) -> None:
    global _offset
    _offset = timedelta(seconds=seconds)


async def load(conn: asyncpg.Connection) -> timedelta:
    """Take the offset the database holds (another process may have moved it)."""
    _set(await conn.fetchval("select offset_seconds from clock_offset"))
    return _offset


async def travel_to(conn: asyncpg.Connection, when: datetime) -> None:
    """Move the clock so that SQL's market_now() is `when` (in a long transaction SQL's now() stands
    at its start, and events are stamped by SQL; Python's clock runs on from there)."""
    await set_offset(conn, (when - await conn.fetchval("select now()")).total_seconds())


async def advance(conn: asyncpg.Connection, by: timedelta) -> None:
    await set_offset(conn, (_offset + by).total_seconds())


async def set_offset(conn: asyncpg.Connection, seconds: float) -> None:
    await conn.execute("update clock_offset set offset_seconds = $1", seconds)
    _set(seconds)


async def on_day(conn: asyncpg.Connection, start: datetime, days: float) -> None:
    """For a story told on the clock (the demo): it stands `days` after `start` (before it, when
    negative), so every step is dated when it happened and none after the step it precedes."""
    await travel_to(conn, start + timedelta(days=days))
