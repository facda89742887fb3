"""What tests build on: the need → project → call → bids → panel → award → contract chain, pledges,
funds and fairs, as fixtures (registered in conftest.py) and plain functions. No test module imports
another; they all import from here."""

import asyncio
import io
import struct
import zlib
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from market.accounts.services import insert_membership, insert_user
from market.catalogue import services as catalogue
from market.catalogue.models import NewVersion
from market.cli import main as cli_main
from market.core import clock
from market.core.access import Identity
from market.delivery import rounds
from market.delivery import services as delivery
from market.delivery.reports import services as reports
from market.delivery.reports.models import ReportInput
from market.delivery.reports.models import TargetInput as ReportTarget
from market.evaluation import services as engine
from market.evaluation.models import (
    AddMember,
    Candidate,
    Criterion,
    Declaration,
    ScoreInput,
)
from market.funding.funds import services as pools
from market.funding.funds.models import FundInput
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput, PledgeInput
from market.funding.resources import services as resources
from market.funding.resources.models import ResourceInput
from market.matching.fairs import services as fairs
from market.matching.fairs.models import (
    FairInput,
    ItemInput,
)
from market.matching.scoring.weights import Weights
from market.organisations.services import insert_organisation
from market.places.services import insert_jurisdiction
from market.procurement.awards import panels
from market.procurement.awards import services as awards
from market.procurement.bids import services as bids
from market.procurement.bids.models import BidInput, BudgetLine, TargetInput
from market.procurement.calls import services as calls
from market.procurement.calls.models import CallInput, CriterionInput
from market.procurement.contracts import services as contracts
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput
from tests.catalogue_files import csv_bytes
from tests.conftest import identity_of
from tests.world import _HASH, Persona, code


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


async def report_accepted(pool, settings, world, contract_id: int, position: int) -> None:
    """The provider files the report of a report milestone and the buyer accepts it."""
    provider = await who(pool, settings, world, "provider_admin")
    draft = (await do(pool, reports.report_view, settings, provider, contract_id, position)).draft
    await do(pool, reports.save, provider, contract_id, position, ReportInput(
        activities="按计划开展入户探访和小组活动，完成服务对象建档。", narrative="服务按计划推进，服务对象参与积极，未发现重大问题。",
        targets=[ReportTarget(position=t.position, achieved=1.0) for t in draft.targets]))
    await do(pool, reports.submit, provider, contract_id, position)
    await do(pool, reports.accept, await who(pool, settings, world, "buyer_admin"), contract_id, position)


async def stage_reports_accepted(pool, settings, world, contract_id: int, stage: str) -> None:
    """The reports the stage's evaluation waits for, filed and accepted."""
    for position in await pool.fetchval(
            "select coalesce(array_agg(m.position), '{}') from contract_milestones m left join delivery_reports r "
            "on r.contract_id = m.contract_id and r.position = m.position where m.contract_id = $1 "
            "and m.kind = 'report' and m.stage = $2 and r.status is distinct from 'accepted'", contract_id, stage):
        await report_accepted(pool, settings, world, contract_id, position)


async def accept_milestones(pool, settings, world, contract_id: int, positions) -> None:
    """The buyer accepts these milestones in turn, each report milestone once its report is accepted."""
    buyer = await who(pool, settings, world, "buyer_admin")
    waiting = set(await pool.fetchval(
        "select coalesce(array_agg(m.position), '{}') from contract_milestones m left join delivery_reports r "
        "on r.contract_id = m.contract_id and r.position = m.position where m.contract_id = $1 "
        "and m.kind = 'report' and r.status is distinct from 'accepted'", contract_id))
    for position in positions:
        if position in waiting:
            await report_accepted(pool, settings, world, contract_id, position)
        await do(pool, delivery.accept_milestone, buyer, contract_id, position)


