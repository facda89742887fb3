"""Bid pages and their JSON twins. Everything they show comes through `bids.readable_bids`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from market.core.access import PUBLIC, SIGNED_IN, member
from market.core.errors import Forbidden
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import (
    Db,
    MaybeUser,
    User,
    done,
    form_data,
    page,
    require_confirmation,
)
from market.procurement.bids import services as bids
from market.procurement.bids.forms import BID_YUAN, ROWS, bid_from_form
from market.procurement.bids.models import Bid, BidInput
from market.procurement.bids.views import bid_form, eligibility
from market.procurement.calls import services as calls

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}
class BidPages(Controller):
    include_in_schema = False

    async def _step(self, request: Request, conn: asyncpg.Connection, identity: Any, call_id: int,
                    action: Callable[[dict[str, Any]], Awaitable[Response]], form: dict[str, Any],
                    chosen: list[str] | None = None) -> Response:
        """A step on the bid form; refused, the form shows again as sent, each problem by its field."""
        async def context() -> dict[str, Any]:
            shown = await bid_form(conn, identity, call_id)
            return {"call": shown.call, "bid": shown.bid, "rows": ROWS, "problems": shown.problems,
                    "documents": shown.documents, "chosen": shown.chosen if chosen is None else chosen}
        return await form_step(request, conn, "procurement/bid_form.html", action, context=context, form=form,
                               fields=BID_YUAN)

    @get("/calls/{call_id:int}/bid", opt=PROVIDERS_OPT | {"shows": "form"})
    async def form(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        shown = await bid_form(conn, identity, call_id)
        return page(request, "procurement/bid_form.html", call=shown.call, bid=shown.bid, form=shown.form, errors={},
                    rows=ROWS, chosen=shown.chosen, problems=shown.problems, documents=shown.documents)

    @post("/calls/{call_id:int}/bid", opt=PROVIDERS_OPT)
    async def submit(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        chosen = (await request.form()).getall("attachments", [])

        async def action(form: dict[str, Any]) -> Response:
            await bids.submit(conn, identity, call_id, bid_from_form(form, chosen))
            return done(f"/calls/{call_id}#bid", "bid_submitted")
        return await self._step(request, conn, identity, call_id, action, await form_data(request), chosen)

    @post("/calls/{call_id:int}/bid/{action:str}", opt=PROVIDERS_OPT)
    async def act(self, request: Request, conn: Db, identity: User, call_id: FromPath[int],
                  action: FromPath[str]) -> Response:
        steps = {"withdraw": bids.withdraw, "confirm": bids.confirm}
        if action not in steps:
            raise Forbidden()

        async def take(form: dict[str, Any]) -> Response:
            if action == "withdraw":
                require_confirmation(form, action)
            await steps[action](conn, identity, call_id)
            return done(f"/calls/{call_id}#bid", "bid_withdrawn" if action == "withdraw" else "bid_confirmed")
        # Refused, the form shows the bid as it stands.
        form = {**(await bid_form(conn, identity, call_id)).form, **await form_data(request)}
        return await self._step(request, conn, identity, call_id, take, form)

    @get("/calls/{call_id:int}/bids", opt=SIGNED_IN_OPT)
    async def index(self, request: Request, conn: Db, identity: User, call_id: FromPath[int]) -> Response:
        call = await calls.get_call(conn, identity, call_id)
        return page(request, "procurement/bids.html", call=call, bids=await bids.readable_bids(conn, identity, call_id))


class BidApi(Controller):
    path = "/api"
    tags = ["bids"]

    @get("/calls/{call_id:int}/bids", opt=PUBLIC_OPT, summary="The bids you may read (sealed until the deadline)")
    async def index(self, conn: Db, identity: MaybeUser, call_id: FromPath[int]) -> list[Bid]:
        return await bids.readable_bids(conn, identity, call_id)

    @get("/calls/{call_id:int}/bid-count", opt=PUBLIC_OPT, summary="How many bids came in (after the deadline)")
    async def count(self, conn: Db, call_id: FromPath[int]) -> dict[str, int | None]:
        await calls.get_call(conn, None, call_id)
        return {"bids": await bids.public_count(conn, call_id)}

    @get("/bids/{bid_id:int}", opt=SIGNED_IN_OPT, summary="A bid you may read")
    async def detail(self, conn: Db, identity: User, bid_id: FromPath[int]) -> Bid:
        return await bids.get_bid(conn, identity, bid_id)

    @get("/calls/{call_id:int}/eligibility", opt=PROVIDERS_OPT, summary="Whether your organisation may bid, and why not")
    async def eligibility(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, Any]:
        rules = await eligibility(conn, identity, call_id)
        return {"eligible": not rules, "rules": rules}

    @post("/calls/{call_id:int}/bid", opt=PROVIDERS_OPT, status_code=201, summary="Submit or replace your bid")
    async def submit(self, conn: Db, identity: User, call_id: FromPath[int], data: JSONBody[BidInput]) -> Bid:
        bid_id = await bids.submit(conn, identity, call_id, data)
        return await bids.get_bid(conn, identity, bid_id)

    @post("/calls/{call_id:int}/bid/withdraw", opt=PROVIDERS_OPT, status_code=201, summary="Withdraw your bid")
    async def withdraw(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, str]:
        await bids.withdraw(conn, identity, call_id)
        return {"status": "withdrawn"}

    @post("/calls/{call_id:int}/bid/confirm", opt=PROVIDERS_OPT, status_code=201,
          summary="Confirm your bid after the call changed")
    async def confirm(self, conn: Db, identity: User, call_id: FromPath[int]) -> dict[str, str]:
        await bids.confirm(conn, identity, call_id)
        return {"status": "confirmed"}
