"""The evaluation of a call's bids and of a round's review batches, on the shared evaluation engine
(`market.evaluation`): procurement forms the panel for its call and registers calls and batches as
subjects the engine can name."""

from __future__ import annotations

from typing import Any

import asyncpg

from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, NotFound
from market.core.i18n import gettext
from market.evaluation import services as engine
from market.evaluation.models import Candidate, Criterion
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.calls.workflow import CALLS
from market.workflow import Transition, step


async def _standing(conn: asyncpg.Connection, identity: Identity, call: Any) -> tuple[list[Any], int]:
    """The bids that stand (submitted, and confirmed after any change), and how many the procedure needs."""
    standing = [b for b in await bids.readable_bids(conn, identity, call["id"])
                if b.status == "submitted" and not b.needs_reconfirmation]
    minimum = await conn.fetchval("select min_bids from procedure_types where code = $1", call["procedure_type"])
    return standing, minimum


async def declare_failed(conn: asyncpg.Connection, identity: Identity, call_id: int) -> str:
    """Record that the call failed: too few bids stand, or the panel ranked none. The reason is public."""
    row = await conn.fetchrow("select * from calls where id = $1 for update", call_id)
    owner = identity.acts_for_verified and row is not None and identity.org_id == row["buyer_id"]
    if row is None or (row["published_at"] is None and not owner):
        raise NotFound()
    if not owner or identity.role not in ("admin", "staff"):
        raise Forbidden("Only the buyer that published this call can declare it failed.")
    status = calls.status_of(row)
    CALLS.check("fail", status, {"buyer"})
    standing, minimum = await _standing(conn, identity, row)
    panel_id = await engine.panel_for(conn, "call", call_id)
    if len(standing) < minimum:
        reason = gettext("Only %(n)s bids stand and this procedure needs %(min)s.", n=len(standing), min=minimum)
    elif panel_id and not any(r.rank for r in await engine.scoring_results(conn, panel_id)):
        reason = gettext("No bid reached the minimum scores.")
    else:
        raise Conflict("Enough bids stand: evaluate them instead.")

    async def write(_: Transition) -> None:
        await conn.execute("update calls set failed_at = market_now(), fail_reason = $2 where id = $1", call_id, reason)

    await step(conn, CALLS, "fail", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write, after={"reason": reason})
    return reason


async def form_panel(conn: asyncpg.Connection, identity: Identity, call_id: int) -> int:
    """After the deadline, the buyer forms the panel for the bids that stand: submitted, and confirmed
    after any change to the call. Fewer than the procedure's minimum and the call has failed."""
    row = await conn.fetchrow("select * from calls where id = $1 for update", call_id)
    if row is None or row["published_at"] is None:
        raise NotFound()
    if not (identity.acts_for_verified and identity.org_id == row["buyer_id"] and identity.role in ("admin", "staff")):
        raise Forbidden("Only the buyer that published this call can form its panel.")
    if calls.status_of(row) != "closed":
        raise Conflict("The panel is formed after the deadline, when the bids are opened.")
    standing, minimum = await _standing(conn, identity, row)
    if len(standing) < minimum:
        raise Conflict("Only %(n)s bids stand and this procedure needs %(min)s: the call has failed.",
                       n=len(standing), min=minimum)
    criteria = [Criterion(**dict(r)) for r in await conn.fetch(
        "select position, name_zh, name_en, weight, min_score, is_price from call_criteria where call_id = $1 "
        "order by position", call_id)]
    candidates = [Candidate(candidate_id=b.id, organisation_id=b.provider_id, label=b.provider_name_zh,
                            label_en=b.provider_name_en, price_fen=b.amount_fen, submitted_at=b.submitted_at) for b in standing]
    return await engine.create_panel(conn, identity, subject_type="call", subject_id=call_id, criteria=criteria,
                                     candidates=candidates)


async def _call_subject(conn: asyncpg.Connection, call_id: int) -> engine.Subject:
    row = await conn.fetchrow("select title_zh, title_en from calls where id = $1", call_id)
    return engine.Subject(title_zh=row["title_zh"], title_en=row["title_en"], link=f"/calls/{call_id}",
                          bids_link=f"/calls/{call_id}/bids")


async def _batch_subject(conn: asyncpg.Connection, batch_id: int) -> engine.Subject:
    row = await conn.fetchrow("select b.call_id, b.number, c.title_zh, c.title_en from call_batches b "
                              "join calls c on c.id = b.call_id where b.id = $1", batch_id)
    return engine.Subject(title_zh=row["title_zh"], title_en=row["title_en"],
                          link=f"/calls/{row['call_id']}/batches/{row['number']}",
                          bids_link=f"/calls/{row['call_id']}/bids")


engine.register_subject("call", _call_subject)
engine.register_subject("batch", _batch_subject)