async def evaluate_delivery(pool, settings, world, contract_id: int, stage: str, total: float = 80) -> int:
    """A closed mid-term or final evaluation of a contract's delivery, on the panel engine, with this total."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        provider = await conn.fetchval("select provider_id from contracts where id = $1", contract_id)
        panel_id = await engine.create_panel(
            conn, bureau, subject_type=stage, subject_id=contract_id,
            criteria=[Criterion(1, "服务交付", "Delivery", 100, None, False)],
            candidates=[Candidate(contract_id, provider, "合同", None, clock.now())])
    await score_delivery_panel(pool, settings, world, panel_id, contract_id, total)
    return panel_id


async def open_delivery_round(pool, settings, world, contract_id: int, stage: str = "midterm"):
    """The buyer opens the stage's round on the contract's indicator system and starts scoring with the
    evaluator as chair, who declares no conflict. Returns the panel and the chair."""
    bureau = await who(pool, settings, world, "buyer_admin")
    await stage_reports_accepted(pool, settings, world, contract_id, stage)
    panel_id = await do(pool, rounds.open_round, bureau, contract_id, stage)
    await do(pool, engine.add_member, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
    await do(pool, engine.start_scoring, bureau, panel_id)
    chair = await who(pool, settings, world, "evaluator")
    await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=contract_id, conflicted=False))
    return panel_id, chair


async def score_delivery_panel(pool, settings, world, panel_id: int, contract_id: int, total: float) -> None:
    """Seat the evaluator as chair of a formed delivery panel, score the contract `total` and close it."""
    bureau = await who(pool, settings, world, "buyer_admin")
    chair = await who(pool, settings, world, "evaluator")
    async with pool.acquire() as conn, conn.transaction():
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
        await engine.start_scoring(conn, bureau, panel_id)
        await engine.declare(conn, chair, panel_id, Declaration(candidate_id=contract_id, conflicted=False))
        await engine.score(conn, chair, panel_id, ScoreInput(candidate_id=contract_id, position=1, score=total))
        await engine.record_consensus(conn, chair, panel_id, ScoreInput(candidate_id=contract_id, position=1,
                                                                         score=total))
        await engine.close(conn, panel_id, bureau.user_id)


@pytest.fixture
async def closed_call(pool, settings, world, published):
    """A call for 助餐服务 (social groups and agencies of the district), two bids, past its deadline."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        project = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="社区老年助餐项目", description="为老人提供助餐服务一年。", catalogue_entry_id=published["01.01.01"],
            budget_fen=200_000_00, budget_line="民政专项", jurisdiction_id=world.street))
        call_id = await calls.create_call(conn, bureau, call_input(project, criteria=[
            CriterionInput(name_zh="项目设计", weight=50, min_score=60), CriterionInput(name_zh="团队能力", weight=30),
            CriterionInput(name_zh="价格", weight=20, is_price=True)]))
        await calls.publish_call(conn, bureau, call_id)
    for name, amount in (("provider_admin", 100_000_00), ("other_provider_admin", 80_000_00)):
        async with pool.acquire() as conn, conn.transaction():
            await bids.submit(conn, await who(pool, settings, world, name), call_id, bid_input(amount))
    await pass_deadline(pool, call_id)
    return call_id


async def panel_of(pool, settings, world, call_id):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        panel_id = await panels.form_panel(conn, bureau, call_id)
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["buyer_staff"].email))
        await engine.start_scoring(conn, bureau, panel_id)
    return panel_id


async def do(pool, fn, *args):
    async with pool.acquire() as conn, conn.transaction():
        return await fn(conn, *args)


@pytest.fixture
async def scored(pool, settings, world, closed_call):
    """The closed call's panel, every consensus score recorded: 测试provider ranks first."""
    panel_id = await panel_of(pool, settings, world, closed_call)
    chair = await who(pool, settings, world, "evaluator")
    member = await who(pool, settings, world, "buyer_staff")
    for c in await do(pool, engine.candidates_of, panel_id):
        for person in (chair, member):
            await do(pool, engine.declare, person, panel_id, Declaration(candidate_id=c.candidate_id, conflicted=False))
        top = c.label == "测试provider"
        for position, score in ((1, 80 if top else 65), (2, 70 if top else 60)):
            for person in (chair, member):
                await do(pool, engine.score, person, panel_id,
                          ScoreInput(candidate_id=c.candidate_id, position=position, score=score))
            await do(pool, engine.record_consensus, chair, panel_id,
                      ScoreInput(candidate_id=c.candidate_id, position=position, score=score))
    return closed_call


