"""Pledges, offline payments, allocation, refunds and disbursement, on the double-entry ledger."""

import asyncio
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from market.core import clock
from market.core.errors import Conflict, Forbidden, InvalidFields
from market.delivery import services as delivery
from market.funding.ledger import services as ledger
from market.funding.pledges import services as pledges
from market.funding.pledges.models import PLEDGE_STATUSES, OfflinePaymentInput, PledgeInput
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput
from tests.conftest import act_as
from tests.factories import (
    accept_milestones,
    do,
    evaluate_delivery,
    make_fund,
    make_pledge,
    pay_pledge,
    pledge_status,
    transfer,
    travel,
    who,
)

EXPECTED_STEPS = {  # action → {from: to}
    "pay": {"pledged": "awaiting_payment", "awaiting_payment": "awaiting_payment"},
    "confirm": {"awaiting_payment": "paid"},
    "allocate": {"paid": "allocated"},
    "disburse": {"allocated": "disbursed"},
    "cancel": {"pledged": "cancelled", "awaiting_payment": "cancelled"},
    "lapse": {"pledged": "cancelled", "awaiting_payment": "cancelled"},  # not paid by its date
    "refund": {"paid": "refunded", "allocated": "refunded"},
    "return": {"allocated": "paid"},  # a fund pledge whose project's contract ended
}


def test_every_pledge_step_allowed_and_refused():
    for action, moves in EXPECTED_STEPS.items():
        for status in PLEDGE_STATUSES:
            if status in moves:
                assert pledges.PLEDGE.find(action, status).target == moves[status]
            else:
                with pytest.raises(Conflict):
                    pledges.PLEDGE.check(action, status, {"funder", "receiver", "payment_service", "platform"})
    assert set(EXPECTED_STEPS) == set(pledges.PLEDGE.actions)


def test_every_payment_step_allowed_and_refused():
    expected = {"confirm": {"pending": "confirmed"}, "reject": {"pending": "rejected"}, "fail": {"pending": "failed"}}
    for action, moves in expected.items():
        for status in ("pending", "confirmed", "rejected", "failed"):
            if status in moves:
                assert pledges.PAYMENT.find(action, status).target == moves[status]
            else:
                with pytest.raises(Conflict):
                    pledges.PAYMENT.check(action, status, {"receiver", "payment_service", "platform"})
    assert set(expected) == set(pledges.PAYMENT.actions)


async def _balance(pool, spec):
    async with pool.acquire() as conn:
        return await ledger.balance(conn, spec)


async def test_an_offline_payment_confirmed_moves_the_money_to_the_project(pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project)
    assert await pledge_status(pool, pledge) == "pledged"
    funder = await who(pool, settings, world, "funder_admin")
    payment = await do(pool, pledges.record_offline, funder, pledge, transfer())
    assert await pledge_status(pool, pledge) == "awaiting_payment"
    with pytest.raises(Conflict):  # one payment in flight
        await do(pool, pledges.record_offline, funder, pledge, transfer())
    for outsider in ("funder_admin", "provider_admin", "buyer_staff"):  # staff are not finance
        with pytest.raises(Forbidden):
            await do(pool, pledges.confirm_payment, await who(pool, settings, world, outsider), payment)
    await do(pool, pledges.confirm_payment, await who(pool, settings, world, "buyer_admin"), payment)
    # Unconditional: paid, then allocated to its project at once.
    assert await pledge_status(pool, pledge) == "allocated"
    funder_org = world["funder_admin"].org_id
    assert await _balance(pool, ledger.funder(funder_org)) == -50_000_00
    assert await _balance(pool, ledger.escrow(project)) == 0
    assert await _balance(pool, ledger.project(project)) == 50_000_00
    with pytest.raises(Conflict):
        await do(pool, pledges.confirm_payment, await who(pool, settings, world, "buyer_admin"), payment)


async def _told(pool, kind):
    return [(r["user_id"], r["link"], r["params"]) for r in await pool.fetch(
        "select user_id, link, params from notifications where kind = $1 order by user_id", kind)]


