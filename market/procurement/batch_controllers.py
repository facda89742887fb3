"""Review batches of an all-year round: their pages and JSON twins. Cutting a batch off is a call
action (`call_controllers`); deciding, objecting and reading a batch are here."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from market.core.access import PUBLIC, member
from market.core.errors import Conflict, Invalid
from market.core.i18n import N_
from market.core.web import Db, MaybeUser, User, form_data, page, redirect
from market.procurement import awards, batches, bids, calls
from market.procurement.contracts import services as contracts

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}


async def batch_page(request: Request, conn: asyncpg.Connection, identity: Any, call_id: int, number: int,
                     status: int = 200, errors: dict[str, str] | None = None) -> Response:
    call = await calls.get_call(conn, identity, call_id)
    batch = await batches.get_batch(conn, identity, call_id, number)
    owner = identity is not None and identity.acts_for_verified and identity.org_id == call.buyer_id
    proposals = [b for b in await bids.readable_bids(conn, identity, call_id) if b.batch_id == batch.id]
    return page(request, "procurement/batch.html", status=status, call=call, batch=batch, owner=owner,
                proposals=proposals, is_proposer=any(identity and b.provider_id == identity.org_id for b in proposals),
                objections=await awards.objections(conn, call_id, batch.id),
                round_budget=await batches.budget(conn, call_id), errors=errors or {},
                readable_contracts=await contracts.readable(conn, identity, [a.contract_id for a in batch.funded]))


class BatchPages(Controller):
    include_in_schema = False

    @get("/calls/{call_id:int}/batches/{number:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, call_id: FromPath[int],
                   number: FromPath[int]) -> Response:
        return await batch_page(request, conn, identity, call_id, number)

    @post("/calls/{call_id:int}/batches/{number:int}/decide", opt=BUYERS_OPT)
    async def decide(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                     number: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await batches.decide(conn, identity, call_id, number, request.app.state.settings.timezone)
        except Conflict as exc:
            return await batch_page(request, conn, identity, call_id, number, exc.status, {"_": exc.text()})
        return redirect(f"/calls/{call_id}/batches/{number}")

    @post("/calls/{call_id:int}/batches/{number:int}/objections", opt=PROVIDERS_OPT)
    async def object_to(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                        number: FromPath[int]) -> Response:
        try:
            async with conn.transaction():
                await batches.object_to(conn, identity, call_id, number,
                                        str((await form_data(request)).get("text", "")))
        except (Invalid, Conflict) as exc:
            return await batch_page(request, conn, identity, call_id, number, exc.status,
                                    exc.field_errors() or {"_": exc.text()})
        return redirect(f"/calls/{call_id}/batches/{number}#objections")


class BatchApi(Controller):
    path = "/api"
    tags = ["calls"]

    @get("/calls/{call_id:int}/batches", opt=PUBLIC_OPT,
         summary="An all-year round's review batches: proposals, and once decided, what was funded and why")
    async def index(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> list[batches.Batch]:
        await calls.get_call(conn, identity, call_id)
        return await batches.batches_of(conn, call_id)

    @post("/calls/{call_id:int}/batches", opt=BUYERS_OPT, status_code=201,
          summary="All-year round: open the proposals received so far as a review batch, with its panel")
    async def cut_off(self, conn: Db, identity: User, call_id: FromPath[int]) -> batches.Batch:
        number = await batches.cut_off(conn, identity, call_id)
        return await batches.get_batch(conn, identity, call_id, number)

    @get("/calls/{call_id:int}/batches/{number:int}", opt=PUBLIC_OPT, summary="A review batch")
    async def show(self, conn: Db, identity: MaybeUser, call_id: FromPath[int], number: FromPath[int]) -> batches.Batch:
        return await batches.get_batch(conn, identity, call_id, number)

    @post("/calls/{call_id:int}/batches/{number:int}/decide", opt=BUYERS_OPT, status_code=201,
          summary="Fund the batch's proposals that reach the minimum scores, best first, within the round's budget")
    async def decide(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                     number: FromPath[int]) -> batches.Batch:
        await batches.decide(conn, identity, call_id, number, request.app.state.settings.timezone)
        return await batches.get_batch(conn, identity, call_id, number)

    @post("/calls/{call_id:int}/batches/{number:int}/objections", opt=PROVIDERS_OPT, status_code=201,
          summary="Object to a batch's decision (its proposers, during the notice period)")
    async def object_to(self, conn: Db, identity: User, call_id: FromPath[int], number: FromPath[int],
                        data: JSONBody[awards.ObjectionInput]) -> dict[str, int]:
        return {"objection_id": await batches.object_to(conn, identity, call_id, number, data.text)}

    @get("/calls/{call_id:int}/batches/{number:int}/objections", opt=PUBLIC_OPT,
         summary="Objections to a batch's decision and their answers")
    async def objections(self, conn: Db, identity: MaybeUser, call_id: FromPath[int],
                         number: FromPath[int]) -> list[awards.Objection]:
        batch = await batches.get_batch(conn, identity, call_id, number)
        return await awards.objections(conn, call_id, batch.id)
