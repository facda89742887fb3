"""What the bid form shows: the call, the organisation's bid (a withdrawn one fills the form too),
why the organisation may not bid if it may not, and the documents it may attach."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from market.core.access import Identity
from market.procurement.bids import services as bids
from market.procurement.bids.forms import form_of
from market.procurement.bids.models import Bid
from market.procurement.calls import services as calls
from market.procurement.calls.models import Call
from market.storage import services as storage
from market.storage.services import StoredFile


class BidForm(msgspec.Struct, frozen=True, kw_only=True):
    call: Call
    bid: Bid | None
    form: dict[str, Any]  # the bid as the form's fields; a new bid starts with the catalogue item's indicators
    chosen: list[str]  # the attachments chosen
    problems: list[str]  # the call's rules the organisation fails
    documents: list[StoredFile]


async def eligibility(conn: asyncpg.Connection, identity: Identity, call_id: int) -> list[str]:
    """The call's rules the organisation fails; empty if it may bid."""
    await calls.get_call(conn, identity, call_id)
    return await bids.eligibility_problems(conn, identity.org_id, await calls.call_row(conn, call_id))


async def bid_form(conn: asyncpg.Connection, identity: Identity, call_id: int) -> BidForm:
    call = await calls.get_call(conn, identity, call_id)
    mine = await bids.my_bid(conn, identity, call_id)
    # A withdrawn bid fills the form too: resubmitting should not mean typing it all again.
    form = form_of(mine) if mine else {}
    if not form:
        indicators = await conn.fetchval("select indicators from catalogue_entries where id = $1",
                                         call.catalogue_entry_id)
        form = {f"indicator-{i}-name": indicator["name_zh"] for i, indicator in enumerate(indicators)}
    return BidForm(call=call, bid=mine, form=form, chosen=mine.attachments if mine else [],
                   problems=await eligibility(conn, identity, call_id),
                   documents=(await storage.organisation_files(conn, identity, identity.org_id)
                              if identity.org_id is not None else []))
