"""What a failed evaluation of delivery does: later payments stop, the failure is published, and the
buyer either sets a rectification deadline (then orders a re-evaluation) or ends the contract, whose
money not paid goes back to the funders and funds it came from — the books balanced to the fen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from market.core import clock
from market.core.errors import Conflict, Forbidden, InvalidFields
from market.dashboard import services as dashboard
from market.delivery import outcomes as evaluated
from market.delivery.reports.models import NOT_FILED
from market.delivery import ending
from market.delivery import services as delivery
from market.delivery.models import EndInput, RectifyInput
from market.evaluation import services as engine
from market.funding.ledger import services as ledger
from market.funding.pledges import services as pledges
from tests.conftest import act_as, post_form
from tests.factories import (
    accept_milestones,
    do,
    evaluate_delivery,
    make_fund,
    make_pledge,
    pay_pledge,
    pledge_status,
    score_delivery_panel,
    transfer,
    travel,
    who,
)

REASON = "中期评估不合格，服务对象满意度不足六成，整改无望。"


def test_every_delivery_step_allowed_and_refused():
    """The contract's life after signing, as data: each move from where it may be taken, by the buyer."""
    allowed = {("rectify", "in_delivery"), ("reevaluate", "rectifying"), ("end", "in_delivery"),
               ("end", "rectifying"), ("complete", "in_delivery")}
    for action in ending.DELIVERY.actions:
        for source in ending.DELIVERY.statuses:
            if (action, source) in allowed:
                assert ending.DELIVERY.check(action, source, {"buyer"}).source == source
                with pytest.raises(Forbidden):
                    ending.DELIVERY.check(action, source, {"provider"})
            else:
                with pytest.raises(Conflict):
                    ending.DELIVERY.check(action, source, {"buyer"})
    assert ending.DELIVERY.find("end", "rectifying").target == "ended"
    assert ending.DELIVERY.find("reevaluate", "rectifying").target == "in_delivery"


async def _positions(pool, contract_id):
    rows = await pool.fetch("select position, kind, due_date, waits_for from contract_milestones "
                            "where contract_id = $1 order by position", contract_id)
    return rows, {r["waits_for"]: r["position"] for r in rows if r["kind"] == "payment"}


async def _to_midterm_payment(pool, settings, world, contract_id):
    """Accept every milestone before the mid-term payment, the clock moved to when it is due."""
    rows, by_wait = await _positions(pool, contract_id)
    await travel(pool, days=(rows[by_wait["midterm"] - 1]["due_date"] - clock.today()).days + 1)
    await accept_milestones(pool, settings, world, contract_id, range(1, by_wait["midterm"]))
    return by_wait


async def _outcome(pool, contract_id, stage):
    async with pool.acquire() as conn:
        return await evaluated.evaluation_outcome(conn, contract_id, stage)


async def test_the_latest_closed_panel_or_a_later_recorded_failure_decides(pool, settings, world, signed):
    assert await _outcome(pool, signed, "midterm") is None
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=60)  # the pass mark: grade B
    assert await _outcome(pool, signed, "midterm") == "passed"
    async with pool.acquire() as conn:
        decided = await evaluated.stage_outcome(conn, signed, "midterm")
    assert (decided.grade, str(decided.total)) == ("B", "60.00")
    # A report not filed by the end of the grace period fails the stage, whatever came before.
    await pool.execute("insert into contract_stage_failures (contract_id, stage, reason) values ($1, 'midterm', $2)",
                       signed, NOT_FILED)
    assert await _outcome(pool, signed, "midterm") == "failed"
    assert await _outcome(pool, signed, "final") is None
    await evaluate_delivery(pool, settings, world, signed, "final", total=59.99)
    assert await _outcome(pool, signed, "final") == "failed"
    async with pool.acquire() as conn:
        assert (await evaluated.stage_outcome(conn, signed, "final")).grade == "C"


async def test_a_failed_midterm_stops_later_payments_and_is_published(client, pool, settings, world, signed):
    by_wait = await _to_midterm_payment(pool, settings, world, signed)
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=52)
    buyer = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(Conflict) as refused:
        await do(pool, delivery.accept_milestone, buyer, signed, by_wait["midterm"])
    assert "mid-term evaluation failed" in refused.value.message
    # Anyone may read it: the notice on the contract's public page, and in its JSON.
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert page.status_code == 200 and "Notice: the mid-term evaluation of this contract failed." in page.text
    assert "grade C" in page.text and f"/contracts/{signed}/end" not in page.text
    assert "中期评估" in (await client.get(f"/contracts/{signed}?lang=zh_Hans")).text
    view = (await client.get(f"/api/contracts/{signed}")).json()
    assert view["delivery"]["failed_stage"] == "midterm" and view["outcomes"][0]["outcome"] == "failed"
    stopped = next(s for s in view["states"] if s["position"] == by_wait["midterm"])
    assert not stopped["acceptable"] and "中期评估不合格" in stopped["why_not"]  # in the last page's language
    # The buyer sees its two choices there.
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert f"/contracts/{signed}/rectify" in page.text and f"/contracts/{signed}/end" in page.text


