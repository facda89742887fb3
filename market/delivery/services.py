"""Accepting milestones. Once both parties have signed, the buyer accepts the contract's milestones
in their order, not long before each is due, and a payment that waits for a mid-term or final
evaluation only once that evaluation has passed; a failed evaluation stops payments from the first
that waits for it, and an ended contract accepts nothing more (see `delivery.ending`). Accepting a payment milestone asks funding to pay
the provider its share of the contract (its percentage; the last payment milestone takes what
rounding left). The contract page, with where each milestone stands, is built here too."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, NotFound
from market.core.i18n import N_
from market.delivery import outcomes as evaluated
from market.delivery import ending, scorecard
from market.delivery.models import ContractView, MilestoneState, StageOutcome
from market.funding.ledger import disbursements
from market.procurement.contracts import services as contracts
from market.procurement.contracts.services import CONTRACT
from market.rectification import services as rectification
from market.rectification.models import Unfinished
from market.workflow import Transition, step

ACCEPTING_ROLES = ("admin", "staff", "finance")


def milestone_amounts(amount_fen: int, percents: dict[int, int]) -> dict[int, int]:
    """Each payment milestone's share in fen; the last one takes the remainder, so they add up."""
    shares = {p: amount_fen * pct // 100 for p, pct in percents.items()}
    if shares:
        last = max(shares)
        shares[last] = amount_fen - sum(v for p, v in shares.items() if p != last)
    return shares


def not_yet(milestone: Any, earlier_open: bool, outcomes: dict[str, StageOutcome], stopped_from: dict[str, int],
            status: str, today: date, early_days: int) -> Conflict | None:
    """Why a milestone may not be accepted today, or None: nothing once the contract has ended;
    milestones in their order; none from the first payment waiting for a failed evaluation on; not
    long before they are due; and a payment waiting for an evaluation only once it has passed.
    `stopped_from`: for each stage, the position of the first payment that waits for it."""
    if status == "ended":
        return Conflict("This contract was ended early: nothing more is accepted or paid.")
    if earlier_open:
        return Conflict("Accept the milestones before this one first: they are accepted in their order.")
    for stage, message in (("midterm", N_("The mid-term evaluation failed: payments from this one on are stopped "
                                          "until a new evaluation passes.")),
                           ("final", N_("The final evaluation failed: this payment is stopped until a new "
                                        "evaluation passes."))):
        if outcomes[stage].outcome == "failed" and milestone["position"] >= stopped_from.get(stage, 1 << 15):
            return Conflict(message)
    opens = milestone["due_date"] - timedelta(days=early_days)
    if today < opens:
        return Conflict("This milestone is due on %(due)s; it can be accepted from %(opens)s.",
                        due=milestone["due_date"].isoformat(), opens=opens.isoformat())
    if milestone["kind"] == "report" and milestone["report_status"] != "accepted":
        return Conflict("This milestone is the provider's report: accept the report first; it is not accepted yet.")
    if milestone["waits_for"] == "midterm" and outcomes["midterm"].outcome != "passed":
        return Conflict("This payment waits for a passed mid-term evaluation, and none has passed yet.")
    if milestone["waits_for"] == "final" and outcomes["final"].outcome != "passed":
        return Conflict("This payment waits for a passed final evaluation, and none has passed yet.")
    return None


def stops(rows: list[Any]) -> dict[str, int]:
    """For each stage, the position of the first payment that waits for it."""
    found: dict[str, int] = {}
    for r in rows:
        if r["waits_for"] != "none":
            found.setdefault(r["waits_for"], r["position"])
    return found


async def milestone_states(conn: asyncpg.Connection, contract_id: int, early_days: int) -> list[MilestoneState]:
    """Each milestone: accepted (when, what it paid), or whether it may be accepted today and why not."""
    contract = await conn.fetchrow("select amount_fen, status from contracts where id = $1", contract_id)
    rows = await conn.fetch(
        "select m.*, coalesce((select sum(d.amount_fen) from disbursements d where d.contract_id = m.contract_id "
        "and d.position = m.position), 0)::bigint as paid_fen, r.status as report_status, "
        "coalesce(r.late, false) as report_late from contract_milestones m "
        "left join delivery_reports r on r.contract_id = m.contract_id and r.position = m.position "
        "where m.contract_id = $1 order by m.position", contract_id)
    shares = milestone_amounts(contract["amount_fen"],
                               {r["position"]: r["payment_percent"] for r in rows if r["kind"] == "payment"})
    outcomes = await evaluated.stage_outcomes(conn, contract_id)
    status = (await evaluated.status_of(conn, contract_id))["status"]
    stopped_from = stops(rows)
    states, earlier_open, today = [], False, clock.today()
    for r in rows:
        refusal = None
        if r["accepted_at"] is None:
            refusal = (Conflict("Milestones are accepted once both parties have signed.")
                       if contract["status"] != "signed" else not_yet(r, earlier_open, outcomes, stopped_from, status, today,
                                                                        early_days))
        states.append(MilestoneState(position=r["position"], accepted_at=r["accepted_at"], paid_fen=r["paid_fen"],
                                     amount_fen=shares.get(r["position"], 0),
                                     acceptable=r["accepted_at"] is None and refusal is None,
                                     why_not=refusal.text() if refusal else None,
                                     report_status=r["report_status"], report_late=r["report_late"]))
        earlier_open = earlier_open or r["accepted_at"] is None
    return states


async def contract_view(conn: asyncpg.Connection, identity: Identity | None, contract_id: int, early_days: int,
                        accepted: int | None = None) -> ContractView:
    """The contract page, to those who may read the contract: `accepted` names a milestone just
    accepted, which the page then confirms."""
    contract = await contracts.get(conn, identity, contract_id)
    side = contracts.signing_side(identity, contract)
    states = await milestone_states(conn, contract_id, early_days)
    outcomes = await evaluated.stage_outcomes(conn, contract_id)
    delivery = None
    if contract.status == "signed":
        row = await conn.fetchrow("select id, buyer_id from contracts where id = $1", contract_id)
        delivery = await ending.delivery_view(conn, identity, row, outcomes)
    return ContractView(**{f: getattr(contract, f) for f in contract.__struct_fields__}, side=side,
                        can_sign=contracts.may_sign(side, contract), states=states,
                        outcomes=list(outcomes.values()), delivery=delivery,
                        history=await scorecard.contract_history(conn, contract_id) if contract.status == "signed" else [],
                        rectification=(await rectification.unfinished_of(conn, [contract.provider_id])).get(
                            contract.provider_id, Unfinished()) if contract.status == "signed" else Unfinished(),
                        just_accepted=next((m for m in states if m.position == accepted and m.accepted_at is not None),
                                           None))


async def accept_milestone(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int,
                           early_days: int = 7) -> int:
    """Accept a milestone; for a payment milestone, ask funding to pay the provider. Returns the fen paid."""
    await disbursements.serialise(conn)
    contract = await conn.fetchrow(
        "select k.*, c.project_id from contracts k join calls c on c.id = k.call_id where k.id = $1 for update of k",
        contract_id)
    if contract is None:
        raise NotFound()
    if not (identity.acts_for_verified and identity.org_id == contract["buyer_id"]
            and identity.role in ACCEPTING_ROLES):
        raise Forbidden("Only the buyer of this contract accepts its milestones.")
    milestone = await conn.fetchrow(
        "select m.*, r.status as report_status from contract_milestones m left join delivery_reports r "
        "on r.contract_id = m.contract_id and r.position = m.position where m.contract_id = $1 and m.position = $2 "
        "for update of m", contract_id, position)
    if milestone is None:
        raise NotFound()
    amount = 0
    if milestone["kind"] == "payment":
        percents = {r["position"]: r["payment_percent"] for r in await conn.fetch(
            "select position, payment_percent from contract_milestones where contract_id = $1 and kind = 'payment'",
            contract_id)}
        amount = milestone_amounts(contract["amount_fen"], percents)[position]

    async def write(_: Transition) -> None:
        if milestone["accepted_at"] is not None:
            raise Conflict("This milestone has been accepted already.")
        earlier_open = await conn.fetchval("select exists (select from contract_milestones where contract_id = $1 "
                                           "and position < $2 and accepted_at is null)", contract_id, position)
        rows = await conn.fetch("select position, waits_for from contract_milestones where contract_id = $1 "
                                "order by position", contract_id)
        refusal = not_yet(milestone, earlier_open, await evaluated.stage_outcomes(conn, contract_id), stops(rows),
                          (await evaluated.status_of(conn, contract_id))["status"], clock.today(), early_days)
        if refusal is not None:
            raise refusal
        await conn.execute("update contract_milestones set accepted_at = market_now(), accepted_by = $3 "
                           "where contract_id = $1 and position = $2", contract_id, position, identity.user_id)
        if milestone["kind"] == "payment":
            await disbursements.pay_milestone(conn, identity.user_id, contract, position, amount)

    await step(conn, CONTRACT, "accept_milestone", contract["status"], object_id=contract_id, capacities={"buyer"},
               actor=identity.user_id, organisation=identity.org_id, write=write,
               after={"position": position, "paid_fen": amount})
    await ending.complete_if_done(conn, identity, contract_id)
    return amount
