"""The double-entry ledger: every movement of money is one balanced transaction of signed entries
(positive into an account, negative out of it), in integer fen.

PostgreSQL keeps it honest (migration 0014): a transaction that does not add up to zero cannot
commit, an account that forbids it cannot go negative, balances are kept by a trigger the
application cannot bypass, and nothing posted is ever changed — `reverse` posts the opposite.
Here we name the accounts, post entries in a fixed account order (so concurrent postings queue
rather than deadlock) and turn an overdraft into a message a person can act on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from market.core.errors import Conflict
from market.core.i18n import N_, Msg

CURRENCY = "CNY"
# Accounts that stand for money outside the platform: what a funder or a government has paid in
# shows there as a negative balance.
OUTSIDE = {"funder", "government"}
ACCOUNT_NAMES = {"funder": N_("funder"), "government": N_("government"), "budget_line": N_("budget line"),
                 "fund": N_("fund"), "escrow": N_("held for a project"), "project": N_("project"),
                 "provider": N_("provider")}


# Every funding operation that locks pledges, payments or accounts takes this lock first, for the
# rest of its database transaction. Money movements touch shared accounts (each funder's, each
# fund's) in orders no single rule can fix, and the audit trail serialises writes anyway; queueing
# them here is what keeps concurrent requests from deadlocking.
LOCK_KEY = 0x4C454447  # "LEDG"


async def serialise(conn: asyncpg.Connection) -> None:
    await conn.execute("select pg_advisory_xact_lock($1)", LOCK_KEY)


def funder(org_id: int) -> tuple[str, str, dict[str, Any]]:
    return f"funder:{org_id}", "funder", {"organisation_id": org_id}


def government(org_id: int) -> tuple[str, str, dict[str, Any]]:
    return f"government:{org_id}", "government", {"organisation_id": org_id}


def budget_line(org_id: int, name: str) -> tuple[str, str, dict[str, Any]]:
    return f"budget_line:{org_id}:{name}", "budget_line", {"organisation_id": org_id}


def fund(fund_id: int) -> tuple[str, str, dict[str, Any]]:
    return f"fund:{fund_id}", "fund", {"fund_id": fund_id}


def escrow(project_id: int) -> tuple[str, str, dict[str, Any]]:
    return f"escrow:{project_id}", "escrow", {"project_id": project_id}


def project(project_id: int) -> tuple[str, str, dict[str, Any]]:
    return f"project:{project_id}", "project", {"project_id": project_id}


def provider(org_id: int) -> tuple[str, str, dict[str, Any]]:
    return f"provider:{org_id}", "provider", {"organisation_id": org_id}


async def account_id(conn: asyncpg.Connection, spec: tuple[str, str, dict[str, Any]], currency: str = CURRENCY) -> int:
    """The account's id, opening it (empty) on first use."""
    key, kind, refs = spec
    found = await conn.fetchval("select id from ledger_accounts where key = $1 and currency = $2", key, currency)
    if found is not None:
        return found
    opened = await conn.fetchval(
        """insert into ledger_accounts (key, kind, organisation_id, fund_id, project_id, currency, allow_negative)
           values ($1, $2, $3, $4, $5, $6, $7) on conflict (key, currency) do nothing returning id""",
        key, kind, refs.get("organisation_id"), refs.get("fund_id"), refs.get("project_id"), currency,
        kind in OUTSIDE)
    # Another request may have opened it a moment ago.
    return opened or await conn.fetchval("select id from ledger_accounts where key = $1 and currency = $2", key,
                                         currency)


async def balance(conn: asyncpg.Connection, spec: tuple[str, str, dict[str, Any]], currency: str = CURRENCY) -> int:
    return await conn.fetchval("select balance_fen from ledger_accounts where key = $1 and currency = $2",
                               spec[0], currency) or 0


