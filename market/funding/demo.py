"""The demo's money: funded projects, payments of both kinds (bank transfers confirmed by the
receiver, one waiting in the bureau's queue, and online payments as Stripe would have reported
them), a refund, and a provider paid for an accepted milestone. Everything goes through the same
services as real use, so the ledger balances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from market.core import clock
from market.core.access import Identity
from market.core.clock import on_day
from market.funding.funds import services as pools
from market.funding.funds.models import FundInput
from market.funding.payments import online
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput, PledgeInput
from market.funding.resources import services as resources
from market.funding.resources.models import ResourceInput


def _online_payment_event(payment_id: int, pledge_id: int) -> dict:
    """What Stripe sends when a Checkout session is paid, for a demo payment (no Stripe is called)."""
    reference = {"payment_id": str(payment_id), "pledge_id": str(pledge_id)}
    return {"id": f"evt_demo_{payment_id}", "object": "event", "type": "checkout.session.completed",
            "created": int(datetime.now(UTC).timestamp()),
            "data": {"object": {"id": f"cs_demo_{payment_id}", "object": "checkout.session", "status": "complete",
                                "payment_status": "paid", "payment_intent": f"pi_demo_{payment_id}",
                                "metadata": reference}}}


async def _pledge(conn: asyncpg.Connection, funder: Identity, project_id: int, amount_fen: int, note: str) -> int:
    return await pledges.create(conn, funder, PledgeInput(target_type="project", target_id=project_id,
                                                          amount_fen=amount_fen, note=note))


async def _transfer(conn: asyncpg.Connection, funder: Identity, pledge_id: int, reference: str) -> int:
    return await pledges.record_offline(conn, funder, pledge_id, OfflinePaymentInput(
        bank_reference=reference, paid_on=clock.today()))


async def _paid_online(conn: asyncpg.Connection, funder: Identity, pledge_id: int, base_url: str) -> None:
    order = await online.prepare_checkout(conn, funder, pledge_id, base_url)
    payment_id = order[0] if isinstance(order, tuple) else order.payment_id
    await online.apply_event(conn, _online_payment_event(payment_id, pledge_id), "demo")


async def _into_fund(conn: asyncpg.Connection, funder: Identity, owner: Identity, fund_id: int, amount_fen: int,
                     reference: str) -> None:
    pledge_id = await pledges.create(conn, funder, PledgeInput(target_type="fund", target_id=fund_id,
                                                               amount_fen=amount_fen))
    await pledges.confirm_payment(conn, owner, await _transfer(conn, funder, pledge_id, reference))


async def _pools(conn: asyncpg.Connection, bureau: Identity, funders: dict[str, Identity],
                 projects: dict[str, int], today: datetime) -> int:
    """A ratio pool whose round is open (its page shows the live matches), and a quadratic pool whose
    round the caller closes once it is over; returns the quadratic pool."""
    await on_day(conn, today, -20)
    now = clock.now()
    charity = funders["charity"]
    ratio = await pools.create_fund(conn, charity, FundInput(
        name_zh="上城区社区服务配捐基金", name_en="Shangcheng community service matching fund",
        description="慈善总会设立的社区服务基金：企业和爱心人士每向参与项目捐赠1元，基金配捐1元。",
        matching="ratio", ratio_num=1, ratio_den=1, min_gift_fen=100_00, per_donor_cap_fen=20_000_00,
        per_project_cap_fen=50_000_00, opens_at=now, closes_at=now + timedelta(days=50)))
    for key in ("meals", "bathing"):
        await pools.add_project(conn, charity, ratio, projects[key])
    await on_day(conn, today, -19)
    await _into_fund(conn, funders["csr01"], charity, ratio, 100_000_00, "ICBC-20261028-0017")

    quadratic = await pools.create_fund(conn, bureau, FundInput(
        name_zh="2026年社会组织发展基金·二次方配捐", name_en="2026 NGO development fund (quadratic matching)",
        description="支持者越多的项目获得越多配捐：众多小额捐赠比一笔大额捐赠分量更重。",
        matching="quadratic", per_project_cap_fen=30_000_00, opens_at=now, closes_at=now + timedelta(days=15)))
    for key in ("ziyang", "xiaoying"):
        await pools.add_project(conn, bureau, quadratic, projects[key])
    await _into_fund(conn, funders["csr05"], bureau, quadratic, 40_000_00, "BOC-20261025-3310")
    for funder, key, amount in (("csr06", "ziyang", 1_000_00), ("csr07", "ziyang", 4_000_00),
                                ("csr08", "ziyang", 9_000_00), ("donor", "ziyang", 100_00),
                                ("csr09", "xiaoying", 16_000_00), ("csr10", "xiaoying", 1_000_00)):
        pledge_id = await _pledge(conn, funders[funder], projects[key], amount, "")
        await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders[funder], pledge_id,
                                                                    f"NB-202611-{pledge_id:04d}"))
    return quadratic


async def _resources(conn: asyncpg.Connection, funders: dict[str, Identity]) -> None:
    """The resources list (资源清单): what funders offer besides their pledges."""
    district = await conn.fetchval("select id from jurisdictions where level = 'district' order by id limit 1")
    street = await conn.fetchval("select id from jurisdictions where level = 'street' order by id limit 1")
    until = clock.today() + timedelta(days=300)
    offers = (
        ("csr01", ResourceInput(kind="money", title="2026年社区助老专项资金", amount_fen=200_000_00, categories=["01"],
                                jurisdiction_ids=[street], beneficiary_groups=["older_people"],
                                conditions="每季度提交资金使用报告", available_until=until)),
        ("csr02", ResourceInput(kind="goods", title="米面油慰问包", quantity="500份", categories=["04"],
                                beneficiary_groups=["low_income"])),
        ("csr03", ResourceInput(kind="venue", title="企业多功能厅", quantity="可容纳80人，周末全天",
                                jurisdiction_ids=[district])),
        ("csr04", ResourceInput(kind="volunteer_hours", title="员工志愿服务队", quantity="每月200小时",
                                categories=["03", "07"], beneficiary_groups=["children"])),
        ("charity", ResourceInput(kind="money", title="困境儿童助学金（内部统筹）", amount_fen=50_000_00,
                                  categories=["03"], private=True)),
    )
    for key, offer in offers:
        await resources.create(conn, funders[key], offer)
    await resources.withdraw(conn, funders["csr02"], await resources.create(conn, funders["csr02"], ResourceInput(
        kind="goods", title="冬季棉衣（已发完）", quantity="200件")))


async def load(conn: asyncpg.Connection, *, bureau: Identity, funders: dict[str, Identity], base_url: str,
               today: datetime) -> None:
    """Funds, pledges and resources of the demo's projects; once only."""
    if await conn.fetchval("select count(*) from pledges"):
        return
    titles = {"meals": "湖滨、清波片区老年助餐服务", "bathing": "近江社区失能老人上门助浴",
              "station": "望江街道社会工作站运营", "ziyang": "紫阳街道社区议事协商能力提升",
              "xiaoying": "小营街道社会工作站运营"}
    projects = {key: await conn.fetchval("select id from projects where title_zh = $1 order by id limit 1", title)
                for key, title in titles.items()}
    meals, bathing, station = projects["meals"], projects["bathing"], projects["station"]
    # Told in date order, so payments, receipts and refunds follow one another as they happened.
    await on_day(conn, today, -22)
    # The social work station: paid, then refunded by the bureau when the funder's purpose changed.
    refunded = await _pledge(conn, funders["csr02"], station, 15_000_00, "")
    await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders["csr02"], refunded, "CCB-20261111-0907"))
    quadratic = await _pools(conn, bureau, funders, projects, today)
    await on_day(conn, today, -15)
    # The meals project: two enterprises paid by bank transfer, confirmed by the bureau; a private donor
    # paid online; a third enterprise's transfer waits in the bureau's queue.
    first = await _pledge(conn, funders["csr01"], meals, 50_000_00, "支持高龄独居老人助餐，企业员工可参与送餐志愿服务。")
    await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders["csr01"], first, "ICBC-20261118-0381"))
    await on_day(conn, today, -12)
    await pledges.refund(conn, bureau, refunded, "资助方调整年度资助方向，经双方协商退回。")
    await on_day(conn, today, -10)
    second = await _pledge(conn, funders["csr02"], meals, 30_000_00, "")
    await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders["csr02"], second, "CCB-20261123-1176"))
    await _paid_online(conn, funders["donor"], await _pledge(conn, funders["donor"], meals, 2_000_00,
                                                               "给老人们加个菜。"), base_url)
    await on_day(conn, today, -7)
    # Home bathing: one enterprise paid online; another promised, not yet paid.
    await _paid_online(conn, funders["csr04"], await _pledge(conn, funders["csr04"], bathing, 10_000_00, ""), base_url)
    await on_day(conn, today, -4)
    await pools.close_round(conn, bureau, quadratic)
    await on_day(conn, today, -3)
    await _resources(conn, funders)
    await on_day(conn, today, -2)
    waiting = await _pledge(conn, funders["csr03"], meals, 20_000_00, "")
    await _transfer(conn, funders["csr03"], waiting, "ABC-20261201-0042")
    await on_day(conn, today, -1)
    await _pledge(conn, funders["csr05"], bathing, 5_000_00, "待年度预算批准后付款。")
