"""Paying providers: when the buyer accepts a payment milestone of a signed contract (see
market.delivery), the milestone's share goes to the provider — first from the funders' money
allocated to the project, then from the buyer's budget line — in one ledger transaction. Which
pledges paid is recorded, oldest first, so every funder can follow its money to the milestone."""

from __future__ import annotations

from typing import Any

import asyncpg

from market.funding.ledger import services as ledger
from market.funding.pledges import services as pledges


async def serialise(conn: asyncpg.Connection) -> None:
    """Take the ledger's lock first, before the contract's rows, as every movement of money does."""
    await ledger.serialise(conn)


async def pay_milestone(conn: asyncpg.Connection, actor: int | None, contract: Any, position: int,
                        amount: int) -> None:
    """Pay the provider `amount` for an accepted milestone of `contract` (a row with its project,
    buyer and provider), in one ledger transaction; the caller holds the ledger's lock."""
    project_id = contract["project_id"]
    from_pledges = min(amount, await ledger.balance(conn, ledger.project(project_id)))
    from_budget = amount - from_pledges
    legs = [(ledger.provider(contract["provider_id"]), amount)]
    if from_pledges:
        legs.append((ledger.project(project_id), -from_pledges))
    if from_budget:
        await ledger.appropriate(conn, project_id, actor)
        line = await conn.fetchval("select budget_line from projects where id = $1", project_id)
        legs.append((ledger.budget_line(contract["buyer_id"], line), -from_budget))
    transaction_id = await ledger.post(conn, "disbursement", legs, project_id=project_id, actor=actor,
                                       memo=f"contract #{contract['id']} milestone {position}")
    rows = []
    left = from_pledges
    provider = await conn.fetchrow("select name_zh, name_en from organisations where id = $1", contract["provider_id"])
    for pledge in await conn.fetch(
            "select * from pledges where allocated_project_id = $1 and status = 'allocated' "
            "and disbursed_fen < amount_fen order by id for update", project_id):
        if not left:
            break
        share = min(left, pledge["amount_fen"] - pledge["disbursed_fen"])
        left -= share
        rows.append((pledge["id"], "pledges", share))
        await conn.execute("update pledges set disbursed_fen = disbursed_fen + $2 where id = $1", pledge["id"], share)
        await pledges.tell_paid_on(conn, pledge, share, provider)
        if pledge["disbursed_fen"] + share == pledge["amount_fen"]:
            await pledges.mark_disbursed(conn, pledge["id"])
    if left:  # the project's money that no pledge stands behind: what matching pools paid it
        rows.append((None, "matching", left))
    if from_budget:
        rows.append((None, "budget_line", from_budget))
    await conn.executemany(
        "insert into disbursements (contract_id, position, transaction_id, pledge_id, source, amount_fen) "
        "values ($1, $2, $3, $4, $5, $6)", [(contract["id"], position, transaction_id, *r) for r in rows])