async def test_rectify_then_reevaluate_and_a_passed_evaluation_pays_again(client, pool, settings, world, signed):
    by_wait = await _to_midterm_payment(pool, settings, world, signed)
    buyer = await who(pool, settings, world, "buyer_admin")
    provider = await who(pool, settings, world, "provider_admin")
    later = clock.today() + timedelta(days=30)
    with pytest.raises(Conflict):  # nothing has failed yet
        await do(pool, ending.rectify, buyer, signed, RectifyInput(rectify_by=later, note="补齐服务记录"))
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=48)
    with pytest.raises(Forbidden):
        await do(pool, ending.rectify, provider, signed, RectifyInput(rectify_by=later, note="补齐服务记录"))
    with pytest.raises(InvalidFields) as refused:
        await do(pool, ending.rectify, buyer, signed, RectifyInput(rectify_by=clock.today(), note="补"))
    assert {e.field for e in refused.value.errors} == {"rectify_by", "note"}
    with pytest.raises(Conflict):  # a re-evaluation follows a rectification
        await do(pool, ending.reevaluate, buyer, signed)
    # Through the page: a refusal next to its field, nothing written; then the deadline is set.
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    bad = await post_form(client, f"/contracts/{signed}/rectify", {"rectify_by": "", "note": "补齐服务记录与签到表"})
    assert bad.status_code == 400 and "f-rectify_by" in bad.text
    assert await pool.fetchval("select count(*) from contract_delivery") == 0
    done = await post_form(client, f"/contracts/{signed}/rectify",
                           {"rectify_by": later.isoformat(), "note": "补齐服务记录与签到表，提高入户频次"})
    assert done.status_code == 303 and "done=rectification_set" in done.headers["location"]
    assert await pool.fetchval("select status from contract_delivery where contract_id = $1", signed) == "rectifying"
    assert await pool.fetchval("select count(*) from notifications where kind = 'contract_rectify' and user_id = $1",
                               world["provider_admin"].user_id) == 1
    with pytest.raises(Conflict):  # once
        await do(pool, ending.rectify, buyer, signed, RectifyInput(rectify_by=later, note="补齐服务记录"))
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert "put it right by" in page.text and "提高入户频次" in page.text
    with pytest.raises(Conflict):
        await do(pool, delivery.accept_milestone, buyer, signed, by_wait["midterm"])

    with pytest.raises(Forbidden):
        await do(pool, ending.reevaluate, provider, signed)
    panel_id = await do(pool, ending.reevaluate, buyer, signed)
    assert await pool.fetchval("select status from contract_delivery where contract_id = $1", signed) == "in_delivery"
    assert await pool.fetchval("select count(*) from panels where subject_type = 'midterm' and subject_id = $1",
                               signed) == 2
    with pytest.raises(Conflict):  # one open panel per stage
        await do(pool, ending.reevaluate, buyer, signed)
    async with pool.acquire() as conn:
        assert (await engine.subject_of(conn, "midterm", signed)).link == f"/contracts/{signed}#delivery"
        under_way = await evaluated.stage_outcome(conn, signed, "midterm")
    assert under_way.outcome == "failed" and under_way.evaluating
    await score_delivery_panel(pool, settings, world, panel_id, signed, 78)
    assert await _outcome(pool, signed, "midterm") == "passed"
    assert await do(pool, delivery.accept_milestone, buyer, signed, by_wait["midterm"]) > 0


