"""The demo's fairs and dockings: a finished fair with its report, whose two dockings the bureau has
accepted (one past its notice with the contract signed by the bureau, one still under notice); a
fair open for registration, ready to go live; and a rolling docking run over the bureau's projects
still waiting for a provider, with a pin."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg

from market.core import clock
from market.core.access import Identity
from market.core.clock import on_day
from market.matching.scoring import candidates
from market.matching.docking import rolling
from market.matching.docking import dockings
from market.matching.fairs import services as fairs
from market.matching.fairs.models import FairInput, ItemInput, RaiseInput
from market.matching.docking.rolling import RuleInput
from market.matching.scoring.weights import Weights
from market.procurement.contracts import services as contracts
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput


async def _projects(conn: asyncpg.Connection, *titles: str) -> list[int]:
    return [await conn.fetchval("select id from projects where title_zh = $1 order by id limit 1", t) for t in titles]


# The demo is scored with the default weights, whatever a deployment configures.
WEIGHTS = Weights()


async def _new_project(conn: asyncpg.Connection, bureau: Identity, title: str, title_en: str, code: str,
                       budget_fen: int, asked_fen: int | None, description: str) -> int:
    """A bureau project with no call yet, asking funders for `asked_fen` on top of its budget."""
    entry = await conn.fetchval("select e.id from catalogue_entries e join catalogue_versions v on v.id = e.version_id "
                                "where v.buyer_id = $1 and v.status = 'published' and e.code = $2", bureau.org_id, code)
    district = await conn.fetchval("select jurisdiction_id from organisations where id = $1", bureau.org_id)
    project_id = await needs.create_project(conn, bureau, ProjectInput(
        title_zh=title, title_en=title_en, description=description, catalogue_entry_id=entry, budget_fen=budget_fen,
        budget_line="2026年区级政府购买服务资金", jurisdiction_id=district))
    await conn.execute("update projects set funding_target_fen = $2 where id = $1", project_id, asked_fen)
    return project_id


async def _best_provider(conn: asyncpg.Connection, project_id: int) -> int:
    """The provider fit scoring ranks first for the project."""
    found = await candidates.build(conn, [project_id], WEIGHTS)
    return found.projects[0].providers[0].party_id


async def load(conn: asyncpg.Connection, *, bureau: Identity, funders: dict[str, Identity], today: datetime) -> None:
    await _fairs(conn, bureau, funders, today)
    await on_day(conn, today, 0)
    await _rolling(conn, bureau)


async def _fairs(conn: asyncpg.Connection, bureau: Identity, funders: dict[str, Identity], today: datetime) -> None:
    if await conn.fetchval("select count(*) from fairs"):
        return
    # The autumn fair: set up 18 days ago, held 12 days ago, told at its times.
    await on_day(conn, today, -18)
    day = (today - timedelta(days=12)).replace(hour=6, minute=0, second=0, microsecond=0)  # 14:00 in Hangzhou
    autumn = await fairs.create(conn, funders["charity"], FairInput(
        title_zh="2026年上城区公益项目相亲会（秋季）", title_en="Shangcheng charity project fair, autumn 2026",
        place="上城区市民中心三楼报告厅", description="慈善总会主办：社区治理和为老服务项目路演，企业现场举牌认捐。",
        starts_at=day, ends_at=day + timedelta(hours=4)))
    ziyang, xiaoying, station = await _projects(conn, "紫阳街道社区议事协商能力提升", "小营街道社会工作站运营",
                                                "望江街道社会工作站运营")
    classroom = await _new_project(conn, bureau, "清波街道“四点半课堂”课后托管", "After-school care in Qingbo",
                                   "03.02.02", 90_000_00, 40_000_00, "为双职工家庭子女提供放学后托管、作业辅导和兴趣活动，为期一年。")
    visits = await _new_project(conn, bureau, "南星街道独居老人探访关爱", "Visits to older people living alone in Nanxing",
                                "01.01.04", 60_000_00, 30_000_00, "组织社工和志愿者每周探访独居老人，建立关爱档案，为期一年。")
    for project, target, pitch, provider in (
            (ziyang, 60_000_00, "让居民自己商量社区的事", None),
            (xiaoying, 80_000_00, "社工站把服务送到家门口", None),
            (station, 50_000_00, "持证社工驻站，个案小组双管齐下", None),
            (classroom, 40_000_00, "孩子放学有去处，家长安心上班", await _best_provider(conn, classroom)),
            (visits, 30_000_00, "每周一次敲门，独居老人不孤单", await _best_provider(conn, visits))):
        await fairs.add_item(conn, funders["charity"], autumn, ItemInput(
            project_id=project, target_fen=target, pitch=pitch, provider_id=provider), WEIGHTS)
    await fairs.move(conn, funders["charity"], autumn, "open")
    await on_day(conn, today, -15)
    takers = ("csr01", "csr02", "csr03", "csr04", "donor")
    for key in takers:
        await fairs.register(conn, funders[key], autumn)
    await clock.travel_to(conn, day)
    await fairs.move(conn, funders["charity"], autumn, "go_live")
    for key, project, amount, stage in (("csr01", ziyang, 30_000_00, 1), ("csr03", ziyang, 20_000_00, 1),
                                        ("donor", ziyang, 1_000_00, 1), ("csr02", xiaoying, 50_000_00, 2),
                                        ("csr04", xiaoying, 10_000_00, 2), ("csr03", station, 8_000_00, 3),
                                        ("csr02", classroom, 25_000_00, 4), ("csr04", classroom, 15_000_00, 4),
                                        ("csr01", visits, 20_000_00, 5), ("donor", visits, 2_000_00, 5)):
        if (await fairs.board(conn, autumn)).on_stage != stage:
            await clock.travel_to(conn, day + timedelta(minutes=40 * stage))
            await fairs.move(conn, funders["charity"], autumn, "stage", stage)
        token = await fairs.raise_paddle(conn, funders[key], autumn, RaiseInput(project_id=project, amount_fen=amount,
                                                                                token=uuid.uuid4()))
        await fairs.confirm_raise(conn, funders[key], autumn, token)
    await clock.travel_to(conn, day + timedelta(hours=4))
    await fairs.move(conn, funders["charity"], autumn, "close")
    # After the fair the bureau accepts both dockings: the first the next day, so its notice is over
    # and its contract prepared and signed by the bureau; the second only yesterday, under notice now.
    await on_day(conn, today, -11)
    await fairs.accept_docking(conn, bureau, autumn, classroom, await dockings.terms(conn, classroom), WEIGHTS)
    first = await conn.fetchval("select call_id from dockings where project_id = $1", classroom)
    await on_day(conn, today, -6)
    await contracts.sign(conn, bureau, await contracts.generate(conn, bureau, first))
    await on_day(conn, today, -1)
    await fairs.accept_docking(conn, bureau, autumn, visits, await dockings.terms(conn, visits), WEIGHTS)

    await on_day(conn, today, 0)
    # The spring fair: a week on, in the afternoon wherever the demo is made.
    day = (clock.now() + timedelta(days=7)).replace(hour=6, minute=0, second=0, microsecond=0)  # 14:00 in Hangzhou
    spring = await fairs.create(conn, bureau, FairInput(
        title_zh="2027年上城区公益对对碰（春季）", title_en="Shangcheng charity docking fair, spring 2027",
        place="上城区社会组织服务中心", description="民政局主办：需求、资源、项目三方对接，现场举牌认捐，不达目标即退款。",
        starts_at=day, ends_at=day + timedelta(hours=3)))
    meals, bathing = await _projects(conn, "湖滨、清波片区老年助餐服务", "近江社区失能老人上门助浴")
    await fairs.add_item(conn, bureau, spring, ItemInput(
        project_id=meals, target_fen=150_000_00, all_or_nothing=True, pitch="两个助餐点，每天120位老人吃上热饭"), WEIGHTS)
    await fairs.add_item(conn, bureau, spring, ItemInput(project_id=bathing, target_fen=30_000_00,
                                                         pitch="失能老人每月两次上门助浴"), WEIGHTS)
    youth = await _new_project(conn, bureau, "湖滨街道青少年心理健康辅导", "Mental health counselling for young people "
                               "in Hubin", "03.02.01", 70_000_00, 40_000_00,
                               "为辖区中小学生提供心理健康讲座、团体辅导和个案咨询，为期一年。")
    await fairs.add_item(conn, bureau, spring, ItemInput(project_id=youth, target_fen=40_000_00,
                                                         provider_id=await _best_provider(conn, youth),
                                                         pitch="专业社工走进校园，守护孩子心理健康"), WEIGHTS)
    await fairs.move(conn, bureau, spring, "open")
    for key in ("csr01", "csr05", "csr06"):
        await fairs.register(conn, funders[key], spring)
        await fairs.mark_interest(conn, funders[key], spring, meals)


async def _rolling(conn: asyncpg.Connection, bureau: Identity) -> None:
    """Three projects waiting for a provider, one pinned to its second-best provider, and a run."""
    if await conn.fetchval("select count(*) from docking_runs"):
        return
    respite = await _new_project(conn, bureau, "紫阳街道家庭照护者喘息服务", "Respite care for family carers in Ziyang",
                                 "01.02.03", 150_000_00, 50_000_00, "为长期照护失能老人的家庭成员提供短期替代照护，让照护者得到休息。")
    await _new_project(conn, bureau, "望江街道残疾人之家运营", "Running the Wangjiang home for persons with disabilities",
                       "02.02.01", 200_000_00, None, "委托社会组织运营街道残疾人之家，提供日间照料、康复训练和辅助性就业。")
    await _new_project(conn, bureau, "小营街道社区儿童之家运营", "Running the Xiaoying community children's centre",
                       "03.01.03", 80_000_00, 20_000_00, "运营社区儿童之家，开展亲子活动、课业辅导和儿童安全教育。")
    found = await candidates.build(conn, [respite], WEIGHTS)
    second = found.projects[0].providers[1].party_id
    await rolling.set_rule(conn, bureau, RuleInput(project_id=respite, provider_id=second, rule="pin"),
                           WEIGHTS)
    await rolling.run(conn, bureau, WEIGHTS)
