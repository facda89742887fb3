"""Paying providers: when the buyer accepts a payment milestone of a signed contract, the
milestone's share of the contract (its percentage; the last payment milestone takes what rounding
left) goes to the provider — first from the funders' money allocated to the project, then from
the buyer's budget line — in one ledger transaction. Which pledges paid is recorded, oldest
first, so every funder can follow its money to the milestone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, NotFound
from market.evaluation import services as evaluation
from market.funding import ledger, pledges

# A delivery evaluation passes at grade B or better (A ≥ 85, B 60–84, C < 60).
PASS_MARK = 60


def milestone_amounts(amount_fen: int, percents: dict[int, int]) -> dict[int, int]:
    """Each payment milestone's share in fen; the last one takes the remainder, so they add up."""
    shares = {p: amount_fen * pct // 100 for p, pct in percents.items()}
    if shares:
        last = max(shares)
        shares[last] = amount_fen - sum(v for p, v in shares.items() if p != last)
    return shares


async def passed_evaluations(conn: asyncpg.Connection, contract_id: int) -> set[str]:
    """The delivery evaluations (midterm, final) of a contract that closed with a passing total."""
    passed = set()
    for panel in await conn.fetch("select id, subject_type from panels where subject_type in ('midterm', 'final') "
                                  "and subject_id = $1 and status = 'closed'", contract_id):
        ranked = await evaluation.scoring_results(conn, panel["id"])
        if ranked and ranked[0].total is not None and ranked[0].total >= PASS_MARK:
            passed.add(panel["subject_type"])
    return passed


def not_yet(milestone: Any, earlier_open: bool, passed: set[str], today: date, early_days: int) -> Conflict | None:
    """Why a milestone may not be accepted today, or None: milestones are accepted in their order,
    not long before they are due, and a payment waiting for an evaluation only once it has passed."""
    if earlier_open:
        return Conflict("Accept the milestones before this one first: they are accepted in their order.")
    opens = milestone["due_date"] - timedelta(days=early_days)
    if today < opens:
        return Conflict("This milestone is due on %(due)s; it can be accepted from %(opens)s.",
                        due=milestone["due_date"].isoformat(), opens=opens.isoformat())
    if milestone["waits_for"] == "midterm" and "midterm" not in passed:
        return Conflict("This payment waits for a passed mid-term evaluation, and none has passed yet.")
    if milestone["waits_for"] == "final" and "final" not in passed:
        return Conflict("This payment waits for a passed final evaluation, and none has passed yet.")
    return None


class MilestoneState(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    accepted_at: datetime | None
    paid_fen: int
    amount_fen: int  # what accepting it pays (0 for a milestone that pays nothing)
    acceptable: bool
    why_not: str | None  # in the reader's language


async def milestone_states(conn: asyncpg.Connection, contract_id: int, early_days: int) -> list[MilestoneState]:
    """Each milestone: accepted (when, what it paid), or whether it may be accepted today and why not."""
    contract = await conn.fetchrow("select amount_fen, status from contracts where id = $1", contract_id)
    rows = await conn.fetch(
        "select m.*, coalesce((select sum(d.amount_fen) from disbursements d where d.contract_id = m.contract_id "
        "and d.position = m.position), 0)::bigint as paid_fen from contract_milestones m "
        "where m.contract_id = $1 order by m.position", contract_id)
    shares = milestone_amounts(contract["amount_fen"],
                               {r["position"]: r["payment_percent"] for r in rows if r["kind"] == "payment"})
    passed = await passed_evaluations(conn, contract_id)
    states, earlier_open, today = [], False, clock.today()
    for r in rows:
        refusal = None
        if r["accepted_at"] is None:
            refusal = (Conflict("Milestones are accepted once both parties have signed.")
                       if contract["status"] != "signed" else not_yet(r, earlier_open, passed, today, early_days))
        states.append(MilestoneState(position=r["position"], accepted_at=r["accepted_at"], paid_fen=r["paid_fen"],
                                     amount_fen=shares.get(r["position"], 0),
                                     acceptable=r["accepted_at"] is None and refusal is None,
                                     why_not=refusal.text() if refusal else None))
        earlier_open = earlier_open or r["accepted_at"] is None
    return states


async def accept_milestone(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int,
                           early_days: int = 7) -> int:
    """Accept a milestone; for a payment milestone, pay the provider. Returns the fen paid."""
    await ledger.serialise(conn)
    contract = await conn.fetchrow(
        "select k.*, c.project_id from contracts k join calls c on c.id = k.call_id where k.id = $1 for update of k",
        contract_id)
    if contract is None:
        raise NotFound()
    if not (identity.acts_for_verified and identity.org_id == contract["buyer_id"]
            and identity.role in ("admin", "staff", "finance")):
        raise Forbidden("Only the buyer of this contract accepts its milestones.")
    if contract["status"] != "signed":
        raise Conflict("Milestones are accepted once both parties have signed.")
    milestone = await conn.fetchrow("select * from contract_milestones where contract_id = $1 and position = $2 "
                                    "for update", contract_id, position)
    if milestone is None:
        raise NotFound()
    if milestone["accepted_at"] is not None:
        raise Conflict("This milestone has been accepted already.")
    earlier_open = await conn.fetchval("select exists (select from contract_milestones where contract_id = $1 "
                                       "and position < $2 and accepted_at is null)", contract_id, position)
    refusal = not_yet(milestone, earlier_open, await passed_evaluations(conn, contract_id), clock.today(), early_days)
    if refusal is not None:
        raise refusal
    await conn.execute("update contract_milestones set accepted_at = market_now(), accepted_by = $3 "
                       "where contract_id = $1 and position = $2", contract_id, position, identity.user_id)
    amount = 0
    if milestone["kind"] == "payment":
        percents = {r["position"]: r["payment_percent"] for r in await conn.fetch(
            "select position, payment_percent from contract_milestones where contract_id = $1 and kind = 'payment'",
            contract_id)}
        amount = milestone_amounts(contract["amount_fen"], percents)[position]
        await _pay(conn, identity, contract, position, amount)
    await audit.record(conn, verb=Verb.MILESTONE_ACCEPT, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"position": position, "paid_fen": amount})
    return amount


async def _pay(conn: asyncpg.Connection, identity: Identity, contract: asyncpg.Record, position: int,
               amount: int) -> None:
    project_id = contract["project_id"]
    from_pledges = min(amount, await ledger.balance(conn, ledger.project(project_id)))
    from_budget = amount - from_pledges
    legs = [(ledger.provider(contract["provider_id"]), amount)]
    if from_pledges:
        legs.append((ledger.project(project_id), -from_pledges))
    if from_budget:
        await ledger.appropriate(conn, project_id, identity.user_id)
        line = await conn.fetchval("select budget_line from projects where id = $1", project_id)
        legs.append((ledger.budget_line(contract["buyer_id"], line), -from_budget))
    transaction_id = await ledger.post(conn, "disbursement", legs, project_id=project_id, actor=identity.user_id,
                                       memo=f"contract #{contract['id']} milestone {position}")
    rows = []
    left = from_pledges
    for pledge in await conn.fetch(
            "select * from pledges where allocated_project_id = $1 and status = 'allocated' "
            "and disbursed_fen < amount_fen order by id for update", project_id):
        if not left:
            break
        share = min(left, pledge["amount_fen"] - pledge["disbursed_fen"])
        left -= share
        rows.append((pledge["id"], "pledges", share))
        await conn.execute("update pledges set disbursed_fen = disbursed_fen + $2 where id = $1", pledge["id"], share)
        if pledge["disbursed_fen"] + share == pledge["amount_fen"]:
            await pledges.mark_disbursed(conn, pledge["id"])
    if left:  # the project's money that no pledge stands behind: what matching pools paid it
        rows.append((None, "matching", left))
    if from_budget:
        rows.append((None, "budget_line", from_budget))
    await conn.executemany(
        "insert into disbursements (contract_id, position, transaction_id, pledge_id, source, amount_fen) "
        "values ($1, $2, $3, $4, $5, $6)", [(contract["id"], position, transaction_id, *r) for r in rows])
