"""Review batches of an all-year venture round (公益创投, 常年受理、分批评审).

Proposals come in all year, sealed like any bid. When the buyer cuts off a batch, the proposals
received so far (submitted, and confirmed after any change to the call) are opened to the buyer
and scored by the batch's panel on the shared evaluation engine. The decision funds every
proposal that reaches the minimum scores, in rank order, while the round's budget (the project's)
lasts; it is published for the notice period, during which the batch's proposers may object, and
an upheld objection reopens the batch. Each funded proposal then gets its own contract. A provider
may propose again for a later batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import gettext
from market.evaluation import services as engine
from market.evaluation.models import Candidate, Criterion, Ranked
from market.notifications import services as notifications
from market.procurement.awards.workflow import BATCHES
from market.procurement.calls import services as calls
from market.procurement.days import add_days
from market.workflow import Notice, Transition, step


def status_of(row: Any, at: datetime | None = None) -> str:
    if row["decided_at"] is None:
        return "reviewing"
    return "notice" if (at or calls.now()) < row["notice_ends_at"] else "decided"


class Funded(msgspec.Struct, frozen=True, kw_only=True):
    award_id: int
    bid_id: int
    provider_id: int
    provider_name_zh: str
    provider_name_en: str
    amount_fen: int
    total: Any
    contract_id: int | None


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    call_id: int
    number: int
    status: str
    cut_off_at: datetime
    decided_at: datetime | None
    notice_ends_at: datetime | None
    proposals: int
    panel_id: int | None
    funded: list[Funded] = []
    # The panel's ranking, public once the batch is decided; `not_funded` explains the rest.
    results: list[Ranked] = []
    not_funded: dict[int, str] = {}


class Budget(msgspec.Struct, frozen=True, kw_only=True):
    total_fen: int
    awarded_fen: int
    remaining_fen: int


async def budget(conn: asyncpg.Connection, call_id: int) -> Budget:
    """The round's budget is its project's; what the standing awards of its batches take is spent."""
    row = await conn.fetchrow(
        """select p.budget_fen,
                  (select coalesce(sum(a.amount_fen), 0) from awards a
                    where a.call_id = c.id and a.reopened_at is null)::bigint as awarded
             from calls c join projects p on p.id = c.project_id where c.id = $1""", call_id)
    return Budget(total_fen=row["budget_fen"], awarded_fen=row["awarded"],
                  remaining_fen=row["budget_fen"] - row["awarded"])


async def _owned_call(conn: asyncpg.Connection, identity: Identity, call_id: int) -> Any:
    call = await calls.own_call(conn, identity, call_id)
    if call["deadline_at"] is not None:
        raise Conflict("Only an all-year round is reviewed in batches.")
    if calls.status_of(call) != "open":
        raise Conflict("The round has been closed.")
    return call


async def cut_off(conn: asyncpg.Connection, identity: Identity, call_id: int) -> int:
    """Open the proposals received so far as a new batch, with its panel; return the batch number."""
    call = await _owned_call(conn, identity, call_id)
    reviewing = await conn.fetchval("select number from call_batches where call_id = $1 and decided_at is null",
                                    call_id)
    if reviewing is not None:
        raise Conflict("Decide batch %(n)s before cutting off the next.", n=reviewing)
    if (await budget(conn, call_id)).remaining_fen <= 0:
        raise Conflict("The round's budget has been spent.")
    waiting = await conn.fetch(
        """select b.id, b.provider_id, b.amount_fen, b.submitted_at, o.name_zh, o.name_en from bids b
             join organisations o on o.id = b.provider_id
            where b.call_id = $1 and b.batch_id is null and b.status = 'submitted' and b.call_revision = $2
            order by b.submitted_at, b.id""", call_id, call["revision"])
    minimum = await conn.fetchval("select min_bids from procedure_types where code = $1", call["procedure_type"])
    if len(waiting) < minimum:
        raise Conflict("A batch needs at least %(n)s proposals waiting for review.", n=minimum)
    number = await conn.fetchval("select coalesce(max(number), 0) + 1 from call_batches where call_id = $1", call_id)
    batch_id = await conn.fetchval(
        "insert into call_batches (call_id, number, cut_off_by) values ($1, $2, $3) returning id",
        call_id, number, identity.user_id)
    await conn.execute("update bids set batch_id = $2 where id = any($1::bigint[])", [w["id"] for w in waiting],
                       batch_id)
    criteria = [Criterion(**dict(r)) for r in await conn.fetch(
        "select position, name_zh, name_en, weight, min_score, is_price from call_criteria where call_id = $1 "
        "order by position", call_id)]
    candidates = [Candidate(candidate_id=w["id"], organisation_id=w["provider_id"], label=w["name_zh"],
                            label_en=w["name_en"], price_fen=w["amount_fen"], submitted_at=w["submitted_at"]) for w in waiting]
    await engine.create_panel(conn, identity, subject_type="batch", subject_id=batch_id, criteria=criteria,
                              candidates=candidates)
    await audit.record(conn, verb=Verb.BATCH_CUT_OFF, object_type="call", object_id=call_id, actor=identity.user_id,
                       organisation=identity.org_id, after={"batch": number, "proposals": len(waiting)})
    return number


async def _panel_of(conn: asyncpg.Connection, batch_id: int) -> int:
    panel_id = await engine.panel_for(conn, "batch", batch_id)
    # A batch and its panel are made together (cut_off), so every batch has one.
    assert panel_id is not None
    return panel_id


async def _batch_row(conn: asyncpg.Connection, call_id: int, number: int, lock: bool = False) -> Any:
    row = await conn.fetchrow("select * from call_batches where call_id = $1 and number = $2"
                              + (" for update" if lock else ""), call_id, number)
    if row is None:
        raise NotFound()
    return row


async def decide(conn: asyncpg.Connection, identity: Identity, call_id: int, number: int,
                 tz: str = "Asia/Shanghai") -> list[int]:
    """Fund every proposal of the batch that reaches the minimum scores, best first, while the budget
    lasts; publish the decision for the notice period. Returns the funded bids."""
    call = await _owned_call(conn, identity, call_id)
    batch = await _batch_row(conn, call_id, number, lock=True)
    BATCHES.check("decide", status_of(batch), {"buyer"})
    panel_id = await _panel_of(conn, batch["id"])
    if missing := await engine.missing_consensus(conn, panel_id):
        raise Conflict("The panel has %(n)s consensus scores still to record.", n=missing)
    remaining = (await budget(conn, call_id)).remaining_fen
    prices = dict(await conn.fetch("select id, amount_fen from bids where batch_id = $1", batch["id"]))
    funded = []
    for r in await engine.scoring_results(conn, panel_id):
        if r.rank is not None and prices[r.candidate_id] <= remaining:
            funded.append(r)
            remaining -= prices[r.candidate_id]
    procedure = await conn.fetchrow("select * from procedure_types where code = $1", call["procedure_type"])
    now = calls.now()
    notice_ends = add_days(now, procedure["notice_days"], procedure["day_kind"], tz)

    async def write(_: Transition) -> None:
        await conn.executemany(
            """insert into awards (call_id, batch_id, bid_id, panel_id, amount_fen, total, awarded_by, notice_ends_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8)""",
            [(call_id, batch["id"], r.candidate_id, panel_id, prices[r.candidate_id], r.total, identity.user_id,
              notice_ends) for r in funded])
        await conn.execute("update call_batches set decided_at = $2, decided_by = $3, notice_ends_at = $4 "
                           "where id = $1", batch["id"], now, identity.user_id, notice_ends)
        await engine.close(conn, panel_id, identity.user_id)

    proposers = [r["provider_id"] for r in await conn.fetch("select provider_id from bids where batch_id = $1",
                                                            batch["id"])]
    await step(conn, BATCHES, "decide", status_of(batch), object_id=batch["id"], capacities={"buyer"},
               actor=identity.user_id, organisation=identity.org_id, write=write,
               after={"call_id": call_id, "batch": number, "funded": [r.candidate_id for r in funded],
                      "amount_fen": sum(prices[r.candidate_id] for r in funded), "notice_ends_at": notice_ends},
               notices=[Notice(await notifications.members_of(conn, proposers), "batch_decided",
                               f"/calls/{call_id}/batches/{number}", {**notifications.titled(call), "number": number})])
    return [r.candidate_id for r in funded]


async def reopen(conn: asyncpg.Connection, batch_id: int, actor: int) -> None:
    """An upheld objection: the batch's awards fall and its panel scores again."""
    batch = await conn.fetchrow("select * from call_batches where id = $1 for update", batch_id)
    BATCHES.check("reopen", status_of(batch), {"buyer"})
    if await conn.fetchval("select 1 from contracts k join awards a on a.id = k.award_id where a.batch_id = $1",
                           batch_id):
        raise Conflict("Contracts have been made for this batch; it cannot be reopened.")

    async def write(_: Transition) -> None:
        await conn.execute("update awards set reopened_at = market_now() where batch_id = $1 and reopened_at is null",
                           batch_id)
        await conn.execute("update call_batches set decided_at = null, decided_by = null, notice_ends_at = null "
                           "where id = $1", batch_id)
        await engine.reopen(conn, await _panel_of(conn, batch_id), actor)

    await step(conn, BATCHES, "reopen", status_of(batch), object_id=batch_id, capacities={"buyer"}, actor=actor,
               write=write, after={"call_id": batch["call_id"], "batch": batch["number"]})


