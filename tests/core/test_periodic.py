"""The periodic work every app process does: one job failing, whatever the failure, does not stop the
others nor the next round (the outbox kept unsent in that process until a restart, otherwise)."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

from market.core.domain import Domain
from market.core.factory import _periodic


async def test_a_failing_job_does_not_stop_the_others_or_the_next_round(pool):
    ran: list[str] = []

    async def broken(state) -> None:
        ran.append("broken")
        raise KeyError("a defect")

    async def away(state) -> None:
        ran.append("away")
        raise ConnectionRefusedError("the mail server is away")

    async def sends(state) -> None:
        ran.append("sends")

    app = SimpleNamespace(state=SimpleNamespace(pool=pool, settings=SimpleNamespace(notify_seconds=0)))
    loop = asyncio.create_task(_periodic(app, [Domain("test", jobs=[broken, away, sends])]))
    while ran.count("sends") < 3 and not loop.done():
        await asyncio.sleep(0.01)
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop
    assert ran[:6] == ["broken", "away", "sends"] * 2
