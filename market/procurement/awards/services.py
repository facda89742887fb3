"""Award, public notice (公示) and objections (质疑).

The buyer awards the call to the panel's top-ranked bid once the panel has a consensus score for
every candidate on every criterion. The award is published with the scores for the procedure's
notice period, during which bidders may object; the buyer answers each objection, and an upheld
one reopens the evaluation. One award stands per call however many requests race: the database's
unique index decides, not the application.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.evaluation import services as engine
from market.evaluation.models import Ranked
from market.notifications import services as notifications
from market.procurement.awards import batches
from market.procurement.awards.workflow import OBJECTIONS
from market.procurement.calls import services as calls
from market.procurement.calls.workflow import CALLS
from market.procurement.days import add_days
from market.workflow import Transition, step


class Award(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    call_id: int
    bid_id: int
    provider_id: int
    provider_name_zh: str
    provider_name_en: str
    amount_fen: int
    total: Any
    awarded_at: datetime
    notice_ends_at: datetime
    results: list[Ranked] = []
    # A docking's award (market.matching.docking.dockings) has no panel and no ranking.
    docking_id: int | None = None


class Objection(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    award_id: int | None
    batch_id: int | None
    raised_for_name: str
    raised_for_name_en: str
    text: str
    raised_at: datetime
    status: str
    answer: str | None
    answered_at: datetime | None


class ObjectionInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=4000)]


class ObjectionAnswer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answer: Annotated[str, msgspec.Meta(max_length=4000)]


async def award(conn: asyncpg.Connection, identity: Identity, call_id: int, tz: str = "Asia/Shanghai") -> int:
    row = await conn.fetchrow("select * from calls where id = $1", call_id)
    if row is None or row["published_at"] is None:
        raise NotFound()
    if not (identity.acts_for_verified and identity.org_id == row["buyer_id"] and identity.role in ("admin", "staff")):
        raise Forbidden("Only the buyer that published this call can award it.")
    status = calls.status_of(row)
    CALLS.check("award", status, {"buyer"})
    panel_id = await engine.panel_for(conn, "call", call_id)
    if panel_id is None:
        raise Conflict("Form the evaluation panel and score the bids first.")
    if missing := await engine.missing_consensus(conn, panel_id):
        raise Conflict("The panel has %(n)s consensus scores still to record.", n=missing)
    ranked = await engine.results(conn, identity, panel_id)
    if not ranked or ranked[0].rank != 1:
        raise Conflict("No bid reached the minimum scores: the call has failed.")
    best = ranked[0]
    procedure = await conn.fetchrow("select * from procedure_types where code = $1", row["procedure_type"])
    now = clock.now()
    notice_ends = add_days(now, procedure["notice_days"], procedure["day_kind"], tz)
    amount = await conn.fetchval("select amount_fen from bids where id = $1", best.candidate_id)
    award_ids: list[int] = []

    async def write(_: Transition) -> None:
        award_id = await conn.fetchval(
            """insert into awards (call_id, bid_id, panel_id, amount_fen, total, awarded_by, notice_ends_at)
               values ($1, $2, $3, $4, $5, $6, $7)
               on conflict (call_id) where reopened_at is null and batch_id is null do nothing
               returning id""", call_id, best.candidate_id, panel_id, amount, best.total, identity.user_id,
            notice_ends)
        if award_id is None:
            raise Conflict("This call has been awarded already.")
        award_ids.append(award_id)
        await conn.execute("update calls set awarded_at = $2, notice_ends_at = $3 where id = $1", call_id, now,
                           notice_ends)
        # The published scores must stay what they were: the panel is closed until an objection reopens it.
        await engine.close(conn, panel_id, identity.user_id)

    await step(conn, CALLS, "award", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write,
               after={"bid_id": best.candidate_id, "amount_fen": amount, "total": str(best.total),
                      "notice_ends_at": notice_ends},
               notices=await calls.tell_bidders(conn, call_id, "call_awarded", f"/calls/{call_id}#award",
                                                notifications.titled(row)))
    return award_ids[0]


async def current_award(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> Award | None:
    """The standing award, with the panel's scores: public once made."""
    row = await conn.fetchrow(
        """select a.*, b.provider_id, o.name_zh as provider_name_zh, o.name_en as provider_name_en
             from awards a join bids b on b.id = a.bid_id join organisations o on o.id = b.provider_id
            where a.call_id = $1 and a.reopened_at is null and a.batch_id is null""", call_id)
    if row is None:
        return None
    results = await engine.scoring_results(conn, row["panel_id"]) if row["panel_id"] is not None else []
    return Award(**{k: row[k] for k in Award.__struct_fields__ if k != "results"}, results=results)


