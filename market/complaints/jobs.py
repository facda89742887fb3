"""The complaint clock, a periodic job every app process runs (see Domain.jobs): on the morning of a
complaint's deadline the organisation responsible is reminded that it is due that day, once per
deadline (a reminder a day earlier would come the day the complaint is lodged, as acknowledging has
one working day); a complaint whose deadline has passed while the organisation responsible owes something is escalated one level — to the
buyer above it (market.organisations.services.overseer_of), then to the one above that — with a new
deadline; an answer nobody rates or reopens closes the complaint after CLOSE_AFTER_DAYS.

Each thing happens once however many processes run this at once: each complaint is taken in its own
transaction by a `select … for update` that repeats the condition, so a second process waits for the
first to commit and then finds the condition no longer true; the escalation's row (one per level,
its primary key) and the reminder's (one per deadline) are the record that it happened, and only the
process that wrote it notifies."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import msgspec

from market.complaints import days
from market.complaints.models import CLOSE_AFTER_DAYS, OPEN
from market.complaints.workflow import COMPLAINT
from market.notifications import services as notifications
from market.organisations.services import overseer_of
from market.workflow import Notice, step

HANDLER_ROLES = ("admin", "staff")
SYSTEM = {"system"}

# $1 today, $2 the open statuses. Late and not yet escalated to the top.
_LATE = "select id from complaints where status = any($2) and due_on < $1 and escalation_level < 2 order by id"
_LATE_ONE = """
    select c.*, k.answer_days, k.day_kind from complaints c join complaint_categories k on k.id = c.category_id
     where c.id = $3 and c.status = any($2) and c.due_on < $1 and c.escalation_level < 2 for update of c"""
_ESCALATE = """
    insert into complaint_escalations (complaint_id, level, organisation_id, due_was) values ($1, $2, $3, $4)
    on conflict do nothing returning true"""
# $1 today, $2 the open statuses. Due today and not reminded of this deadline yet; the insert only
# one process can make claims it.
_DUE_TODAY = """
with soon as (
    select id, due_on, responsible_id from complaints where status = any($2) and due_on = $1
), claimed as (
    insert into complaint_reminders (complaint_id, due_on) select id, due_on from soon order by id
    on conflict do nothing returning complaint_id
)
select s.id, s.due_on, s.responsible_id from claimed c join soon s on s.id = c.complaint_id order by s.id"""
# $1 the moment before which an answer closes unrated.
_UNRATED = "select id from complaints where status = 'answered' and answered_at < $1 order by id"
_UNRATED_ONE = "select * from complaints where id = $2 and status = 'answered' and answered_at < $1 for update"


class Done(msgspec.Struct, frozen=True, kw_only=True):
    """What one run did: complaints reminded of their deadline, escalated, and answered complaints
    closed without a rating."""

    reminded: int = 0
    escalated: int = 0
    closed: int = 0


def _link(complaint_id: int) -> str:
    return f"/complaints/{complaint_id}"


async def _escalate(conn: asyncpg.Connection, complaint_id: int, today: date) -> bool:
    row = await conn.fetchrow(_LATE_ONE, today, list(OPEN), complaint_id)
    if row is None:
        return False  # another process escalated it (or it was answered) since the list was read
    level = row["escalation_level"] + 1
    holder = row["responsible_id"] if level == 1 else await conn.fetchval(
        "select organisation_id from complaint_escalations where complaint_id = $1 and level = $2",
        complaint_id, level - 1)
    above = await overseer_of(conn, holder) if holder else None
    if not await conn.fetchval(_ESCALATE, complaint_id, level, above, row["due_on"]):
        return False
    due = days.add_days(today, row["answer_days"], row["day_kind"])

    async def write(_: object) -> None:
        await conn.execute("update complaints set escalation_level = $2, due_on = $3 where id = $1",
                           complaint_id, level, due)

    params = {"number": complaint_id, "due": row["due_on"].isoformat(), "level": level, "new_due": due.isoformat()}
    await step(conn, COMPLAINT, "escalate", row["status"], object_id=complaint_id, capacities=SYSTEM, actor=None,
               organisation=row["responsible_id"], write=write,
               before={"escalation_level": level - 1, "due_on": row["due_on"].isoformat()},
               after={"escalation_level": level, "escalated_to": above, "due_on": due.isoformat()},
               notices=[Notice(await notifications.members_of(conn, [above], HANDLER_ROLES) if above else [],
                               "complaint_escalated", _link(complaint_id), params),
                        Notice(await notifications.members_of(conn, [row["responsible_id"]], HANDLER_ROLES),
                               "complaint_late", _link(complaint_id), params)])
    return True


async def _remind(conn: asyncpg.Connection, today: date) -> int:
    async with conn.transaction():
        rows = await conn.fetch(_DUE_TODAY, today, list(OPEN))
        for row in rows:
            await notifications.notify(
                conn, await notifications.members_of(conn, [row["responsible_id"]], HANDLER_ROLES),
                "complaint_due_today", _link(row["id"]), number=row["id"], due=row["due_on"].isoformat())
    return len(rows)


async def _close(conn: asyncpg.Connection, complaint_id: int, before: object) -> bool:
    row = await conn.fetchrow(_UNRATED_ONE, before, complaint_id)
    if row is None:
        return False

    async def write(_: object) -> None:
        await conn.execute("update complaints set status = 'closed', closed_at = market_now() where id = $1",
                           complaint_id)

    await step(conn, COMPLAINT, "close", row["status"], object_id=complaint_id, capacities=SYSTEM, actor=None,
               organisation=row["responsible_id"], write=write)
    return True


async def run(pool: asyncpg.Pool, timezone: str = "Asia/Shanghai") -> Done:
    """One pass of the complaint clock."""
    async with pool.acquire() as conn:
        return await tick(conn, timezone)


async def tick(conn: asyncpg.Connection, timezone: str = "Asia/Shanghai") -> Done:
    """One pass on this connection, a transaction per complaint (savepoints inside a caller's, as in
    the demo). Today is the database clock's, where the deployment is, so every process agrees on it."""
    today: date = await conn.fetchval("select (market_now() at time zone $1)::date", timezone)
    before = await conn.fetchval("select market_now()") - timedelta(days=CLOSE_AFTER_DAYS)
    reminded = await _remind(conn, today)
    escalated = closed = 0
    for row in await conn.fetch(_LATE, today, list(OPEN)):
        async with conn.transaction():
            escalated += await _escalate(conn, row["id"], today)
    for row in await conn.fetch(_UNRATED, before):
        async with conn.transaction():
            closed += await _close(conn, row["id"], before)
    return Done(reminded=reminded, escalated=escalated, closed=closed)
