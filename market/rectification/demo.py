"""The demo's rectification, on the story's clock: the failed mid-terms (market/demo.py) left the
provider items to put right. On the first contract, due in three weeks, one fix was verified (a photo
and the rebuilt visit log), one rejected back to open, and one waits for the bureau; the others are
open. The second contract's items, given five days, went unfixed: the clock found them late and told
the bureau (level 1) before the contract was ended."""

from __future__ import annotations

import io
from datetime import datetime

import asyncpg
from PIL import Image, ImageDraw

from market.core import clock
from market.core.access import Identity
from market.core.clock import on_day
from market.core.settings import Settings
from market.rectification import jobs
from market.rectification import services as items
from market.storage.services import storage_from_settings


def _photo(label: str) -> bytes:
    """A stand-in for a phone photo of the visit log."""
    image = Image.new("RGB", (640, 480), (236, 232, 220))
    draw = ImageDraw.Draw(image)
    for y in range(60, 460, 40):
        draw.line((40, y, 600, y), fill=(120, 120, 120), width=2)
    draw.text((48, 24), label, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


async def load(conn: asyncpg.Connection, *, bureau: Identity, provider: Identity, today: datetime) -> None:
    settings = Settings()
    storage = storage_from_settings(settings)
    rows = await conn.fetch("select id, due from rectification_items where owner_id = $1 and status = 'open' "
                            "order by id", provider.org_id)
    in_time = [r["id"] for r in rows if r["due"] > today.date()]
    if len(in_time) < 3:
        return
    verified, rejected, waiting = in_time[:3]
    await on_day(conn, today, -6)
    await items.submit_fix(conn, storage, settings, provider, verified,
                           "已补齐全部探访台账：逐户补录入户时间、服务内容和老人签字，附台账照片。",
                           [(_photo("visit log 1-40"), "探访台账.jpg")])
    await items.submit_fix(conn, storage, settings, provider, rejected, "已与社工沟通，今后按要求开展。",
                           [(_photo("meeting"), "沟通记录.jpg")])
    await on_day(conn, today, -5)
    await items.verify(conn, bureau, verified)
    await items.reject(conn, bureau, rejected, "只有沟通照片，没有整改后的入户记录：请附上近两周的入户签到表。")
    await on_day(conn, today, -1.5)
    await items.submit_fix(conn, storage, settings, provider, waiting,
                           "已调整排班，每周入户两次；附近两周签到表。", [(_photo("sign-in sheet"), "签到表.jpg")])
    # The clock, as the app processes run it: the second contract's items are past their five days.
    await on_day(conn, today, -1)
    await jobs.tick(conn, clock.today(), settings.rectification_escalate_days)
