"""The call page as one view: what the call says, and what the person reading it may see and do.
The page renders it and `/api/calls/{id}` returns it whole, so nothing a person sees is missing
from the API."""

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
from market.procurement.calls import questions
from market.procurement.calls import services as calls
from market.procurement.calls.models import Call, ProcedureType, Question, Revision
from market.procurement.calls.workflow import CALLS
from market.procurement.needs import services as needs
from market.procurement.needs.models import Entry, Project


class CallView(Call, frozen=True, kw_only=True):
    """The call's own fields at the top level (as programs have always read them), with everything
    its page shows beside it."""

    project: Project
    procedure: ProcedureType
    entry: Entry
    owner: bool  # the reader acts for the buyer that published the call
    actions: list[str]  # what the buyer may do to the call now (publish, edit, cancel)
    questions: list[Question]
    can_ask: bool
    my_bid: Bid | None
    bid_count: int | None  # once the bids are opened
    is_bidder: bool  # the reader's organisation has a bid that stands
    panel_id: int | None
    award: awards.Award | None
    origin: calls.CallOrigin | None  # where a docked call came from
    contract_id: int | None  # the award's contract, when the reader may open it
    objections: list[awards.Objection]
    revisions: list[Revision]
    # An all-year round: its review batches, its budget, and the reader's own proposals in them.
    batches: list[Batch] | None = None
    round_budget: Budget | None = None
    my_reviewed: list[Bid] = []


async def call_view(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> CallView:
    call, row = await calls.read_call(conn, identity, call_id)
    owner = identity is not None and identity.acts_for_verified and identity.org_id == call.buyer_id
    facts = await conn.fetchrow(
        """select row(e.id, e.code, e.name_zh, e.name_en) as entry,
                  (select id from panels where subject_type = 'call' and subject_id = c.id) as panel_id,
                  (select jsonb_build_object('id', k.id, 'status', k.status, 'buyer_id', k.buyer_id,
                                             'provider_id', k.provider_id)
                     from contracts k join awards a on a.id = k.award_id
                    where k.call_id = c.id and a.batch_id is null) as contract,
                  exists(select 1 from bids where call_id = c.id and provider_id = $2 and status = 'submitted')
                    as is_bidder,
                  to_jsonb(t) as procedure
             from calls c join catalogue_entries e on e.id = c.catalogue_entry_id
             join procedure_types t on t.code = c.procedure_type
            where c.id = $1""",
        call_id, identity.org_id if identity is not None else None)
    contract = facts["contract"]
    contract_id = contract["id"] if contract is not None and contracts.may_read(identity, contract) else None
    readable = await bids.readable_bids(conn, identity, call_id, row) if call.published_at is not None else []
    rolling = call.deadline_at is None and call.published_at is not None
    mine = [b for b in readable if identity is not None and b.provider_id == identity.org_id]
    return CallView(
        **msgspec.structs.asdict(call), project=await needs.get_project(conn, call.project_id),
        procedure=msgspec.convert(facts["procedure"], ProcedureType),
        entry=Entry(**dict(zip(("id", "code", "name_zh", "name_en"), facts["entry"], strict=True))),
        owner=owner, actions=[a for a in ("publish", "edit", "cancel") if owner and CALLS.allowed(a, call.status)],
        questions=await questions.questions_of(conn, identity, call_id),
        can_ask=(identity is not None and identity.acts_for_verified and identity.org_kind == "provider"
                 and call.status == "open"),
        my_bid=(next((b for b in mine if b.batch_id is None), None)
                if identity is not None and identity.acts_for_verified and identity.org_kind == "provider" else None),
        bid_count=await bids.public_count(conn, call_id, row), is_bidder=identity is not None and facts["is_bidder"],
        panel_id=facts["panel_id"], award=await awards.current_award(conn, identity, call_id),
        origin=await calls.origin_of(conn, call_id), contract_id=contract_id,
        objections=await awards.objections(conn, call_id), revisions=await calls.revisions(conn, call_id),
        batches=await batches.batches_of(conn, call_id) if rolling else None,
        round_budget=await batches.budget(conn, call_id) if rolling else None,
        my_reviewed=[b for b in mine if b.batch_id is not None] if rolling else [])