async def test_ending_returns_the_money_not_paid_and_the_books_balance(client, pool, settings, world, signed):
    """Pledges are spent oldest first, then matching money; what is left goes back where it came from."""
    contract = await pool.fetchrow("select k.*, c.project_id from contracts k join calls c on c.id = k.call_id "
                                   "where k.id = $1", signed)
    project = contract["project_id"]
    bureau = await who(pool, settings, world, "buyer_admin")
    funder = await who(pool, settings, world, "funder_admin")
    fund_id = await make_fund(pool, world)

    async def fund_pledge(amount):
        pledge = await make_pledge(pool, settings, world, "fund", fund_id, amount)
        await do(pool, pledges.confirm_payment, bureau, await do(pool, pledges.record_offline, funder, pledge,
                                                                 transfer()))
        return pledge

    await fund_pledge(4_000_00)  # stays in the fund, which pays a 3,000 match from it
    async with pool.acquire() as conn, conn.transaction():
        await ledger.post(conn, "matching", [(ledger.fund(fund_id), -3_000_00), (ledger.project(project), 3_000_00)])
    spent = await fund_pledge(5_000_00)
    await do(pool, pledges.allocate, bureau, spent, project)
    partly = await make_pledge(pool, settings, world, "project", project, 60_000_00)
    await pay_pledge(pool, settings, world, partly)
    untouched = await fund_pledge(2_000_00)
    await do(pool, pledges.allocate, bureau, untouched, project)

    async def balance(spec):
        async with pool.acquire() as conn:
            return await ledger.balance(conn, spec)

    funder_before = await balance(ledger.funder(funder.org_id))
    fund_before = await balance(ledger.fund(fund_id))
    rows, by_wait = await _positions(pool, signed)
    await travel(pool, days=(rows[0]["due_date"] - clock.today()).days)
    first = await do(pool, delivery.accept_milestone, bureau, signed, 1)
    assert 5_000_00 < first < 65_000_00  # the 5,000 pledge whole, then part of the 60,000 one
    left_of_partly = 60_000_00 - (first - 5_000_00)

    with pytest.raises(Conflict):  # ended only after a failed evaluation
        await do(pool, ending.end, bureau, signed, EndInput(reason=REASON))
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=41)
    with pytest.raises(Forbidden):
        await do(pool, ending.end, await who(pool, settings, world, "provider_admin"), signed, EndInput(reason=REASON))
    with pytest.raises(InvalidFields):
        await do(pool, ending.end, bureau, signed, EndInput(reason="差"))
    # The page asks for the box to be ticked; without it nothing is done.
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    confirm = await client.get(f"/contracts/{signed}/end?lang=en")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    unticked = await post_form(client, f"/contracts/{signed}/end", {"reason": REASON})
    assert unticked.status_code == 400 and await pool.fetchval("select count(*) from contract_returns") == 0
    ended = await post_form(client, f"/contracts/{signed}/end", {"reason": REASON, "confirmed-end": "yes"})
    assert ended.status_code == 303 and "done=contract_ended" in ended.headers["location"]

    # The books: every transaction adds up, the project's account is empty, each source back by
    # exactly what it put in and the provider was not paid.
    assert await pool.fetchval("select sum(balance_fen) from ledger_accounts") == 0
    assert await pool.fetchval("select count(*) from (select transaction_id from ledger_entries "
                               "group by transaction_id having sum(amount_fen) <> 0) t") == 0
    assert await balance(ledger.project(project)) == 0
    assert await balance(ledger.funder(funder.org_id)) - funder_before == left_of_partly
    assert await balance(ledger.fund(fund_id)) - fund_before == 2_000_00 + 3_000_00
    assert await balance(ledger.provider(contract["provider_id"])) == first
    assert [await pledge_status(pool, p) for p in (spent, partly, untouched)] == ["disbursed", "refunded", "paid"]
    assert await pool.fetchval("select allocated_project_id from pledges where id = $1", untouched) is None
    returns = {r["kind"]: r["amount_fen"] for r in await pool.fetch(
        "select kind, sum(amount_fen)::bigint as amount_fen from contract_returns where contract_id = $1 group by kind",
        signed)}
    returned = left_of_partly + 5_000_00
    assert returns == {"pledge_to_funder": left_of_partly, "pledge_to_fund": 2_000_00, "matching_to_fund": 3_000_00,
                       "budget_kept": contract["amount_fen"] - first - returned}
    # Told: the provider, the funder (its pledges) and the fund's owner (its pool).
    told = {(r["user_id"], r["kind"]) for r in await pool.fetch("select user_id, kind from notifications")}
    assert {(world["provider_admin"].user_id, "contract_ended"),
            (world["funder_admin"].user_id, "contract_money_returned"),
            (world["buyer_admin"].user_id, "fund_money_returned")} <= told

    page = await client.get(f"/contracts/{signed}?lang=en")
    assert "Notice: this contract was ended early" in page.text and REASON in page.text
    view = (await client.get(f"/api/contracts/{signed}")).json()
    assert view["delivery"]["status"] == "ended" and view["delivery"]["returned_fen"] == returned
    assert not any(s["acceptable"] for s in view["states"])
    with pytest.raises(Conflict) as refused:
        await do(pool, delivery.accept_milestone, bureau, signed, by_wait["midterm"])
    assert "ended early" in refused.value.message
    with pytest.raises(Conflict):  # once
        await do(pool, ending.end, bureau, signed, EndInput(reason=REASON))
    with pytest.raises(Conflict):
        await do(pool, ending.rectify, bureau, signed, RectifyInput(rectify_by=clock.today() + timedelta(days=9),
                                                                   note="补齐服务记录"))
    # The returned pledge is the fund's again, to allocate anew or to refund.
    second = await do(pool, pledges.refund, bureau, untouched, "基金调整，退回资助方。")
    assert second is None and await pledge_status(pool, untouched) == "refunded"


