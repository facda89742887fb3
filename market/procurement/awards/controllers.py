"""Review batches of an all-year round: their pages and JSON twins, and the answers to objections
(to a call's award or to a batch's decision). Cutting a batch off is a call action (calls.controllers);
deciding, objecting and reading a batch are here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from market.core.access import PUBLIC, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import Db, MaybeUser, User, done, page
from market.procurement.awards import batches
from market.procurement.awards import services as awards
from market.procurement.awards.views import BatchView, batch_view
from market.procurement.calls import services as calls
from market.procurement.calls.controllers import call_step

PUBLIC_OPT = {"access": PUBLIC}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}
ObjectionAction = Literal["uphold", "reject"]


def _shown(view: BatchView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__struct_fields__}


async def _batch_step(request: Request, conn: asyncpg.Connection, identity: Any, call_id: int, number: int,
                      action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
    async def context() -> dict[str, Any]:
        return _shown(await batch_view(conn, identity, call_id, number))
    return await form_step(request, conn, "procurement/batch.html", action, context=context)


OBJECTION_DONE = {"uphold": "objection_upheld", "reject": "objection_rejected"}


class BatchPages(Controller):
    include_in_schema = False

    @get("/calls/{call_id:int}/batches/{number:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, call_id: FromPath[int],
                   number: FromPath[int]) -> Response:
        return page(request, "procurement/batch.html", errors={},
                    **_shown(await batch_view(conn, identity, call_id, number)))

    @post("/calls/{call_id:int}/batches/{number:int}/decide", opt=BUYERS_OPT)
    async def decide(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                     number: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await batches.decide(conn, identity, call_id, number, request.app.state.settings.timezone)
            return done(f"/calls/{call_id}/batches/{number}", "batch_decided")
        return await _batch_step(request, conn, identity, call_id, number, action)

    @post("/calls/{call_id:int}/batches/{number:int}/objections", opt=PROVIDERS_OPT)
    async def object_to(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                        number: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await batches.object_to(conn, identity, call_id, number, str(form.get("text", "")))
            return done(f"/calls/{call_id}/batches/{number}#objections", "objection_raised")
        return await _batch_step(request, conn, identity, call_id, number, action)

    @post("/objections/{objection_id:int}/{action:str}", opt=BUYERS_OPT)
    async def answer_objection(self, request: Request, conn: Db, identity: User, objection_id: FromPath[int],
                               action: FromPath[ObjectionAction]) -> Response:
        """For a call's award or a review batch's decision; the answer shows where the objection was raised."""
        call_id, number = await awards.objection_place(conn, objection_id)
        where = f"/calls/{call_id}/batches/{number}#objections" if number is not None else f"/calls/{call_id}#award"

        async def answer(form: dict[str, Any]) -> Response:
            await awards.answer_objection(conn, identity, objection_id, action, str(form.get("answer", "")))
            return done(where, OBJECTION_DONE[action])
        if number is not None:
            return await _batch_step(request, conn, identity, call_id, number, answer)
        return await call_step(request, conn, identity, call_id, answer)


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

    @get("/calls/{call_id:int}/batches/{number:int}", opt=PUBLIC_OPT,
         summary="A review batch as its page shows it: the batch, the proposals you may read, its objections")
    async def show(self, conn: Db, identity: MaybeUser, call_id: FromPath[int], number: FromPath[int]) -> BatchView:
        return await batch_view(conn, identity, call_id, number)

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