async def object_to(conn: asyncpg.Connection, identity: Identity, call_id: int, number: int, text: str) -> int:
    """A proposer of the batch objects to its decision during the notice period."""
    batch = await _batch_row(conn, call_id, number)
    BATCHES.check("object", status_of(batch), {"proposer"})
    if not identity.acts_for_verified or not await conn.fetchval(
            "select 1 from bids where batch_id = $1 and provider_id = $2", batch["id"], identity.org_id):
        raise Forbidden("Only organisations whose proposals are in this batch may object to its decision.")
    if not 10 <= len(text.strip()) <= 4000:
        raise InvalidFields([Invalid("Say what is wrong and why, in 10 to 4,000 characters.", field="text")])
    objection_id = await conn.fetchval(
        "insert into objections (batch_id, raised_by, raised_for, text) values ($1, $2, $3, $4) returning id",
        batch["id"], identity.user_id, identity.org_id, text.strip())
    call = await conn.fetchrow("select buyer_id, title_zh, title_en from calls where id = $1", call_id)
    await notifications.notify(conn, await notifications.members_of(conn, [call["buyer_id"]]), "objection_raised",
                               f"/calls/{call_id}/batches/{number}", **notifications.titled(call))
    await audit.record(conn, verb=Verb.OBJECTION_RAISE, object_type="objection", object_id=objection_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"call_id": call_id, "batch": number})
    return objection_id