async def objections(conn: asyncpg.Connection, call_id: int, batch_id: int | None = None) -> list[Objection]:
    """Objections to a call's award or, with `batch_id`, to a review batch's decision: public."""
    rows = await conn.fetch(
        """select x.*, o.name_zh as raised_for_name, o.name_en as raised_for_name_en from objections x left join awards a on a.id = x.award_id
             join organisations o on o.id = x.raised_for
            where case when $2::bigint is null then a.call_id = $1 and x.batch_id is null else x.batch_id = $2 end
            order by x.id""", call_id, batch_id)
    return [Objection(**{k: r[k] for k in Objection.__struct_fields__}) for r in rows]


async def object_to(conn: asyncpg.Connection, identity: Identity, call_id: int, text: str) -> int:
    """A bidder objects to the award during the notice period."""
    row = await conn.fetchrow("select * from calls where id = $1", call_id)
    if row is None or calls.status_of(row) != "notice":
        raise Conflict("Objections are raised while the award is under public notice.")
    if not identity.acts_for_verified or not await conn.fetchval(
            "select 1 from bids where call_id = $1 and provider_id = $2 and status = 'submitted'", call_id, identity.org_id):
        raise Forbidden("Only organisations that bid on this call may object to its award.")
    award = await conn.fetchrow(
        "select id, docking_id from awards where call_id = $1 and reopened_at is null and batch_id is null", call_id)
    if award["docking_id"] is not None:
        raise Conflict("A docking has no other bidder: its notice is for the public to see.")
    if not 10 <= len(text.strip()) <= 4000:
        raise InvalidFields([Invalid("Say what is wrong and why, in 10 to 4,000 characters.", field="text")])
    award_id = award["id"]
    objection_id = await conn.fetchval(
        "insert into objections (award_id, raised_by, raised_for, text) values ($1, $2, $3, $4) returning id",
        award_id, identity.user_id, identity.org_id, text.strip())
    await notifications.notify(conn, await notifications.members_of(conn, [row["buyer_id"]]), "objection_raised",
                               f"/calls/{call_id}#award", **notifications.titled(row))
    await audit.record(conn, verb=Verb.OBJECTION_RAISE, object_type="objection", object_id=objection_id,
                       actor=identity.user_id, organisation=identity.org_id, after={"call_id": call_id})
    return objection_id


async def objection_place(conn: asyncpg.Connection, objection_id: int) -> tuple[int, int | None]:
    """The call an objection was raised on, and the review batch's number if it was raised on one."""
    row = await conn.fetchrow(
        """select coalesce(a.call_id, cb.call_id) as call_id, cb.number from objections x
             left join awards a on a.id = x.award_id left join call_batches cb on cb.id = x.batch_id
            where x.id = $1""", objection_id)
    if row is None:
        raise NotFound()
    return row["call_id"], row["number"]


async def answer_objection(conn: asyncpg.Connection, identity: Identity, objection_id: int,
                           action: Literal["uphold", "reject"], answer: str) -> str:
    """The buyer upholds or rejects an objection, in public; upholding reopens the evaluation."""
    row = await conn.fetchrow(
        """select x.*, coalesce(a.call_id, cb.call_id) as call_id from objections x
             left join awards a on a.id = x.award_id left join call_batches cb on cb.id = x.batch_id
            where x.id = $1 for update of x""", objection_id)
    if row is None:
        raise NotFound()
    call = await conn.fetchrow("select * from calls where id = $1 for update", row["call_id"])
    if not (identity.acts_for_verified and identity.org_id == call["buyer_id"] and identity.role in ("admin", "staff")):
        raise Forbidden("Only the buyer that published this call can answer objections to its award.")
    OBJECTIONS.check(action, row["status"], {"buyer"})
    if not 5 <= len(answer.strip()) <= 4000:
        raise InvalidFields([Invalid("Give the answer; the objector and the public will read it.", field="answer")])

    async def write(transition: Transition) -> None:
        await conn.execute("update objections set status = $2, answer = $3, answered_by = $4, "
                           "answered_at = market_now() where id = $1",
                           objection_id, transition.target, answer.strip(), identity.user_id)
        if transition.target == "upheld" and row["batch_id"] is not None:
            await batches.reopen(conn, row["batch_id"], identity.user_id)
        elif transition.target == "upheld":
            await conn.execute("update awards set reopened_at = market_now() where id = $1", row["award_id"])
            await conn.execute("update calls set awarded_at = null, notice_ends_at = null where id = $1",
                               row["call_id"])
            panel_id = await engine.panel_for(conn, "call", row["call_id"])
            # Objections are raised only to an award made on a panel's scores (object_to refuses a docking's),
            # so the call has its panel.
            assert panel_id is not None
            await engine.reopen(conn, panel_id, identity.user_id)

    moved = await step(conn, OBJECTIONS, action, row["status"], object_id=objection_id, capacities={"buyer"},
                       actor=identity.user_id, organisation=identity.org_id, write=write,
                       after={"answer": answer.strip()})
    target = moved.target
    return target
