"""The evaluation of a call's bids, on the shared evaluation engine (`market.evaluation`)."""

from __future__ import annotations

import asyncpg

from market.accounts.models import Identity
from market.errors import Conflict, Forbidden, NotFound
from market.evaluation import services as engine
from market.evaluation.models import Candidate, Criterion
from market.procurement import bids, calls


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
    standing = [b for b in await bids.readable_bids(conn, identity, call_id)
                if b.status == "submitted" and not b.needs_reconfirmation]
    minimum = await conn.fetchval("select min_bids from procedure_types where code = $1", row["procedure_type"])
    if len(standing) < minimum:
        raise Conflict("Only %(n)s bids stand and this procedure needs %(min)s: the call has failed.",
                       n=len(standing), min=minimum)
    criteria = [Criterion(**dict(r)) for r in await conn.fetch(
        "select position, name_zh, name_en, weight, min_score, is_price from call_criteria where call_id = $1 "
        "order by position", call_id)]
    candidates = [Candidate(candidate_id=b.id, organisation_id=b.provider_id, label=b.provider_name_zh,
                            price_fen=b.amount_fen, submitted_at=b.submitted_at) for b in standing]
    return await engine.create_panel(conn, identity, subject_type="call", subject_id=call_id, criteria=criteria,
                                     candidates=candidates)
