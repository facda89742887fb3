"""The rating clock, a periodic job every app process runs (see Domain.jobs): when a stage of a
contract becomes due for the provider to rate the buyer, the provider's admin and staff are told,
once. Whichever process inserts the reminder's row notifies; another process's same insert waits
for it to commit and then finds the row there."""

from __future__ import annotations

import asyncpg

from market.buyers.ratings import RATERS, due_query
from market.notifications import services as notifications

# The contracts' stages nobody was told of yet: those told of are not worked out again each round.
_NOT_REMINDED = "not exists (select from buyer_rating_reminders b where b.contract_id = k.id and b.stage = s.stage)"
# $1 today, $2 the time zone: the stages due and not rated that nobody was told of yet.
_REMIND = f"""
with due as (
    select x.contract_id, x.stage from ({due_query(_NOT_REMINDED)}) x
), sent as (
    insert into buyer_rating_reminders (contract_id, stage) select contract_id, stage from due
    on conflict do nothing returning contract_id, stage
)
select s.contract_id, s.stage, k.provider_id, c.title_zh, c.title_en
  from sent s join contracts k on k.id = s.contract_id join calls c on c.id = k.call_id
 order by s.contract_id, s.stage"""


async def run(pool: asyncpg.Pool, timezone: str = "Asia/Shanghai") -> int:
    """One pass, in one transaction: what it records, it has notified. Returns how many were told."""
    async with pool.acquire() as conn, conn.transaction():
        today = await conn.fetchval("select (market_now() at time zone $1)::date", timezone)
        sent = await conn.fetch(_REMIND, today, timezone)
        for row in sent:
            members = await notifications.members_of(conn, [row["provider_id"]], RATERS)
            await notifications.notify(conn, members, f"buyer_rating_due_{row['stage']}",
                                       f"/contracts/{row['contract_id']}/buyer-rating", **notifications.titled(row))
    return len(sent)
