"""Paying providers: when the buyer accepts a payment milestone of a signed contract, the
milestone's share of the contract (its percentage; the last payment milestone takes what rounding
left) goes to the provider — first from the funders' money allocated to the project, then from
the buyer's budget line — in one ledger transaction. Which pledges paid is recorded, oldest
first, so every funder can follow its money to the milestone."""

from __future__ import annotations

import asyncpg

from market.accounts.models import Identity
from market.audit import services as audit
from market.audit.models import Verb
from market.errors import Conflict, Forbidden, NotFound
from market.funding import ledger, pledges


def milestone_amounts(amount_fen: int, percents: dict[int, int]) -> dict[int, int]:
    """Each payment milestone's share in fen; the last one takes the remainder, so they add up."""
    shares = {p: amount_fen * pct // 100 for p, pct in percents.items()}
    if shares:
        last = max(shares)
        shares[last] = amount_fen - sum(v for p, v in shares.items() if p != last)
    return shares


async def accept_milestone(conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int) -> int:
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
    await conn.execute("update contract_milestones set accepted_at = now(), accepted_by = $3 "
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