async def test_accepting_the_last_milestone_completes_the_contract(pool, settings, world, signed):
    rows, _ = await _positions(pool, signed)
    await travel(pool, days=(rows[-1]["due_date"] - clock.today()).days + 1)
    for stage in ("midterm", "final"):
        await evaluate_delivery(pool, settings, world, signed, stage)
    await accept_milestones(pool, settings, world, signed, [r["position"] for r in rows])
    assert await pool.fetchval("select status from contract_delivery where contract_id = $1", signed) == "completed"
    assert await pool.fetchval("select count(*) from audit_events where verb = 'contract.complete'") == 1


async def test_the_buyers_workbench_lists_payments_waiting_and_failed_evaluations(pool, settings, world, signed):
    async def lists(name="buyer_admin"):
        async with pool.acquire() as conn:
            view = await dashboard.workbench(conn, await who(pool, settings, world, name))
        return {x.kind: [(t.link, t.state) for t in x.items] for x in view.lists}

    await _to_midterm_payment(pool, settings, world, signed)
    here = [(f"/contracts/{signed}#delivery", "midterm")]
    assert lists_of(await lists(), "milestones_waiting_evaluation", "evaluations_to_decide") == (here, [])
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=50)
    assert lists_of(await lists(), "milestones_waiting_evaluation", "evaluations_to_decide") == ([], here)
    assert "evaluations_to_decide" not in await lists("provider_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    await do(pool, ending.rectify, buyer, signed, RectifyInput(rectify_by=clock.today() + timedelta(days=30),
                                                               note="补齐服务记录与签到表"))
    assert lists_of(await lists(), "milestones_waiting_evaluation", "evaluations_to_decide") == ([], [])
    await travel(pool, days=30)  # the deadline has come: re-evaluate, or end
    assert lists_of(await lists(), "milestones_waiting_evaluation", "evaluations_to_decide") == ([], here)
    await do(pool, ending.reevaluate, buyer, signed)
    assert lists_of(await lists(), "milestones_waiting_evaluation", "evaluations_to_decide") == ([], [])


def lists_of(found, *kinds):
    return tuple(found.get(kind, []) for kind in kinds)


async def test_the_demo_has_contracts_at_every_stage_of_delivery(database, pool):
    """The bureau's contracts: reports due, under review, returned; an evaluation in scoring with an
    agency; a passed mid-term and its payment; two failed ones, one rectifying and one ended with its
    money back. (The street office's and a committee's contracts are rated by their providers: see
    tests/buyers/test_demo.py.)"""
    from market.demo import load_demo

    bureau = "(select id from organisations where name_zh = '上城区民政局')"

    async with pool.acquire() as conn:
        await load_demo(conn)
        midterms = [await evaluated.stage_outcome(conn, r["id"], "midterm") for r in await conn.fetch(
            f"select id from contracts where status = 'signed' and buyer_id = {bureau} order by id")]
    assert sorted((o.outcome, o.grade) for o in midterms if o.outcome) == [("failed", "C"), ("failed", "C"),
                                                                          ("passed", "B")]
    assert sum(o.evaluating for o in midterms) == 1
    scoring = await pool.fetchrow("select * from panels where subject_type = 'midterm' and status = 'scoring'")
    assert scoring["agency_id"] is not None and scoring["indicator_version_id"] is not None
    assert await pool.fetchval("select count(*) from panel_members where panel_id = $1", scoring["id"]) == 2
    # Every mid-term panel scores the leaves of the system its contract was signed under.
    assert await pool.fetchval(
        f"""select count(*) from panels p join contracts k on k.id = p.subject_id
            where p.subject_type = 'midterm' and p.indicator_version_id = k.midterm_system_id
              and k.buyer_id = {bureau}""") == 4
    assert {r["status"] for r in await pool.fetch("select status from delivery_reports")} >= {
        "draft", "submitted", "returned", "accepted"}
    assert {r["status"]: r["n"] for r in await pool.fetch(
        f"select d.status, count(*) as n from contract_delivery d join contracts k on k.id = d.contract_id "
        f"where k.buyer_id = {bureau} group by d.status")} == {"rectifying": 1, "ended": 1}
    ended = await pool.fetchval("select contract_id from contract_delivery where status = 'ended'")
    kinds = {r["kind"] for r in await pool.fetch("select kind from contract_returns where contract_id = $1", ended)}
    assert kinds == {"pledge_to_funder", "budget_kept"}  # the first payment came from the budget line
    assert await pool.fetchval("select sum(balance_fen) from ledger_accounts") == 0
    project = await pool.fetchval("select c.project_id from contracts k join calls c on c.id = k.call_id "
                                  "where k.id = $1", ended)
    assert await pool.fetchval("select balance_fen from ledger_accounts where key = $1", f"project:{project}") == 0