@pytest.fixture
async def awarded(pool, settings, world, scored):
    await do(pool, awards.award, await who(pool, settings, world, "buyer_admin"), scored)
    return scored


async def end_notice(pool, call_id):
    await pool.execute("update calls set notice_ends_at = now() - interval '1 second' where id = $1", call_id)


@pytest.fixture
async def contract_id(pool, settings, world, awarded):
    await end_notice(pool, awarded)
    return await do(pool, contracts.generate, await who(pool, settings, world, "buyer_admin"), awarded)


SECRET = "密封测试内容-SEALED-7731"


def bid_input(amount=123_456_78, **change) -> BidInput:
    values = {"amount_fen": amount, "objectives": f"为失能老人提供上门助浴。{SECRET}",
              "activities": "每月两次上门助浴，全年24次，含安全评估。", "team": "社工2名、护理员4名",
              "budget_lines": [BudgetLine(item="人员", amount_fen=amount - 1000_00), BudgetLine(item="耗材", amount_fen=1000_00)],
              "indicators": [TargetInput(name="服务人次", target="480")]}
    values.update(change)
    return BidInput(**values)


def transfer() -> OfflinePaymentInput:
    """A bank transfer made today, by the clock the rules read."""
    return OfflinePaymentInput(bank_reference="ICBC-20261120-0001", paid_on=clock.today())


async def make_pledge(pool, settings, world, target_type, target_id, amount=50_000_00, **extra):
    funder = await who(pool, settings, world, "funder_admin")
    return await do(pool, pledges.create, funder, PledgeInput(target_type=target_type, target_id=target_id,
                                                               amount_fen=amount, **extra))


async def pay_pledge(pool, settings, world, pledge_id):
    """The funder records a transfer and the buyer confirms it."""
    funder = await who(pool, settings, world, "funder_admin")
    payment = await do(pool, pledges.record_offline, funder, pledge_id, transfer())
    await do(pool, pledges.confirm_payment, await who(pool, settings, world, "buyer_admin"), payment)
    return payment


async def pledge_status(pool, pledge_id):
    return await pool.fetchval("select status from pledges where id = $1", pledge_id)


async def make_fund(pool, world):
    return await pool.fetchval(
        "insert into funds (owner_id, name_zh, created_by) values ($1, '社区服务基金', $2) returning id",
        world["buyer_admin"].org_id, world["buyer_admin"].user_id)


@pytest.fixture
async def signed(pool, settings, world, contract_id):
    for name in ("buyer_admin", "provider_admin"):
        await do(pool, contracts.sign, await who(pool, settings, world, name), contract_id)
    return contract_id


NOW = datetime.now(UTC)


OPEN_WINDOW = {"opens_at": NOW - timedelta(hours=1), "closes_at": NOW + timedelta(days=30)}


async def make_funder(pool, world, key: str, serial: int) -> Identity:
    """Another verified funder organisation with its administrator."""
    async with pool.acquire() as conn, conn.transaction():
        org = await insert_organisation(
            conn, kind="funder", subtype="foundation", name_zh=f"测试{key}", name_en=f"Test {key}",
            credit_code=code("91", serial), jurisdiction_id=world.district, rating=None, registration_date=None,
            description="", contact_name="联系人", contact_phone="0571-1234", contact_email=f"{key}@org.test",
            address="地址", status="verified")
        user = await insert_user(conn, email=f"{key}@people.test", display_name=key,
                                                  password_hash=_HASH, community_id=None, locale="zh_Hans")
        await insert_membership(conn, user_id=user, organisation_id=org, role="admin")
    return Identity(user_id=user, email=f"{key}@people.test", display_name=key, locale="zh_Hans", community_id=None,
                    session_hash="", org_id=org, org_kind="funder", org_status="verified", org_name_zh=f"测试{key}",
                    org_name_en=f"Test {key}", role="admin")


