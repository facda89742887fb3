"""The review batch page as one view, returned whole by its JSON twin."""

from __future__ import annotations

import asyncpg
import msgspec

from market.core.access import Identity
from market.procurement.contracts import services as contracts
from market.procurement.awards import batches
from market.procurement.awards import services as awards
from market.procurement.awards.batches import Batch, Budget
from market.procurement.bids import services as bids
from market.procurement.bids.models import Bid
from market.procurement.calls import services as calls
from market.procurement.calls.models import Call


class BatchView(msgspec.Struct, frozen=True, kw_only=True):
    call: Call
    batch: Batch
    owner: bool  # the reader acts for the buyer
    proposals: list[Bid]  # the batch's proposals the reader may read
    is_proposer: bool
    objections: list[awards.Objection]
    round_budget: Budget
    readable_contracts: list[int]  # the funded proposals' contracts the reader may open


async def batch_view(conn: asyncpg.Connection, identity: Identity | None, call_id: int, number: int) -> BatchView:
    call = await calls.get_call(conn, identity, call_id)
    batch = await batches.get_batch(conn, identity, call_id, number)
    proposals = [b for b in await bids.readable_bids(conn, identity, call_id) if b.batch_id == batch.id]
    return BatchView(
        call=call, batch=batch,
        owner=identity is not None and identity.acts_for_verified and identity.org_id == call.buyer_id,
        proposals=proposals,
        is_proposer=identity is not None and any(b.provider_id == identity.org_id for b in proposals),
        objections=await awards.objections(conn, call_id, batch.id), round_budget=await batches.budget(conn, call_id),
        readable_contracts=sorted(await contracts.readable(conn, identity, [a.contract_id for a in batch.funded])))
