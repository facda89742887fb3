"""The demo's complaints, told on the story's clock: one in every state — dispatched, acknowledged,
answered, closed with a rating and without one, reopened — and two late ones the complaint clock
escalated, one level and two. Everything goes through the same services and clock as real use."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from market.complaints import jobs
from market.complaints import services as complaints
from market.complaints.models import AnswerInput, ComplaintInput, RatingInput, ReopenInput
from market.core.access import Identity
from market.core.clock import on_day
from market.core.settings import Settings
from market.storage.services import storage_from_settings


async def _acting(conn: asyncpg.Connection, complaint_id: int) -> Identity:
    """The administrator of the organisation a complaint was dispatched to, acting for it."""
    row = await conn.fetchrow(
        "select m.user_id, o.id, o.kind from complaints c join organisations o on o.id = c.responsible_id "
        "join memberships m on m.organisation_id = o.id and m.role = 'admin' where c.id = $1 "
        "order by m.user_id limit 1", complaint_id)
    return Identity(user_id=row["user_id"], email="", display_name="", locale="zh_Hans", community_id=None,
                    session_hash="", org_id=row["id"], org_kind=row["kind"], org_status="verified", role="admin")


async def _resident(conn: asyncpg.Connection, email: str) -> Identity:
    row = await conn.fetchrow("select id, community_id from users where email = $1", email)
    return Identity(user_id=row["id"], email=email, display_name="", locale="zh_Hans",
                    community_id=row["community_id"], session_hash="")


async def load(conn: asyncpg.Connection, *, settings: Settings, residents_domain: str, today: datetime) -> None:
    """Once only; the clock stands where the caller left it afterwards."""
    if await conn.fetchval("select count(*) from complaints"):
        return
    storage = storage_from_settings(settings)
    places = {r["name_zh"]: r["id"] for r in await conn.fetch("select id, name_zh from jurisdictions "
                                                              "where level = 'community'")}
    codes = {r["code"]: r["id"] for r in await conn.fetch("select id, code from complaint_categories")}
    meals = await conn.fetchval("select id from projects where title_zh = '湖滨、清波片区老年助餐服务' order by id limit 1")
    bathing = await conn.fetchval("select id from projects where title_zh = '近江社区失能老人上门助浴' order by id limit 1")

    async def lodge(day: float, code: str, community: str, body: str, who: Identity | None = None,
                    project: int | None = None, name: str = "", phone: str = "") -> int:
        await on_day(conn, today, day)
        lodged = await complaints.lodge(conn, storage, settings, who, ComplaintInput(
            category_id=codes[code], community_id=places[community], body=body, project_id=project,
            contact_name=name, contact_phone=phone))
        return lodged.id

    async def act(day: float, complaint_id: int, step: str, text: str = "", upheld: bool = True) -> None:
        await on_day(conn, today, day)
        handler = await _acting(conn, complaint_id)
        if step == "acknowledge":
            await complaints.acknowledge(conn, handler, complaint_id)
        else:
            await complaints.answer(conn, handler, complaint_id, AnswerInput(answer=text, upheld=upheld))

    async def clock_runs(day: float) -> None:
        await on_day(conn, today, day)
        await jobs.tick(conn, settings.timezone)

    wang = await _resident(conn, f"resident1@{residents_domain}")
    li = await _resident(conn, f"resident2@{residents_domain}")
    # Closed and rated: a resident with an account, about her community's affairs.
    rated = await lodge(-40, "community_affairs", "东坡路社区", "小区东门的路灯坏了两个星期，晚上老人出门看不清台阶。", wang)
    await act(-39, rated, "acknowledge")
    await act(-36, rated, "answer", "已联系物业更换路灯并在台阶处加装反光条，欢迎继续监督。")
    await on_day(conn, today, -35)
    await complaints.rate(conn, wang, rated, RatingInput(rating=5))
    # Escalated two levels: a safety hazard, in calendar days, nobody dealt with it.
    await lodge(-30, "safety", "馒头山社区", "活动室的电暖器电线裸露，老人活动时容易碰到，存在触电危险。",
                        name="刘先生", phone="13900001111")
    # Closed without a rating: answered, and the complainant did not come back.
    unrated = await lodge(-30, "service_quality", "清波门社区", "助餐点连续几天送餐迟到一个多小时，饭菜都凉了。", project=meals,
                          phone="13700002222")
    await act(-28, unrated, "answer", "已调整送餐路线并增加一辆保温送餐车，送餐时间恢复正常。")
    await clock_runs(-25)
    # Reopened: answered, but the resident says the problem remains.
    reopened = await lodge(-12, "community_affairs", "清波门社区", "楼道里堆放的杂物一直没人清理，影响通行和消防安全。", li)
    await act(-11, reopened, "acknowledge")
    await clock_runs(-10)
    await act(-8, reopened, "answer", "已通知楼道住户限期清理杂物。")
    await on_day(conn, today, -2)
    await complaints.reopen(conn, li, reopened, ReopenInput(reason="限期已过，杂物还堆在楼道里。"))
    # Escalated one level.
    await lodge(-6, "safety", "近江社区", "助浴服务时浴室地面很滑，没有铺防滑垫，老人差点摔倒。", project=bathing,
                       name="张先生", phone="13600003333")
    # Answered, waiting for the complainant's rating; acknowledged; an irregularity at the bureau.
    answered = await lodge(-6, "staff_conduct", "东坡路社区", "送餐的工作人员态度生硬，老人问话也不理睬。", project=meals)
    procurement = await lodge(-5, "procurement_conduct", "小营巷社区", "听说某个项目评审时有评审专家和投标机构是同事关系。")
    await act(-4, procurement, "acknowledge")
    await act(-4, answered, "answer", "经核实，当天送餐员因交通事故耽误时间，情绪不佳；已批评教育并向老人致歉。", upheld=False)
    await clock_runs(-3)
    acknowledged = await lodge(-3, "community_affairs", "清波门社区", "社区广场舞音响太大，晚上九点以后还在放。")
    await act(-2, acknowledged, "acknowledge")
    # Dispatched only, this morning.
    await lodge(-0.2, "community_affairs", "小营巷社区", "小区里的共享单车乱停，堵住了无障碍通道。", phone="13500004444")