async def make_project(pool, settings, world, published, title="青年路社区助浴服务") -> int:
    bureau = await who(pool, settings, world, "buyer_admin")
    return await do(pool, needs.create_project, bureau, ProjectInput(
        title_zh=title, description="为独居老人提供上门助浴服务。", catalogue_entry_id=published["01.01.02"],
        budget_fen=100_000_00, budget_line="福彩公益金", jurisdiction_id=world.street))


async def paid_pledge(pool, funder: Identity, receiver: Identity, target_type: str, target_id: int, amount: int) -> int:
    """A pledge made, paid by transfer and confirmed by its receiver."""
    pledge = await pledge_as(pool, funder, target_type, target_id, amount)
    payment = await do(pool, pledges.record_offline, funder, pledge, transfer())
    await do(pool, pledges.confirm_payment, receiver, payment)
    return pledge


@pytest.fixture
async def pool_setup(pool, settings, world, project, published):
    """A foundation's 1:1 pool holding ¥10,000, with two projects taking part, and two donors."""
    foundation = await make_funder(pool, world, "foundation", 50)
    fund = await do(pool, pools.create_fund, foundation, FundInput(
        name_zh="社区服务配捐基金", name_en="Community matching pool", matching="ratio", ratio_num=1, ratio_den=1,
        **OPEN_WINDOW))
    second = await make_project(pool, settings, world, published)
    for p in (project, second):
        await do(pool, pools.add_project, foundation, fund, p)
    await paid_pledge(pool, foundation, foundation, "fund", fund, 10_000_00)
    return {"fund": fund, "foundation": foundation, "projects": (project, second),
            "donor": await who(pool, settings, world, "funder_admin"),
            "other": await make_funder(pool, world, "other_donor", 51),
            "bureau": await who(pool, settings, world, "buyer_admin")}


def fair_input(**change) -> FairInput:
    now = datetime.now(UTC)
    values = {"title_zh": "2026年上城区公益项目相亲会", "place": "上城区市民中心", "starts_at": now,
              "ends_at": now + timedelta(hours=4)}
    return FairInput(**{**values, **change})


async def second_funder(pool, world) -> tuple[int, int]:
    """Another verified funder organisation with its admin: (org id, user id)."""
    async with pool.acquire() as conn, conn.transaction():
        org_id = await insert_organisation(
            conn, kind="funder", subtype="enterprise", name_zh="测试second_funder", name_en="Second funder",
            credit_code=code("91", 9), jurisdiction_id=world.district, rating=None, registration_date=None, description="",
            contact_name="联系人", contact_phone="0571-1234", contact_email="second@org.test", address="",
            status="verified")
        user_id = await insert_user(conn, email="second.funder@people.test", display_name="二号",
                                                     password_hash="x", community_id=None, locale="zh_Hans")
        await insert_membership(conn, user_id=user_id, organisation_id=org_id, role="admin")
    return org_id, user_id


async def live_fair(pool, settings, world, project, second_project=None, all_or_nothing=False):
    bureau = await who(pool, settings, world, "buyer_admin")
    fair_id = await do(pool, fairs.create, bureau, fair_input())
    await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=project, target_fen=100_000_00,
                                                               all_or_nothing=all_or_nothing), W)
    if second_project:
        await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=second_project, target_fen=50_000_00), W)
    await do(pool, fairs.move, bureau, fair_id, "open")
    await do(pool, fairs.register, await who(pool, settings, world, "funder_admin"), fair_id)
    await do(pool, fairs.move, bureau, fair_id, "go_live")
    return fair_id


W = Weights()


