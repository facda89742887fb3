"""A published catalogue and an approved project, for tests of what comes after."""

from datetime import UTC, date, datetime, timedelta

import pytest

from market.catalogue import services as catalogue
from market.catalogue.models import NewVersion
from market.core import clock
from market.evaluation import services as engine
from market.evaluation.models import (
    AddMember,
    Candidate,
    Criterion,
    Declaration,
    ScoreInput,
)
from market.procurement.calls import services as calls
from market.procurement.calls.models import CallInput, CriterionInput
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput
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
        "deadline_at": datetime.now(UTC) + timedelta(days=14),
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


async def travel(pool, **delta) -> None:
    """Let time pass on the clock every rule reads (here and in the database)."""
    async with pool.acquire() as conn:
        await clock.advance(conn, timedelta(**delta))


async def evaluate_delivery(pool, settings, world, contract_id: int, stage: str, total: float = 80) -> int:
    """A closed mid-term or final evaluation of a contract's delivery, on the panel engine, with this total."""
    bureau = await who(pool, settings, world, "buyer_admin")
    chair = await who(pool, settings, world, "evaluator")
    async with pool.acquire() as conn, conn.transaction():
        provider = await conn.fetchval("select provider_id from contracts where id = $1", contract_id)
        panel_id = await engine.create_panel(
            conn, bureau, subject_type=stage, subject_id=contract_id,
            criteria=[Criterion(1, "服务交付", "Delivery", 100, None, False)],
            candidates=[Candidate(contract_id, provider, "合同", None, clock.now())])
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
        await engine.start_scoring(conn, bureau, panel_id)
        await engine.declare(conn, chair, panel_id, Declaration(candidate_id=contract_id, conflicted=False))
        await engine.score(conn, chair, panel_id, ScoreInput(candidate_id=contract_id, position=1, score=total))
        await engine.record_consensus(conn, chair, panel_id, ScoreInput(candidate_id=contract_id, position=1,
                                                                         score=total))
        await engine.close(conn, panel_id, bureau.user_id)
    return panel_id
