"""Giving back a project's money when its contract ends early (see market.delivery.ending).

What the funders put into the project and the provider was not paid goes back where it came from,
each movement one balanced ledger transaction. Which money is left follows the rule milestone
payments spend it by (disbursements.pay_milestone): allocated pledges first, oldest first, then the
matching money pools paid the project, then the buyer's budget line. So what is left is the newest
pledges' unspent remainders, then the newest matching money:

- a project pledge's remainder goes back to its funder (the pledge is refunded);
- a fund pledge's remainder goes back to its fund (the pledge is paid again, for the fund to
  allocate anew);
- matching money goes back to the pool that paid it, newest match first.

Afterwards the project's account is empty. The government share needs no movement: it is drawn
from the budget line only when a milestone is paid, so what was not paid never left it.
"""

from __future__ import annotations

import msgspec
import asyncpg

from market.funding.ledger import services as ledger
from market.funding.pledges import services as pledges


class Returned(msgspec.Struct, frozen=True, kw_only=True):
    """One movement back: pledge_to_funder, pledge_to_fund or matching_to_fund."""

    kind: str
    amount_fen: int
    transaction_id: int
    pledge_id: int | None = None
    funder_id: int | None = None  # the organisation whose money it was (the pledge's funder)
    fund_id: int | None = None


async def return_project_money(conn: asyncpg.Connection, actor: int | None, project_id: int,
                               memo: str) -> list[Returned]:
    """Empty the project's account back to the funders and funds its money came from; the caller
    holds the ledger's lock (ledger.serialise)."""
    returned: list[Returned] = []
    for pledge in await conn.fetch(
            "select * from pledges where allocated_project_id = $1 and status = 'allocated' "
            "and disbursed_fen < amount_fen order by id for update", project_id):
        amount = await pledges.return_unspent(conn, pledge, actor, memo)
        transaction_id = await conn.fetchval("select max(id) from ledger_transactions where pledge_id = $1",
                                             pledge["id"])
        returned.append(Returned(kind="pledge_to_fund" if pledge["target_type"] == "fund" else "pledge_to_funder",
                                 amount_fen=amount, transaction_id=transaction_id, pledge_id=pledge["id"],
                                 funder_id=pledge["funder_id"], fund_id=pledge["fund_id"]))
    left = await ledger.balance(conn, ledger.project(project_id))
    # What each matching round paid the project, newest first: the oldest was spent first.
    for match in await conn.fetch(
            """select t.id, fa.fund_id, pe.amount_fen
                 from ledger_transactions t
                 join ledger_entries pe on pe.transaction_id = t.id
                 join ledger_accounts pa on pa.id = pe.account_id and pa.key = $1
                 join ledger_entries fe on fe.transaction_id = t.id
                 join ledger_accounts fa on fa.id = fe.account_id and fa.kind = 'fund'
                where t.kind = 'matching' and pe.amount_fen > 0
                order by t.id desc""", ledger.project(project_id)[0]):
        if left <= 0:
            break
        amount = min(left, match["amount_fen"])
        left -= amount
        transaction_id = await ledger.post(conn, "return", [(ledger.project(project_id), -amount),
                                                            (ledger.fund(match["fund_id"]), amount)],
                                           project_id=project_id, actor=actor, memo=memo)
        returned.append(Returned(kind="matching_to_fund", amount_fen=amount, transaction_id=transaction_id,
                                 fund_id=match["fund_id"]))
    return returned
