"""The rectification clock, a periodic job every app process runs (see Domain.jobs):

- REMIND_DAYS before its due date, an open item's owner is reminded (level 0);
- past its due date and not verified, the item is late (level 1): its buyer is told, and so is the
  owner that it is late;
- still not verified `escalate_days` after its due date (MARKET_RECTIFICATION_ESCALATE_DAYS), it
  goes to the bureau above the buyer (level 2, `organisations.services.overseer_of`), which is told.

Each step happens once however many processes run this at once: each is an insert into
`rectification_escalations` that only one transaction can make, and only the rows it made are
notified. A second process's same insert waits for the first to commit and then finds the row there;
rows are taken in id order so that concurrent runs wait rather than deadlock."""

from __future__ import annotations

from datetime import date

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.notifications import services as notifications
from market.organisations import services as organisations
from market.rectification.models import ACTORS
from market.rectification.services import link
from market.rectification.workflow import ITEM

REMIND_DAYS = 3

_CLAIMED = """
select i.id, i.owner_id, i.buyer_id, i.due, i.escalation_level, o.name_zh as owner_name, b.name_zh as buyer_name,
       o.name_en as owner_name_en, b.name_en as buyer_name_en
  from claimed c join rectification_items i on i.id = c.item_id
  join organisations o on o.id = i.owner_id join organisations b on b.id = i.buyer_id order by i.id"""


def _claim(level: int, which: str, told: str) -> str:
    """Claim the items `which` selects for this level, noting the organisation `told` (an expression
    on the item `i`), and read what their notices name: only the rows this transaction claimed."""
    return f"""
with due as (
    select id from rectification_items where {which} order by id
), claimed as (
    insert into rectification_escalations (item_id, level, notified_org_id)
    select d.id, {level}, {told} from due d join rectification_items i on i.id = d.id
    on conflict do nothing returning item_id
){_CLAIMED}"""


# $1 today, $2 REMIND_DAYS. An open item due within that many days, not reminded yet.
_REMIND = _claim(0, "status = 'open' and due - $1::date between 0 and $2", "i.owner_id")
# $1 today. Past its due date and not verified: late, and its buyer told.
_LATE = _claim(1, "status in ('open', 'fix_submitted') and due < $1::date", "i.buyer_id")
# $1 today, $2 escalation days. Late that long and still not verified: to the bureau above (which
# organisations.overseer_of names once the item is claimed).
_ESCALATE = _claim(2, "status in ('open', 'fix_submitted') and due + $2::int < $1::date", "null::bigint")


class Done(msgspec.Struct, frozen=True, kw_only=True):
    """What one run did: owners reminded, items marked late, items escalated to the bureau above."""

    reminded: int = 0
    late: int = 0
    escalated: int = 0


async def _escalated(conn: asyncpg.Connection, row: asyncpg.Record, level: int, to: int | None) -> None:
    await conn.execute("update rectification_items set escalation_level = greatest(escalation_level, $2) "
                       "where id = $1", row["id"], level)
    await audit.record(conn, verb=Verb.RECTIFICATION_ESCALATE, object_type=ITEM.name, object_id=row["id"],
                       organisation=to, before={"escalation_level": row["escalation_level"]},
                       after={"escalation_level": level, "notified_org_id": to})


def _names(row: asyncpg.Record) -> dict[str, str]:
    """The item's owner and buyer as a notice names them, in both languages."""
    return {"owner": row["owner_name"], "owner_en": row["owner_name_en"], "buyer": row["buyer_name"],
            "buyer_en": row["buyer_name_en"]}


async def tick(conn: asyncpg.Connection, today: date, escalate_days: int) -> Done:
    """One pass of the clock on `today`, in the caller's transaction (the demo tells its story with it)."""
    reminded = await conn.fetch(_REMIND, today, REMIND_DAYS)
    for row in reminded:
        await notifications.notify(conn, await notifications.members_of(conn, [row["owner_id"]], ACTORS),
                                   "rectification_due", link(row["id"]), id=row["id"], due=row["due"].isoformat())
    late = await conn.fetch(_LATE, today)
    for row in late:
        params = {"id": row["id"], "due": row["due"].isoformat(), **_names(row)}
        await notifications.notify(conn, await notifications.members_of(conn, [row["buyer_id"]], ACTORS),
                                   "rectification_late", link(row["id"]), **params)
        await notifications.notify(conn, await notifications.members_of(conn, [row["owner_id"]], ACTORS),
                                   "rectification_late_owner", link(row["id"]), **params)
        await _escalated(conn, row, 1, row["buyer_id"])
    escalated = await conn.fetch(_ESCALATE, today, escalate_days)
    for row in escalated:
        bureau = await organisations.overseer_of(conn, row["buyer_id"])
        await conn.execute("update rectification_escalations set notified_org_id = $2 where item_id = $1 "
                           "and level = 2", row["id"], bureau)
        if bureau is not None:
            await notifications.notify(conn, await notifications.members_of(conn, [bureau], ACTORS),
                                       "rectification_escalated", link(row["id"]), id=row["id"],
                                       due=row["due"].isoformat(), days=escalate_days, **_names(row))
        await _escalated(conn, row, 2, bureau)
    return Done(reminded=len(reminded), late=len(late), escalated=len(escalated))


async def run(pool: asyncpg.Pool, escalate_days: int, timezone: str = "Asia/Shanghai") -> Done:
    """One pass of the rectification clock, in one transaction: what it records, it has notified.
    Today is the database clock's, where the deployment is, so every process agrees on it."""
    async with pool.acquire() as conn, conn.transaction():
        today: date = await conn.fetchval("select (market_now() at time zone $1)::date", timezone)
        return await tick(conn, today, escalate_days)