async def _views(conn: asyncpg.Connection, rows: list[Any]) -> list[Batch]:
    """Batches as the public reads them: their panels, proposals and funded awards read in one statement
    each however many batches there are; the ranking is the engine's, once a batch is decided."""
    ids = [r["id"] for r in rows]
    facts = {r["id"]: r for r in await conn.fetch(
        """select b.id, (select id from panels where subject_type = 'batch' and subject_id = b.id) as panel_id,
                  (select count(*) from bids where batch_id = b.id) as proposals
             from call_batches b where b.id = any($1)""", ids)}
    funded: dict[int, list[Funded]] = {}
    for r in await conn.fetch(
            """select a.batch_id, a.id as award_id, a.bid_id, b.provider_id, o.name_zh as provider_name_zh,
                      o.name_en as provider_name_en, a.amount_fen, a.total, k.id as contract_id
                 from awards a join bids b on b.id = a.bid_id join organisations o on o.id = b.provider_id
                 left join contracts k on k.award_id = a.id
                where a.batch_id = any($1) and a.reopened_at is null
                order by a.total desc nulls last, a.id""", ids):
        funded.setdefault(r["batch_id"], []).append(Funded(**{k: r[k] for k in Funded.__struct_fields__}))
    out = []
    for row in rows:
        status, panel_id, chosen = status_of(row), facts[row["id"]]["panel_id"], funded.get(row["id"], [])
        results: list[Ranked] = []
        not_funded: dict[int, str] = {}
        if status != "reviewing" and panel_id is not None:
            results = await engine.scoring_results(conn, panel_id)
            for r in results:
                if r.candidate_id not in {f.bid_id for f in chosen}:
                    not_funded[r.candidate_id] = (" ".join(r.reasons) if r.rank is None else
                                                  gettext("It reached the minimum scores, but the round's remaining "
                                                          "budget could not cover it."))
        out.append(Batch(id=row["id"], call_id=row["call_id"], number=row["number"], status=status,
                         cut_off_at=row["cut_off_at"], decided_at=row["decided_at"],
                         notice_ends_at=row["notice_ends_at"], proposals=facts[row["id"]]["proposals"],
                         panel_id=panel_id, funded=chosen, results=results, not_funded=not_funded))
    return out


async def batches_of(conn: asyncpg.Connection, call_id: int) -> list[Batch]:
    """A round's batches, public: how many proposals each had, and once decided, what was funded and why."""
    return await _views(conn, await conn.fetch("select * from call_batches where call_id = $1 order by number",
                                               call_id))


async def get_batch(conn: asyncpg.Connection, identity: Identity | None, call_id: int, number: int) -> Batch:
    await calls.get_call(conn, identity, call_id)
    return (await _views(conn, [await _batch_row(conn, call_id, number)]))[0]