async def test_a_bank_transfer_is_told_to_who_confirms_it_and_the_outcome_to_the_funder(pool, settings, world, project):
    """The receiver's finance learnt of a transfer to confirm only from its workbench, and the funder of
    its confirmation or return only by opening the pledge: each is now told."""
    pledge = await make_pledge(pool, settings, world, "project", project)
    funder = await who(pool, settings, world, "funder_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    first = await do(pool, pledges.record_offline, funder, pledge, transfer())
    receivers = await pool.fetch("select user_id from memberships where organisation_id = $1 and role in "
                                 "('admin', 'finance') order by user_id", buyer.org_id)
    recorded = await _told(pool, "payment_recorded")
    assert [(u, link) for u, link, _ in recorded] == [(r["user_id"], "/payments") for r in receivers]
    assert recorded[0][2]["amount"] == "¥50,000.00" and recorded[0][2]["title"]
    await do(pool, pledges.reject_payment, buyer, first, "未查到该笔到账记录，请核对流水号。")
    payers = [r["user_id"] for r in await pool.fetch(
        "select user_id from memberships where organisation_id = $1 order by user_id", funder.org_id)]
    rejected = await _told(pool, "payment_rejected")
    assert [(u, link) for u, link, _ in rejected] == [(u, f"/pledges/{pledge}") for u in payers]
    assert rejected[0][2]["reason"] == "未查到该笔到账记录，请核对流水号。"
    second = await do(pool, pledges.record_offline, funder, pledge, transfer())
    await do(pool, pledges.confirm_payment, buyer, second)
    assert [u for u, _, _ in await _told(pool, "payment_confirmed")] == payers


async def test_a_new_pledge_is_told_to_the_receiver_who_opens_it(client, pool, settings, world, project):
    """A buyer or a fund's owner learnt of a pledge only when a transfer came to confirm: its people who
    run projects and funds and its finance staff are now told, and open it from the notice. A pledge to
    a need has no receiver yet, and tells nobody."""
    pledge = await make_pledge(pool, settings, world, "project", project)
    fund_pledge = await make_pledge(pool, settings, world, "fund", await make_fund(pool, world), 10_00)
    bureau = await pool.fetch("select user_id from memberships where organisation_id = $1 "
                              "and role in ('admin', 'staff', 'finance') order by user_id", world.orgs["bureau"])
    # The bureau has given no bank account yet: each notice asks for it, as the funder cannot pay without.
    assert await _told(pool, "pledge_made") == []
    told = await _told(pool, "pledge_made_no_bank")
    assert [(u, link) for u, link, _ in told] == sorted(
        [(r["user_id"], f"/pledges/{pledge}") for r in bureau] + [(r["user_id"], f"/pledges/{fund_pledge}")
                                                                  for r in bureau])
    assert {(p["amount"], p["funder"]) for _, _, p in told} == {("¥50,000.00", "测试funder"), ("¥10.00", "测试funder")}
    need_id = await pool.fetchval(
        "insert into needs (title, description, community_id, beneficiaries, urgency, raised_by) "
        "values ('楼道需要助浴服务', '独居老人洗澡困难，希望提供上门助浴。', $1, '独居老人', 'high', $2) returning id",
        world.community, world["resident"].user_id)
    await make_pledge(pool, settings, world, "need", need_id)
    assert len(await _told(pool, "pledge_made_no_bank")) == len(told) and await _told(pool, "pledge_made") == []
    await act_as(client, pool, settings, world["buyer_staff"].user_id, world.orgs["bureau"])
    (notice,) = [i for i in (await client.get("/api/inbox/")).json()["items"] if i["link"] == f"/pledges/{pledge}"]
    assert "测试funder 认捐 ¥50,000.00 给" in notice["text"] and "编辑资料" in notice["text"]
    opened = await client.get(f"/inbox/{notice['id']}")
    assert opened.headers["location"] == f"/pledges/{pledge}"
    assert (await client.get(opened.headers["location"])).status_code == 200
    # With an account given, a pledge is told plainly.
    await pool.execute("update organisations set bank_account_name = '上城区民政局', bank_name = '工商银行', "
                       "bank_account_number = '1202021209900012345' where id = $1", world.orgs["bureau"])
    again = await make_pledge(pool, settings, world, "project", project, 20_00)
    assert {link for _, link, _ in await _told(pool, "pledge_made")} == {f"/pledges/{again}"}


async def test_a_rejected_payment_leaves_the_pledge_awaiting_payment(pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project)
    funder = await who(pool, settings, world, "funder_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    payment = await do(pool, pledges.record_offline, funder, pledge, transfer())
    with pytest.raises(InvalidFields):
        await do(pool, pledges.reject_payment, buyer, payment, "")
    await do(pool, pledges.reject_payment, buyer, payment, "未查到该笔到账记录，请核对流水号。")
    assert await pledge_status(pool, pledge) == "awaiting_payment"
    assert await pool.fetchval("select count(*) from ledger_entries") == 0
    with pytest.raises(Conflict):
        await do(pool, pledges.confirm_payment, buyer, payment)
    with pytest.raises(InvalidFields):  # dated tomorrow
        await do(pool, pledges.record_offline, funder, pledge,
                  OfflinePaymentInput(bank_reference="X-1", paid_on=date.today() + timedelta(days=2)))
    confirmed = await pay_pledge(pool, settings, world, pledge)
    assert await pledge_status(pool, pledge) == "allocated"
    with pytest.raises(Conflict):
        await do(pool, pledges.reject_payment, buyer, confirmed, "款项已退回资助方账户。")
    with pytest.raises(Conflict):
        await do(pool, pledges.reject_payment, buyer, payment, "再次驳回同一笔转账。")


async def test_cancel_only_before_payment(pool, settings, world, project):
    funder = await who(pool, settings, world, "funder_admin")
    first = await make_pledge(pool, settings, world, "project", project)
    with pytest.raises(Forbidden):
        await do(pool, pledges.cancel, await who(pool, settings, world, "buyer_admin"), first)
    await do(pool, pledges.cancel, funder, first)
    assert await pledge_status(pool, first) == "cancelled"
    with pytest.raises(Conflict):
        await do(pool, pledges.record_offline, funder, first, transfer())
    second = await make_pledge(pool, settings, world, "project", project)
    await do(pool, pledges.record_offline, funder, second, transfer())
    with pytest.raises(Conflict):  # its transfer is being checked
        await do(pool, pledges.cancel, funder, second)
    third = await make_pledge(pool, settings, world, "project", project)
    await pay_pledge(pool, settings, world, third)
    with pytest.raises(Conflict):
        await do(pool, pledges.cancel, funder, third)


async def test_all_or_nothing_pledges_wait_for_the_target(pool, settings, world, project):
    deadline = datetime.now(UTC) + timedelta(days=30)
    first = await make_pledge(pool, settings, world, "project", project, 60_000_00, condition_target_fen=100_000_00,
                          condition_deadline=deadline)
    await pay_pledge(pool, settings, world, first)
    assert await pledge_status(pool, first) == "paid"  # held: ¥60,000 of ¥100,000
    assert await _balance(pool, ledger.escrow(project)) == 60_000_00
    second = await make_pledge(pool, settings, world, "project", project, 40_000_00, condition_target_fen=100_000_00,
                           condition_deadline=deadline)
    await pay_pledge(pool, settings, world, second)
    assert [await pledge_status(pool, p) for p in (first, second)] == ["allocated", "allocated"]
    assert await _balance(pool, ledger.project(project)) == 100_000_00


async def test_all_or_nothing_pledges_are_refunded_when_the_target_is_missed(pool, settings, world, project):
    deadline = datetime.now(UTC) + timedelta(days=30)
    paid = await make_pledge(pool, settings, world, "project", project, 60_000_00, condition_target_fen=100_000_00,
                         condition_deadline=deadline)
    await pay_pledge(pool, settings, world, paid)
    unpaid = await make_pledge(pool, settings, world, "project", project, 10_000_00, condition_target_fen=100_000_00,
                           condition_deadline=deadline)
    await do(pool, pledges.settle, project, deadline - timedelta(days=1))
    assert await pledge_status(pool, paid) == "paid"
    await do(pool, pledges.settle, project, deadline + timedelta(seconds=1))
    assert [await pledge_status(pool, p) for p in (paid, unpaid)] == ["refunded", "cancelled"]
    assert await _balance(pool, ledger.funder(world["funder_admin"].org_id)) == 0
    assert await _balance(pool, ledger.escrow(project)) == 0


async def test_conditions_are_checked_when_pledging(pool, settings, world, project):
    with pytest.raises(InvalidFields):  # target without deadline
        await make_pledge(pool, settings, world, "project", project, condition_target_fen=100_000_00)
    with pytest.raises(InvalidFields):  # deadline passed
        await make_pledge(pool, settings, world, "project", project, condition_target_fen=100_000_00,
                      condition_deadline=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(InvalidFields):
        await make_pledge(pool, settings, world, "project", 10**9)
    with pytest.raises(Forbidden):
        await do(pool, pledges.create, await who(pool, settings, world, "provider_admin"),
                  PledgeInput(target_type="project", target_id=project, amount_fen=100))


async def test_fund_pledges_are_allocated_by_the_fund(pool, settings, world, project):
    fund_id = await make_fund(pool, world)
    pledge = await make_pledge(pool, settings, world, "fund", fund_id, 30_000_00)
    await pay_pledge(pool, settings, world, pledge)
    assert await pledge_status(pool, pledge) == "paid"
    assert await _balance(pool, ledger.fund(fund_id)) == 30_000_00
    with pytest.raises(Forbidden):
        await do(pool, pledges.allocate, await who(pool, settings, world, "funder_admin"), pledge, project)
    buyer = await who(pool, settings, world, "buyer_admin")
    await do(pool, pledges.allocate, buyer, pledge, project)
    assert await pledge_status(pool, pledge) == "allocated"
    assert (await _balance(pool, ledger.fund(fund_id)), await _balance(pool, ledger.project(project))) == (0, 30_000_00)
    with pytest.raises(Conflict):
        await do(pool, pledges.allocate, buyer, pledge, project)
    await do(pool, pledges.refund, buyer, pledge, "项目调整，资金退回资助方。")
    assert await pledge_status(pool, pledge) == "refunded"
    assert await _balance(pool, ledger.project(project)) == 0


async def test_an_unpaid_pledge_is_reminded_once_then_lapses_and_both_sides_are_told(client, pool, settings, world,
                                                                                    project, published):
    """A pledge is paid within its days or it lapses, so a project does not count money nobody pays:
    the funder is reminded a week before, once, however many processes run the clock; then funder and
    receiver are told it lapsed. A transfer waiting to be confirmed holds it, and its receiver is
    reminded of it three days on; one sent back leaves a week to pay again. A need's pledge has its
    days once the need is a project."""
    async def clock_runs() -> list[pledges.Lapsed]:  # two app processes at once
        return list(await asyncio.gather(pledges.lapse_due(pool), pledges.lapse_due(pool)))

    funder = await who(pool, settings, world, "funder_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    unpaid = await make_pledge(pool, settings, world, "project", project)
    held = await make_pledge(pool, settings, world, "project", project, 20_000_00)
    sent_back = await make_pledge(pool, settings, world, "project", project, 30_000_00)
    need_id = await pool.fetchval(
        "insert into needs (title, description, community_id, beneficiaries, urgency, raised_by) "
        "values ('楼道需要助浴服务', '独居老人洗澡困难，希望提供上门助浴。', $1, '独居老人', 'high', $2) returning id",
        world.community, world["resident"].user_id)
    for_need = await make_pledge(pool, settings, world, "need", need_id, 10_000_00)
    day = clock.today()
    assert await pool.fetchval("select pay_by from pledges where id = $1", unpaid) == day + timedelta(days=30)
    assert await pool.fetchval("select pay_by from pledges where id = $1", for_need) is None
    await act_as(client, pool, settings, funder.user_id, funder.org_id)
    page = await client.get(f"/pledges/{unpaid}")
    assert "付款期限" in page.text and f"{(day + timedelta(days=30)).year}年" in page.text and "逾期未付，认捐即失效" in page.text
    assert "需求立项后 30 天内" in (await client.get(f"/pledges/{for_need}")).text
    # the workbench lists what to pay, soonest date first
    bench = (await client.get("/api/dashboard")).json()
    (to_pay,) = [t for t in bench["lists"] if t["kind"] == "pledges_to_pay"]
    assert [i["link"] for i in to_pay["items"]] == [f"/pledges/{p}" for p in (unpaid, held, sent_back)]
    assert to_pay["items"][0]["due_date"] == (day + timedelta(days=30)).isoformat()

    await do(pool, pledges.record_offline, funder, held, transfer())
    rejected = await do(pool, pledges.record_offline, funder, sent_back, transfer())
    # while a transfer waits for the receiver's word the pledge cannot lapse, and its page says no date
    assert "付款期限" not in (await client.get(f"/pledges/{held}")).text
    await pool.execute("update users set email_notices = 'daily' where id in (select user_id from memberships "
                       "where organisation_id = $1)", funder.org_id)
    await travel(pool, days=23)
    runs = await clock_runs()
    assert sum(r.reminded for r in runs) == 1  # the others' payments wait for the buyer's word
    assert sum(r.transfers_overdue for r in runs) == 2  # whose finance is reminded of them, once
    runs = await clock_runs()
    assert sum(r.reminded for r in runs) == sum(r.transfers_overdue for r in runs) == 0
    finance = [r["user_id"] for r in await pool.fetch(
        "select user_id from memberships where organisation_id = $1 and role in ('admin', 'finance') order by user_id",
        buyer.org_id)]
    overdue = await _told(pool, "transfer_overdue")
    assert sorted((u, link) for u, link, _ in overdue) == sorted((u, "/payments") for u in finance for _ in range(2))
    assert {p["amount"] for _, _, p in overdue} == {"¥20,000.00", "¥30,000.00"} and overdue[0][2]["days"] == 3
    reminded = await _told(pool, "pledge_due_soon")
    payers = [r["user_id"] for r in await pool.fetch(
        "select user_id from memberships where organisation_id = $1 and role in ('admin', 'staff', 'finance') "
        "order by user_id", funder.org_id)]
    assert [(u, link) for u, link, _ in reminded] == [(u, f"/pledges/{unpaid}") for u in payers]
    assert reminded[0][2]["due"] == (day + timedelta(days=30)).isoformat()
    # emailed at once to those who asked for a daily digest, which could come after the date
    assert {r["email_status"] for r in await pool.fetch(
        "select email_status from notifications where kind = 'pledge_due_soon'")} == {"pending"}

    await travel(pool, days=5)
    await do(pool, pledges.reject_payment, buyer, rejected, "未查到该笔到账记录，请核对流水号。")
    await travel(pool, days=3)  # past the date: 31 days since the pledges were made
    runs = await clock_runs()
    assert (sum(r.lapsed for r in runs), sum(r.reminded for r in runs)) == (1, 1)
    assert [await pledge_status(pool, p) for p in (unpaid, held, sent_back)] == [
        "cancelled", "awaiting_payment", "awaiting_payment"]
    assert await pool.fetchval("select count(*) from audit_events where verb = 'pledge.lapse' and object_id = $1",
                               str(unpaid)) == 1
    assert [u for u, link, _ in await _told(pool, "pledge_lapsed")] == payers
    receivers = await _told(pool, "pledge_lapsed_receiver")
    assert {link for _, link, _ in receivers} == {f"/pledges/{unpaid}"} and receivers[0][2]["funder"] == "测试funder"
    # sent back two days before its date: a week from then to pay again
    assert await pool.fetchval("select pay_by from pledges where id = $1", sent_back) == day + timedelta(days=35)
    await travel(pool, days=5)
    assert sum(r.lapsed for r in await clock_runs()) == 1
    assert await pledge_status(pool, sent_back) == "cancelled"
    with pytest.raises(Conflict):
        await do(pool, pledges.record_offline, funder, sent_back, transfer())

    # the need becomes a project: its pledge's days start then
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, needs.create_project, bureau, ProjectInput(
        title_zh="东坡路社区上门助浴", description="为独居老人提供上门助浴服务。", catalogue_entry_id=published["01.01.02"],
        budget_fen=100_000_00, budget_line="福彩公益金", jurisdiction_id=world.street, need_ids=[need_id]))
    assert sum(r.dated for r in await clock_runs()) == 1
    assert await pool.fetchval("select pay_by from pledges where id = $1", for_need) == clock.today() + timedelta(days=30)
    assert await pledge_status(pool, for_need) == "pledged"


async def test_a_need_pledge_is_paid_once_the_need_is_a_project(pool, settings, world, published):
    need_id = await pool.fetchval(
        "insert into needs (title, description, community_id, beneficiaries, urgency, raised_by) "
        "values ('楼道需要助浴服务', '独居老人洗澡困难，希望提供上门助浴。', $1, '独居老人', 'high', $2) returning id",
        world.community, world["resident"].user_id)
    pledge = await make_pledge(pool, settings, world, "need", need_id)
    funder = await who(pool, settings, world, "funder_admin")
    with pytest.raises(Conflict):
        await do(pool, pledges.record_offline, funder, pledge, transfer())
    bureau = await who(pool, settings, world, "buyer_admin")
    project = await do(pool, needs.create_project, bureau, ProjectInput(
        title_zh="东坡路社区上门助浴", description="为独居老人提供上门助浴服务。", catalogue_entry_id=published["01.01.02"],
        budget_fen=100_000_00, budget_line="福彩公益金", jurisdiction_id=world.street, need_ids=[need_id]))
    await pay_pledge(pool, settings, world, pledge)
    row = await pool.fetchrow("select status, project_id from pledges where id = $1", pledge)
    assert (row["status"], row["project_id"]) == ("allocated", project)


async def test_the_ledger_refuses_what_does_not_add_up(pool, settings, world, project):
    fund_id = await make_fund(pool, world)
    async with pool.acquire() as conn:
        with pytest.raises(Conflict) as exc:  # the fund is empty
            async with conn.transaction():
                await ledger.post(conn, "allocation", [(ledger.fund(fund_id), -100), (ledger.project(project), 100)])
        assert exc.value.params["needed"] == "¥1.00"
        assert await conn.fetchval("select count(*) from ledger_transactions") == 0
        account = await ledger.account_id(conn, ledger.funder(world["funder_admin"].org_id))
        with pytest.raises(asyncpg.PostgresError):  # unbalanced: refused at commit
            async with conn.transaction():
                tx = await conn.fetchval("insert into ledger_transactions (kind) values ('payment') returning id")
                await conn.execute("insert into ledger_entries (transaction_id, account_id, currency, amount_fen) "
                                   "values ($1, $2, 'CNY', -5)", tx, account)
        await pay_pledge(pool, settings, world, await make_pledge(pool, settings, world, "project", project))
        for sql in ("update ledger_entries set amount_fen = 1", "delete from ledger_entries",
                    "update ledger_accounts set balance_fen = 1000000000",
                    "delete from ledger_transactions"):
            with pytest.raises(asyncpg.PostgresError):
                await conn.execute(sql)
        # A correction is a reversing transaction; reversing the payment first would empty an account
        # the allocation has already emptied, so the ledger refuses it.
        payment, allocation = [r["id"] for r in await conn.fetch("select id from ledger_transactions order by id")]
        with pytest.raises(Conflict):
            async with conn.transaction():
                await ledger.reverse(conn, payment, None)
        async with conn.transaction():
            await ledger.reverse(conn, allocation, world["buyer_admin"].user_id)
        assert await ledger.balance(conn, ledger.escrow(project)) == 50_000_00
        with pytest.raises(Conflict):
            await ledger.reverse(conn, allocation, None)


async def test_milestones_pay_the_provider_from_pledges_then_the_budget_line(pool, settings, world, signed):
    contract = await pool.fetchrow("select k.*, c.project_id from contracts k join calls c on c.id = k.call_id "
                                   "where k.id = $1", signed)
    project = contract["project_id"]
    pledge = await make_pledge(pool, settings, world, "project", project, 20_000_00)
    await pay_pledge(pool, settings, world, pledge)
    # A matching pool has paid the project 5,000 as well: money no pledge stands behind.
    fund_id = await make_fund(pool, world)
    fund_pledge = await make_pledge(pool, settings, world, "fund", fund_id, 5_000_00)
    funder = await who(pool, settings, world, "funder_admin")
    recorded = await do(pool, pledges.record_offline, funder, fund_pledge, transfer())
    await do(pool, pledges.confirm_payment, await who(pool, settings, world, "buyer_admin"), recorded)
    async with pool.acquire() as conn, conn.transaction():
        await ledger.post(conn, "matching", [(ledger.fund(fund_id), -5_000_00), (ledger.project(project), 5_000_00)])
    payments = [r["position"] for r in await pool.fetch(
        "select position from contract_milestones where contract_id = $1 and kind = 'payment' order by position",
        signed)]
    percents = {r["position"]: r["payment_percent"] for r in await pool.fetch(
        "select position, payment_percent from contract_milestones where contract_id = $1 and kind = 'payment'",
        signed)}
    shares = delivery.milestone_amounts(contract["amount_fen"], percents)
    assert sum(shares.values()) == contract["amount_fen"]
    # The whole contract delivered and both evaluations passed.
    await travel(pool, days=450)
    for stage in ("midterm", "final"):
        await evaluate_delivery(pool, settings, world, signed, stage)
    with pytest.raises(Forbidden):
        await do(pool, delivery.accept_milestone, await who(pool, settings, world, "provider_admin"), signed,
                  payments[0])
    buyer = await who(pool, settings, world, "buyer_admin")
    paid = await do(pool, delivery.accept_milestone, buyer, signed, payments[0])
    assert paid == shares[payments[0]]
    with pytest.raises(Conflict):
        await do(pool, delivery.accept_milestone, buyer, signed, payments[0])
    await accept_milestones(pool, settings, world, signed, range(payments[0] + 1, payments[-1] + 1))
    provider = world["provider_admin"].org_id
    assert await _balance(pool, ledger.provider(provider)) == contract["amount_fen"]
    sources = {r["source"]: r["total"] for r in await pool.fetch(
        "select source, sum(amount_fen)::bigint as total from disbursements where contract_id = $1 group by source",
        signed)}
    assert sources == {"pledges": 20_000_00, "matching": 5_000_00,
                       "budget_line": contract["amount_fen"] - 25_000_00}
    assert await pledge_status(pool, pledge) == "disbursed"
    # The funder's people are told where each share of their money went, as it went.
    told = [(r["user_id"], r["link"], r["params"]) for r in await pool.fetch(
        "select user_id, link, params from notifications where kind = 'pledge_disbursed' order by id")]
    payers = {r["user_id"] for r in await pool.fetch(
        "select user_id from memberships where organisation_id = $1", world["funder_admin"].org_id)}
    assert {u for u, _, _ in told} == payers and {link for _, link, _ in told} == {f"/pledges/{pledge}"}
    assert sum(int(p["amount"].strip("¥").replace(",", "").split(".")[0]) for u, _, p in told
               if u == world["funder_admin"].user_id) == 20_000  # its whole pledge, share by share
    assert {p["provider"] for _, _, p in told} == {await pool.fetchval("select name_zh from organisations where id = $1",
                                                                       provider)}
    with pytest.raises(Conflict):  # disbursed money does not come back
        await do(pool, pledges.refund, buyer, pledge, "项目调整，资金退回资助方。")


async def test_concurrent_money_movements_keep_the_books_balanced(pool, settings, world, signed):
    """A bank-style test: workers race random pledges, payments, rejections, allocations, refunds,
    cancellations and milestone payments. Afterwards debits equal credits, no account that forbids
    it is negative, and every balance is the sum of its entries."""
    import asyncio
    import random

    from market.core.errors import MarketError

    project = await pool.fetchval("select c.project_id from contracts k join calls c on c.id = k.call_id "
                                  "where k.id = $1", signed)
    fund_id = await make_fund(pool, world)
    funder = await who(pool, settings, world, "funder_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    milestones = [r["position"] for r in await pool.fetch(
        "select position from contract_milestones where contract_id = $1", signed)]
    await travel(pool, days=450)
    for stage in ("midterm", "final"):
        await evaluate_delivery(pool, settings, world, signed, stage)
    rng = random.Random(20261122)
    unexpected: list[BaseException] = []

    async def pick(sql):
        ids = [r[0] for r in await pool.fetch(sql)]
        return rng.choice(ids) if ids else None

    async def one(op):
        if op == "pledge":
            target = rng.choice([("project", project), ("fund", fund_id)])
            pledge = await do(pool, pledges.create, funder, PledgeInput(
                target_type=target[0], target_id=target[1], amount_fen=rng.randint(1, 5000) * 100))
            await do(pool, pledges.record_offline, funder, pledge, transfer())
        elif op == "confirm" and (payment := await pick("select id from payments where status = 'pending'")):
            await do(pool, pledges.confirm_payment, buyer, payment)
        elif op == "reject" and (payment := await pick("select id from payments where status = 'pending'")):
            await do(pool, pledges.reject_payment, buyer, payment, "未查到到账记录。")
        elif op == "allocate" and (pledge := await pick(
                "select id from pledges where status = 'paid' and target_type = 'fund'")):
            await do(pool, pledges.allocate, buyer, pledge, project)
        elif op == "refund" and (pledge := await pick("select id from pledges where status in ('paid', 'allocated')")):
            await do(pool, pledges.refund, buyer, pledge, "资金退回资助方。")
        elif op == "cancel" and (pledge := await pick(
                "select id from pledges where status in ('pledged', 'awaiting_payment')")):
            await do(pool, pledges.cancel, funder, pledge)
        elif op == "milestone":
            await do(pool, delivery.accept_milestone, buyer, signed, rng.choice(milestones))

    async def worker():
        for _ in range(12):
            op = rng.choices(["pledge", "confirm", "reject", "allocate", "refund", "cancel", "milestone"],
                             weights=[5, 5, 1, 2, 1, 1, 2])[0]
            try:
                await one(op)
            except MarketError:
                pass  # a refusal the race made legitimate: already decided, not enough money, …
            except Exception as exc:
                unexpected.append(exc)

    await asyncio.gather(*(worker() for _ in range(8)))
    assert unexpected == []
    totals = await pool.fetchrow("select coalesce(sum(amount_fen) filter (where amount_fen > 0), 0) as credits, "
                                 "coalesce(-sum(amount_fen) filter (where amount_fen < 0), 0) as debits "
                                 "from ledger_entries")
    assert totals["credits"] == totals["debits"] > 0
    kinds = {r["kind"]: r["n"] for r in await pool.fetch(
        "select kind, count(*) as n from ledger_transactions group by kind")}
    assert kinds["payment"] > 5 and kinds["allocation"] > 1, kinds  # the race did move money
    assert await pool.fetchval("select count(*) from ledger_accounts where not allow_negative and balance_fen < 0") == 0
    assert await pool.fetchval(
        "select count(*) from ledger_accounts a where balance_fen <> "
        "(select coalesce(sum(amount_fen), 0) from ledger_entries e where e.account_id = a.id)") == 0
    # Every pledge's money is where its status says it is.
    allocated = await pool.fetchval("select coalesce(sum(amount_fen - disbursed_fen), 0) from pledges "
                                    "where status = 'allocated' and allocated_project_id = $1", project)
    assert await _balance(pool, ledger.project(project)) == allocated
    held = await pool.fetchval("select coalesce(sum(amount_fen), 0) from pledges where status = 'paid' "
                               "and target_type = 'fund'")
    assert await _balance(pool, ledger.fund(fund_id)) == held


async def test_the_json_api_takes_a_pledge_from_promise_to_project(client, pool, world, project):
    from tests.conftest import act_as, api_headers
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    response = await client.post("/api/pledges", json={"target_type": "project", "target_id": project,
                                                       "amount_fen": 12_345_00}, headers=api_headers(client))
    assert response.status_code == 201, response.text
    pledge = response.json()
    assert pledge["status"] == "pledged" and pledge["target_title"] == "东坡路社区老年助餐"
    bad = await client.post("/api/pledges", json={"target_type": "project", "target_id": project, "amount_fen": -1},
                            headers=api_headers(client))
    assert bad.status_code == 400
    payment = (await client.post(f"/api/pledges/{pledge['id']}/offline-payments", headers=api_headers(client),
                                 json={"bank_reference": "ICBC-1", "paid_on": "2026-11-20"})).json()
    assert payment["status"] == "pending" and payment["amount_fen"] == 12_345_00
    for name, code in (("provider_admin", 404), ("buyer_staff", 200)):
        await act_as(client, pool, settings, world[name].user_id)
        assert (await client.get(f"/api/pledges/{pledge['id']}")).status_code == code
    assert (await client.post(f"/api/payments/{payment['id']}/confirm",
                              headers=api_headers(client))).status_code == 403  # staff are not finance
    queue = (await client.get("/api/payments")).json()
    assert queue["items"] == [payment] and queue["may_decide"] is False and queue["total"] == 1
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    queue = (await client.get("/api/payments")).json()  # the transfers page's twin: the whole view
    assert [p["id"] for p in queue["items"]] == [payment["id"]] and queue["may_decide"] is True
    response = await client.post(f"/api/payments/{payment['id']}/confirm", headers=api_headers(client))
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    view = (await client.get(f"/api/pledges/{pledge['id']}")).json()  # the pledge page's twin
    assert view["status"] == "allocated" and view["is_receiver"] and not view["is_funder"]
    assert [p["status"] for p in view["payments"]] == ["confirmed"] and view["pending"] is None
    assert sorted(t["kind"] for t in view["trail"]) == ["allocation", "payment"]
    assert (await client.post(f"/api/payments/{payment['id']}/confirm",
                              headers=api_headers(client))).status_code == 409


async def test_the_offline_backend_offers_only_bank_transfers(client, pool, settings, world, project):
    from tests.conftest import act_as, post_form
    """With the default settings there is no online payment at all."""
    pledge_id = await make_pledge(pool, settings, world, "project", project)
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    page = await client.get(f"/pledges/{pledge_id}")
    assert "/checkout" not in page.text and "/transfer" in page.text
    assert (await post_form(client, f"/pledges/{pledge_id}/checkout")).status_code == 409
    assert (await client.post("/stripe/webhook", content=b"{}")).status_code == 400


async def test_settle_due_settles_only_passed_deadlines(pool, settings, world, project):
    deadline = datetime.now(UTC) + timedelta(days=2)
    paid = await make_pledge(pool, settings, world, "project", project, 1_000_00, condition_target_fen=900_000_00,
                         condition_deadline=deadline)
    await pay_pledge(pool, settings, world, paid)
    unpaid = await make_pledge(pool, settings, world, "project", project, 2_000_00, condition_target_fen=900_000_00,
                           condition_deadline=deadline + timedelta(days=5))
    assert await pledges.settle_due(pool) == 0
    assert [await pledge_status(pool, p) for p in (paid, unpaid)] == ["paid", "pledged"]
    assert await pledges.settle_due(pool, deadline + timedelta(minutes=1)) == 1
    assert [await pledge_status(pool, p) for p in (paid, unpaid)] == ["refunded", "pledged"]
    assert await _balance(pool, ledger.funder(world.orgs["funder"])) == 0
    assert await pledges.settle_due(pool, deadline + timedelta(days=6)) == 1
    assert await pledge_status(pool, unpaid) == "cancelled"


async def test_milestones_are_accepted_in_order_when_due_and_after_their_evaluation(pool, settings, world, signed):
    """The final 30 % was once paid on the day of signing: each refusal here names its reason."""
    buyer = await who(pool, settings, world, "buyer_admin")
    rows = await pool.fetch("select position, kind, due_date, waits_for from contract_milestones "
                            "where contract_id = $1 order by position", signed)
    by_wait = {r["waits_for"]: r["position"] for r in rows if r["kind"] == "payment"}
    assert set(by_wait) == {"none", "midterm", "final"}

    async def refusal(position):
        with pytest.raises(Conflict) as refused:
            await do(pool, delivery.accept_milestone, buyer, signed, position)
        return refused.value.message

    first = rows[0]
    assert first["kind"] == "payment" and first["waits_for"] == "none"
    assert "due on" in await refusal(1)  # signed in December, due in January
    assert "in their order" in await refusal(by_wait["final"])
    await travel(pool, days=(first["due_date"] - clock.today()).days - 7)
    assert await do(pool, delivery.accept_milestone, buyer, signed, 1) > 0  # from 7 days before it is due
    await travel(pool, days=(rows[-1]["due_date"] - clock.today()).days + 1)
    report = next(r["position"] for r in rows if r["kind"] == "report")
    assert "accept the report first" in await refusal(report)  # not filed
    await accept_milestones(pool, settings, world, signed, range(2, by_wait["midterm"]))
    assert "mid-term evaluation" in await refusal(by_wait["midterm"])
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=55)  # grade C: failed
    assert "mid-term evaluation" in await refusal(by_wait["midterm"])
    await pool.execute("delete from panel_consensus where panel_id in (select id from panels where subject_id = $1)",
                       signed)
    await pool.execute("insert into panel_consensus (panel_id, candidate_id, position, score, recorded_by) "
                       "select id, $1, 1, 75, $2 from panels where subject_type = 'midterm' and subject_id = $1",
                       signed, world["evaluator"].user_id)
    await do(pool, delivery.accept_milestone, buyer, signed, by_wait["midterm"])
    await accept_milestones(pool, settings, world, signed, range(by_wait["midterm"] + 1, by_wait["final"]))
    assert "final evaluation" in await refusal(by_wait["final"])
    await evaluate_delivery(pool, settings, world, signed, "final")
    await do(pool, delivery.accept_milestone, buyer, signed, by_wait["final"])
    provider = await pool.fetchval("select provider_id from contracts where id = $1", signed)
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.provider(provider)) == await conn.fetchval(
            "select amount_fen from contracts where id = $1", signed)
