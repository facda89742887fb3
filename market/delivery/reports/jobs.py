"""The report clock, a periodic job every app process runs (see Domain.jobs): reminders 7 days and
1 day before a report is due, a report not filed by its due date marked late, and one not filed by
the end of the grace period recorded as a failed evaluation of its stage.

Each thing happens once however many processes run this at once: each is an insert (or an update
of a flag) that only one transaction can make, and only the rows it made are notified. A second
process's same insert waits for the first to commit and then finds the row there."""

from __future__ import annotations

from datetime import date

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.delivery import scorecard
from market.delivery.models import STAGES
from market.delivery.reports.models import NOT_FILED
from market.notifications import services as notifications

PARTIES = ("admin", "staff")

# Report milestones of signed contracts whose report is not filed yet (no report, or a draft). The
# orders below keep concurrent runs taking their rows in one order, so they wait rather than deadlock.
_OPEN = """
  from contract_milestones m join contracts k on k.id = m.contract_id join calls c on c.id = k.call_id
  left join delivery_reports r on r.contract_id = m.contract_id and r.position = m.position
 where m.kind = 'report' and m.accepted_at is null and k.status = 'signed' and coalesce(r.status, 'draft') = 'draft'
   and not exists (select from contract_delivery d where d.contract_id = k.id and d.status = 'ended')"""

# $1 today. The week's reminder from 7 days before, the last one from the day before (or on the day).
_REMIND = f"""
with due as (
    select m.contract_id, m.position, case when m.due_date - $1::date <= 1 then 1 else 7 end as days_before
    {_OPEN} and m.due_date between $1::date and $1::date + 7
     order by m.contract_id, m.position
), sent as (
    insert into report_reminders (contract_id, position, days_before) select * from due
    on conflict do nothing returning contract_id, position
)
select s.contract_id, s.position, m.due_date, k.provider_id, c.title_zh, c.title_en
  from sent s join contract_milestones m on m.contract_id = s.contract_id and m.position = s.position
  join contracts k on k.id = s.contract_id join calls c on c.id = k.call_id"""

# $1 today. Past the due date and not filed: the report is late (made now if nobody started it).
_OVERDUE = f"""
with overdue as (
    select m.contract_id, m.position {_OPEN} and m.due_date < $1::date and not coalesce(r.late, false)
     order by m.contract_id, m.position
), marked as (
    insert into delivery_reports (contract_id, position, late) select contract_id, position, true from overdue
    on conflict (contract_id, position) do update set late = true
     where delivery_reports.status = 'draft' and not delivery_reports.late
    returning id, contract_id, position
)
select x.id, x.contract_id, x.position, m.due_date, k.buyer_id, k.provider_id, c.title_zh, c.title_en
  from marked x join contract_milestones m on m.contract_id = x.contract_id and m.position = x.position
  join contracts k on k.id = x.contract_id join calls c on c.id = k.call_id"""

# $1 today, $2 grace days, $4 the deployment's time zone. Not filed by the end of the grace period: the
# stage counts as failed, from when the grace period ended (the clock may run later: a process down for a
# day would have dated it a day late, and the rating of the stage falls due from it). Those recorded
# already are not tried again: on the city each run of every process had tried all 8,335 again.
_NOT_FILED = f"""
with failing as (
    select m.contract_id, m.position, m.stage, m.due_date {_OPEN} and m.due_date + $2::int < $1::date
       and not exists (select from contract_stage_failures f where f.contract_id = m.contract_id
                        and f.position = m.position)
     order by m.contract_id, m.position
), recorded as (
    insert into contract_stage_failures (contract_id, position, stage, reason, at)
    select contract_id, position, stage, $3,
           least(market_now(), (due_date + $2::int + 1)::timestamp at time zone $4) from failing
    on conflict (contract_id, position) where position is not null do nothing
    returning contract_id, position, stage
)
select x.contract_id, x.position, x.stage, r.id as report_id, m.due_date, k.buyer_id, k.provider_id, c.title_zh, c.title_en
  from recorded x join contract_milestones m on m.contract_id = x.contract_id and m.position = x.position
  join contracts k on k.id = x.contract_id join calls c on c.id = k.call_id
  left join delivery_reports r on r.contract_id = x.contract_id and r.position = x.position"""


class Done(msgspec.Struct, frozen=True, kw_only=True):
    """What one run did: reminders sent, reports marked late, stages failed for want of a report."""

    reminded: int = 0
    late: int = 0
    failed: int = 0


def _link(row: asyncpg.Record) -> str:
    return f"/contracts/{row['contract_id']}/reports/{row['position']}"


async def run(pool: asyncpg.Pool, grace_days: int, timezone: str = "Asia/Shanghai") -> Done:
    """One pass of the report clock, in one transaction: what it records, it has notified. Today is
    the database clock's, where the deployment is, so every process agrees on it."""
    async with pool.acquire() as conn, conn.transaction():
        today: date = await conn.fetchval("select (market_now() at time zone $1)::date", timezone)
        reminded = await conn.fetch(_REMIND, today)
        for row in reminded:
            members = await notifications.members_of(conn, [row["provider_id"]], PARTIES)
            await notifications.notify(conn, members, "report_due", _link(row), **notifications.titled(row),
                                       due=row["due_date"].isoformat())
        late = await conn.fetch(_OVERDUE, today)
        for row in late:
            members = await notifications.members_of(conn, [row["provider_id"], row["buyer_id"]], PARTIES)
            await notifications.notify(conn, members, "report_overdue", _link(row), **notifications.titled(row),
                                       due=row["due_date"].isoformat(), days=grace_days)
            await audit.record(conn, verb=Verb.REPORT_OVERDUE, object_type="delivery_report", object_id=row["id"],
                               organisation=row["provider_id"], after={"late": True})
        failed = await conn.fetch(_NOT_FILED, today, grace_days, NOT_FILED, timezone)
        for row in failed:
            members = await notifications.members_of(conn, [row["provider_id"], row["buyer_id"]], PARTIES)
            await notifications.notify(conn, members, "report_not_filed", _link(row), **notifications.titled(row),
                                       days=grace_days)
            await audit.record(conn, verb=Verb.REPORT_NOT_FILED, object_type="delivery_report",
                               object_id=row["report_id"] or f"{row['contract_id']}:{row['position']}",
                               organisation=row["provider_id"],
                               after={"stage": row["stage"], "reason": "not_filed"})
        # A mid-term or final report never filed fails that evaluation (a progress report's counts for
        # nothing but itself), and the provider's standing follows.
        for provider_id in sorted({row["provider_id"] for row in failed if row["stage"] in STAGES}):
            await scorecard.refresh_standing(conn, provider_id)
    return Done(reminded=len(reminded), late=len(late), failed=len(failed))