async def make_org(conn, world, key, kind, subtype, serial, where, **extra):
    world.orgs[key] = await insert_organisation(
        conn, kind=kind, subtype=subtype, name_zh=f"测试{key}", name_en=f"Test {key}",
        credit_code=code({"provider": "52", "funder": "91", "buyer": "11"}.get(kind, "12"), serial), jurisdiction_id=where,
        rating=extra.get("rating"), registration_date=extra.get("registered"), description="", contact_name="联系人",
        contact_phone="0571-1234", contact_email=f"{key}@org.test", address="地址", status=extra.get("status", "verified"))
    return world.orgs[key]


async def make_person(conn, world, name, org_key, role="admin"):
    uid = await insert_user(conn, email=f"{name}@people.test", display_name=name, password_hash=_HASH,
                                             community_id=None, locale="en")
    await insert_membership(conn, user_id=uid, organisation_id=world.orgs[org_key], role=role)
    return uid


@pytest.fixture
async def market(pool, settings, world, published):
    """Two projects of the bureau and the organisations around them:
    - A: 上门助浴 (01.01.02, agencies, providers from anywhere) in 东坡路社区, ¥200,000 + ¥50,000 asked of funders;
    - B: 助餐服务 (01.01.01, 3A, the district only) in 湖滨街道;
    - providers: the world's agency (moved into the community), its social group (not an agency), an agency
      in another district, and a street agency that shares a person with the bureau;
    - funders: the world's enterprise (money for elderly care in the street), one sharing a person with
      the bureau, one sharing a person with the world's agency, one offering goods only;
    - a buyer in the other district."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("update organisations set jurisdiction_id = $1 where id = $2", world.community,
                           world.orgs["provider"])
        far_district = await insert_jurisdiction(
            conn, parent_id=None, level="district", code="330105", name_zh="拱墅区", name_en="Gongshu")
        await make_org(conn, world, "far_provider", "provider", "social_service_agency", 31, far_district,
                   rating=5, registered=date(2012, 1, 1))
        await make_org(conn, world, "street_provider", "provider", "social_service_agency", 32, world.street, rating=3,
                   registered=date(2014, 1, 1))
        await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                           world["buyer_staff"].user_id, world.orgs["street_provider"])
        await make_org(conn, world, "far_bureau", "buyer", "bureau", 33, far_district)
        far_buyer = await make_person(conn, world, "far_buyer", "far_bureau")
        await make_org(conn, world, "bureau_friend", "funder", "enterprise", 34, world.district)
        await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                           world["buyer_admin"].user_id, world.orgs["bureau_friend"])
        await make_org(conn, world, "provider_friend", "funder", "foundation", 35, world.district)
        await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                           world["provider_staff"].user_id, world.orgs["provider_friend"])
        await make_org(conn, world, "goods_only", "funder", "enterprise", 36, world.district)
        admins = {key: await make_person(conn, world, f"{key}_admin", key)
                  for key in ("bureau_friend", "provider_friend", "goods_only")}
        admins["funder"] = world["funder_admin"].user_id
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        a = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="东坡路社区上门助浴", description="为失能老人提供上门助浴一年。", catalogue_entry_id=published["01.01.02"],
            budget_fen=200_000_00, budget_line="福彩公益金", jurisdiction_id=world.community))
        await conn.execute("update projects set funding_target_fen = 5000000 where id = $1", a)
        b = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="湖滨街道老年助餐", description="为老人提供助餐服务一年。", catalogue_entry_id=published["01.01.01"],
            budget_fen=100_000_00, budget_line="福彩公益金", jurisdiction_id=world.street))
    offers = {"funder": ResourceInput(kind="money", title="助老基金", amount_fen=30_000_00, categories=["01"],
                                      jurisdiction_ids=[world.street]),
              "bureau_friend": ResourceInput(kind="money", title="公益金", amount_fen=80_000_00),
              "provider_friend": ResourceInput(kind="money", title="公益金", amount_fen=80_000_00),
              "goods_only": ResourceInput(kind="goods", title="米面油", quantity="500份")}
    for key, offer in offers.items():
        funder_admin = await identity_for_user(pool, settings, admins[key], world.orgs[key])
        await do(pool, resources.create, funder_admin, offer)
    return {"a": a, "b": b, "far_buyer": far_buyer}


async def identity_for_user(pool, settings, uid, org_id):
    from tests.conftest import identity_of
    return await identity_of(pool, settings, uid, org_id)


def minimal_png() -> bytes:
    """A 1x1 red pixel."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