async def post(conn: asyncpg.Connection, kind: str, legs: list[tuple[tuple[str, str, dict[str, Any]], int]], *,
               memo: str = "", pledge_id: int | None = None, project_id: int | None = None,
               actor: int | None = None, reverses: int | None = None, currency: str = CURRENCY) -> int:
    """Post one balanced transaction. `legs` are (account, signed amount); several legs on one
    account are netted. An overdraft raises Conflict naming the account."""
    nets: dict[int, int] = defaultdict(int)
    for spec, amount in legs:
        nets[await account_id(conn, spec, currency)] += amount
    nets = {a: n for a, n in nets.items() if n}
    if sum(nets.values()) != 0 or not nets:
        raise ValueError(f"an unbalanced or empty {kind} transaction: {legs}")
    try:
        # One savepoint: a refused posting leaves nothing behind, whatever the caller does next.
        async with conn.transaction():
            transaction_id = await conn.fetchval(
                "insert into ledger_transactions (kind, memo, pledge_id, project_id, created_by, reverses) "
                "values ($1, $2, $3, $4, $5, $6) returning id", kind, memo[:500], pledge_id, project_id, actor,
                reverses)
            # Entries go in account order, and each takes its account's row lock through the balance
            # trigger: two postings touching the same accounts queue instead of deadlocking.
            await conn.executemany("insert into ledger_entries (transaction_id, account_id, currency, amount_fen) "
                                   "values ($1, $2, $3, $4)",
                                   [(transaction_id, a, currency, n) for a, n in sorted(nets.items())])
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != "ledger_no_overdraft":
            raise
        short = await conn.fetchrow(
            "select id, kind, balance_fen from ledger_accounts where id = any($1::bigint[]) and not allow_negative "
            "and balance_fen + ($2::jsonb ->> id::text)::bigint < 0 order by id limit 1",
            list(nets), {str(a): n for a, n in nets.items()})
        raise Conflict("Not enough money in the %(account)s account: %(balance)s available, %(needed)s needed.",
                       account=Msg(ACCOUNT_NAMES[short["kind"]]), balance=f"¥{short['balance_fen'] / 100:,.2f}",
                       needed=f"¥{-nets[short['id']] / 100:,.2f}") from None
    return transaction_id


async def reverse(conn: asyncpg.Connection, transaction_id: int, actor: int | None, memo: str = "") -> int:
    """Post the opposite of a transaction: the only way to correct the ledger."""
    original = await conn.fetchrow("select * from ledger_transactions where id = $1", transaction_id)
    if await conn.fetchval("select 1 from ledger_transactions where reverses = $1", transaction_id):
        raise Conflict("This transaction has been reversed already.")
    entries = await conn.fetch(
        "select a.key, a.kind, e.amount_fen from ledger_entries e join ledger_accounts a on a.id = e.account_id "
        "where e.transaction_id = $1", transaction_id)
    # The accounts are open already, so they need no references to open them with.
    legs: list[tuple[tuple[str, str, dict[str, Any]], int]] = [((r["key"], r["kind"], {}), -r["amount_fen"])
                                                               for r in entries]
    return await post(conn, "reversal", legs, memo=memo or f"reverses #{transaction_id}",
                      pledge_id=original["pledge_id"], project_id=original["project_id"], actor=actor,
                      reverses=transaction_id)


async def appropriate(conn: asyncpg.Connection, project_id: int, actor: int | None = None) -> None:
    """Put a project's government budget on its buyer's budget line, once."""
    row = await conn.fetchrow("select buyer_id, budget_fen, budget_line from projects where id = $1", project_id)
    if await conn.fetchval("select 1 from ledger_transactions where kind = 'appropriation' and project_id = $1",
                           project_id):
        return
    await post(conn, "appropriation", [(government(row["buyer_id"]), -row["budget_fen"]),
                                       (budget_line(row["buyer_id"], row["budget_line"]), row["budget_fen"])],
               project_id=project_id, actor=actor, memo=row["budget_line"])
