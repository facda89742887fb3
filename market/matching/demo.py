"""The demo's fairs: one finished, with its report, and one open for registration, ready to go live."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import asyncpg

from market.accounts.models import Identity
from market.matching import fairs
from market.matching.fair_models import FairInput, ItemInput, RaiseInput


async def _projects(conn: asyncpg.Connection, *titles: str) -> list[int]:
    return [await conn.fetchval("select id from projects where title_zh = $1 order by id limit 1", t) for t in titles]


async def load(conn: asyncpg.Connection, *, bureau: Identity, funders: dict[str, Identity]) -> None:
    if await conn.fetchval("select count(*) from fairs"):
        return
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    autumn = await fairs.create(conn, funders["charity"], FairInput(
        title_zh="2026年上城区公益项目相亲会（秋季）", title_en="Shangcheng charity project fair, autumn 2026",
        place="上城区市民中心三楼报告厅", description="慈善总会主办：社区治理和为老服务项目路演，企业现场举牌认捐。",
        starts_at=now - timedelta(days=20), ends_at=now - timedelta(days=20) + timedelta(hours=4)))
    ziyang, xiaoying, station = await _projects(conn, "紫阳街道社区议事协商能力提升", "小营街道社会工作站运营",
                                                "望江街道社会工作站运营")
    for project, target, pitch in ((ziyang, 60_000_00, "让居民自己商量社区的事"),
                                   (xiaoying, 80_000_00, "社工站把服务送到家门口"),
                                   (station, 50_000_00, "持证社工驻站，个案小组双管齐下")):
        await fairs.add_item(conn, funders["charity"], autumn, ItemInput(project_id=project, target_fen=target,
                                                                         pitch=pitch))
    await fairs.move(conn, funders["charity"], autumn, "open")
    takers = ("csr01", "csr02", "csr03", "csr04", "donor")
    for key in takers:
        await fairs.register(conn, funders[key], autumn)
    await fairs.move(conn, funders["charity"], autumn, "go_live")
    for key, project, amount, stage in (("csr01", ziyang, 30_000_00, 1), ("csr03", ziyang, 20_000_00, 1),
                                        ("donor", ziyang, 1_000_00, 1), ("csr02", xiaoying, 50_000_00, 2),
                                        ("csr04", xiaoying, 10_000_00, 2), ("csr03", station, 8_000_00, 3)):
        if (await fairs.board(conn, autumn)).on_stage != stage:
            await fairs.move(conn, funders["charity"], autumn, "stage", stage)
        token = await fairs.raise_paddle(conn, funders[key], autumn, RaiseInput(project_id=project, amount_fen=amount,
                                                                                token=uuid.uuid4()))
        await fairs.confirm_raise(conn, funders[key], autumn, token)
    await fairs.move(conn, funders["charity"], autumn, "close")

    spring = await fairs.create(conn, bureau, FairInput(
        title_zh="2027年上城区公益对对碰（春季）", title_en="Shangcheng charity docking fair, spring 2027",
        place="上城区社会组织服务中心", description="民政局主办：需求、资源、项目三方对接，现场举牌认捐，不达目标即退款。",
        starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=3)))
    meals, bathing = await _projects(conn, "湖滨、清波片区老年助餐服务", "近江社区失能老人上门助浴")
    await fairs.add_item(conn, bureau, spring, ItemInput(project_id=meals, target_fen=150_000_00, all_or_nothing=True,
                                                         pitch="两个助餐点，每天120位老人吃上热饭"))
    await fairs.add_item(conn, bureau, spring, ItemInput(project_id=bathing, target_fen=30_000_00,
                                                         pitch="失能老人每月两次上门助浴"))
    await fairs.move(conn, bureau, spring, "open")
    for key in ("csr01", "csr05", "csr06"):
        await fairs.register(conn, funders[key], spring)
        await fairs.mark_interest(conn, funders[key], spring, meals)