PNG = minimal_png()


async def run_cli(*argv):
    """`market …` as a person types it. The CLI runs its own event loop, so it runs in a thread here."""
    return await asyncio.to_thread(cli_main, list(argv))


async def pledge_as(pool, funder: Identity, target_type: str, target_id: int, amount: int) -> int:
    """A pledge by this person, not yet paid."""
    return await do(pool, pledges.create, funder, PledgeInput(target_type=target_type, target_id=target_id,
                                                               amount_fen=amount))


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 7.5), 3: "E", 4: (120.0, 10.0, 3.2)}  # the GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def clone_contract(pool, contract_id: int, provider_id: int) -> int:
    """Another signed contract of the same buyer, for another provider: a copy of the project, its
    call, the winning bid and its award, the contract and its milestones (the procurement chain is
    tested elsewhere; this is a quick way to a buyer with several providers)."""
    async with pool.acquire() as conn, conn.transaction():
        def copy(table: str, changes: str) -> str:
            return (f"insert into {table} select (jsonb_populate_record(null::{table}, to_jsonb(x) || "
                    f"jsonb_build_object({changes}))).* from {table} x")
        call = "(select call_id from contracts where id = $1)"
        project_id = await conn.fetchval(
            copy("projects", "'id', nextval(pg_get_serial_sequence('projects', 'id'))")
            + f" where x.id = (select project_id from calls where id = {call}) returning id", contract_id)
        call_id = await conn.fetchval(
            copy("calls", "'id', nextval(pg_get_serial_sequence('calls', 'id')), 'project_id', $2::bigint")
            + f" where x.id = {call} returning id", contract_id, project_id)
        award = "(select award_id from contracts where id = $1)"
        bid_id = await conn.fetchval(
            copy("bids", "'id', nextval(pg_get_serial_sequence('bids', 'id')), 'call_id', $2::bigint, "
                         "'provider_id', $3::bigint")
            + f" where x.id = (select bid_id from awards where id = {award}) returning id",
            contract_id, call_id, provider_id)
        award_id = await conn.fetchval(
            copy("awards", "'id', nextval(pg_get_serial_sequence('awards', 'id')), 'call_id', $2::bigint, "
                           "'bid_id', $3::bigint")
            + f" where x.id = {award} returning id", contract_id, call_id, bid_id)
        new_id = await conn.fetchval(
            copy("contracts", "'id', nextval(pg_get_serial_sequence('contracts', 'id')), 'call_id', $2::bigint, "
                              "'award_id', $3::bigint, 'provider_id', $4::bigint")
            + " where x.id = $1 returning id", contract_id, call_id, award_id, provider_id)
        await conn.execute(copy("contract_milestones", "'contract_id', $2::bigint") + " where x.contract_id = $1",
                           contract_id, new_id)
    return new_id


async def third_provider(pool, world) -> int:
    """A third verified provider with its admin, `third_admin`."""
    async with pool.acquire() as conn, conn.transaction():
        org = await make_org(conn, world, "third_provider", "provider", "social_group", 31, world.district,
                             registered=date(2016, 1, 1))
        uid = await make_person(conn, world, "third.admin", "third_provider")
    world.people["third_admin"] = Persona("third_admin", uid, "third.admin@people.test", org, "provider", "admin")
    return org


async def walk_pages(pool, read, add) -> list[int]:
    """Every id a keyset-paged list gives from its first page to its last, `read(conn, cursor)` giving a
    page's ids and the next cursor, while `add()` adds a row after each page (others write as someone
    pages); each id is seen once."""
    seen, cursor = [], None
    while True:
        async with pool.acquire() as conn:
            ids, cursor = await read(conn, cursor)
        seen += ids
        await add()
        if cursor is None:
            assert len(seen) == len(set(seen))
            return seen
