"""A published catalogue and an approved project, for tests of what comes after."""

from datetime import date, datetime, timedelta, timezone

import pytest

from market.catalogue import services as catalogue
from market.catalogue.models import NewVersion
from market.procurement import calls, needs
from market.procurement.models import CallInput, CriterionInput, ProjectInput
from tests.catalogue_files import csv_bytes
from tests.conftest import identity_of


async def who(pool, settings, world, name):
    person = world[name]
    return await identity_of(pool, settings, person.user_id, person.org_id)


@pytest.fixture
async def published(pool, settings, world):
    """The bureau's catalogue in force: 01.01.01 助餐服务 (district), 01.01.02 上门助浴 (any),
    08.01.01 街道社工站运营 (any, 4A, 3 years)."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        version_id = await catalogue.create_version(conn, bureau, NewVersion(year=2026, title_zh="2026年目录"))
        await catalogue.import_file(conn, bureau, version_id, csv_bytes())
        await catalogue.change_status(conn, bureau, version_id, "publish")
        return {r["code"]: r["id"] for r in await conn.fetch(
            "select code, id from catalogue_entries where version_id = $1 and level = 'item'", version_id)}


@pytest.fixture
async def project(pool, settings, world, published):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        return await needs.create_project(conn, bureau, ProjectInput(
            title_zh="东坡路社区老年助餐", description="为独居老人提供助餐服务一年。",
            catalogue_entry_id=published["01.01.02"], budget_fen=200_000_00, budget_line="福彩公益金",
            jurisdiction_id=world.street))


def call_input(project_id: int, **change) -> CallInput:
    values = {
        "project_id": project_id, "procedure_type": "open_competition", "title_zh": "东坡路社区上门助浴服务采购",
        "description": "征集社会组织为辖区失能老人提供上门助浴服务。", "budget_ceiling_fen": 150_000_00,
        "service_start": date(2027, 1, 1), "service_end": date(2027, 12, 31), "service_place": "东坡路社区",
        "deadline_at": datetime.now(timezone.utc) + timedelta(days=14),
        "criteria": [CriterionInput(name_zh="项目设计", weight=40, min_score=60),
                     CriterionInput(name_zh="团队能力", weight=30),
                     CriterionInput(name_zh="价格", weight=30, is_price=True)],
    }
    values.update(change)
    return CallInput(**values)


@pytest.fixture
async def open_call(pool, settings, world, project):
    """The project's call, published and open for bids."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(project))
        await calls.publish_call(conn, bureau, call_id)
    return call_id


async def pass_deadline(pool, call_id: int) -> None:
    """Move the clock past a call's deadline: the one thing tests do by hand."""
    await pool.execute("update calls set deadline_at = now() - interval '1 minute', "
                       "questions_close_at = now() - interval '3 days' where id = $1", call_id)
