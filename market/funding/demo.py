"""The demo's money: funded projects, payments of both kinds (bank transfers confirmed by the
receiver, one waiting in the bureau's queue, and online payments as Stripe would have reported
them), a refund, and a provider paid for an accepted milestone. Everything goes through the same
services as real use, so the ledger balances."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import asyncpg

from market.accounts.models import Identity
from market.funding import online, pledges
from market.funding.models import OfflinePaymentInput, PledgeInput


def _online_payment_event(payment_id: int, pledge_id: int) -> dict:
    """What Stripe sends when a Checkout session is paid, for a demo payment (no Stripe is called)."""
    reference = {"payment_id": str(payment_id), "pledge_id": str(pledge_id)}
    return {"id": f"evt_demo_{payment_id}", "object": "event", "type": "checkout.session.completed",
            "created": int(datetime.now(timezone.utc).timestamp()),
            "data": {"object": {"id": f"cs_demo_{payment_id}", "object": "checkout.session", "status": "complete",
                                "payment_status": "paid", "payment_intent": f"pi_demo_{payment_id}",
                                "metadata": reference}}}


async def _pledge(conn: asyncpg.Connection, funder: Identity, project_id: int, amount_fen: int, note: str) -> int:
    return await pledges.create(conn, funder, PledgeInput(target_type="project", target_id=project_id,
                                                          amount_fen=amount_fen, note=note))


async def _transfer(conn: asyncpg.Connection, funder: Identity, pledge_id: int, reference: str, days_ago: int) -> int:
    return await pledges.record_offline(conn, funder, pledge_id, OfflinePaymentInput(
        bank_reference=reference, paid_on=date.today() - timedelta(days=days_ago)))


async def _paid_online(conn: asyncpg.Connection, funder: Identity, pledge_id: int, base_url: str) -> None:
    order = await online.prepare_checkout(conn, funder, pledge_id, base_url)
    await online.apply_event(conn, _online_payment_event(order.payment_id, pledge_id), "demo")


async def load(conn: asyncpg.Connection, *, bureau: Identity, funders: dict[str, Identity], base_url: str) -> None:
    """Pledges to the demo's projects; once only."""
    if await conn.fetchval("select count(*) from pledges"):
        return
    meals = await conn.fetchval("select id from projects where title_zh like '%助餐%' order by id limit 1")
    bathing = await conn.fetchval("select id from projects where title_zh like '%助浴%' order by id limit 1")
    station = await conn.fetchval("select id from projects where title_zh = '望江街道社会工作站运营'")

    # The meals project: two enterprises paid by bank transfer, confirmed by the bureau; a private donor
    # paid online; a third enterprise's transfer waits in the bureau's queue.
    first = await _pledge(conn, funders["csr01"], meals, 50_000_00, "支持高龄独居老人助餐，企业员工可参与送餐志愿服务。")
    await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders["csr01"], first, "ICBC-20261102-0381", 20))
    second = await _pledge(conn, funders["csr02"], meals, 30_000_00, "")
    await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders["csr02"], second, "CCB-20261108-1176", 14))
    await _paid_online(conn, funders["donor"], await _pledge(conn, funders["donor"], meals, 2_000_00,
                                                               "给老人们加个菜。"), base_url)
    waiting = await _pledge(conn, funders["csr03"], meals, 20_000_00, "")
    await _transfer(conn, funders["csr03"], waiting, "ABC-20261120-0042", 2)

    # Home bathing: one enterprise paid online; another promised, not yet paid.
    await _paid_online(conn, funders["csr04"], await _pledge(conn, funders["csr04"], bathing, 10_000_00, ""), base_url)
    await _pledge(conn, funders["csr05"], bathing, 5_000_00, "待年度预算批准后付款。")

    # The social work station: paid, then refunded by the bureau when the funder's purpose changed.
    refunded = await _pledge(conn, funders["csr02"], station, 15_000_00, "")
    await pledges.confirm_payment(conn, bureau, await _transfer(conn, funders["csr02"], refunded, "CCB-20261101-0907",
                                                                21))
    await pledges.refund(conn, bureau, refunded, "资助方调整年度资助方向，经双方协商退回。")
