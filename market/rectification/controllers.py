"""The public list of rectification items, the item page (the owner's fix, the buyer's verification)
and their JSON twins. The rules are in `rectification.services`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from market.core.access import PUBLIC, Identity, member
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import (PAGE_SIZE, Config, CursorParam, Db, MaybeUser, User, done, keyset_pager, page,
                             require_confirmation)
from market.rectification import services as items
from market.rectification.models import ItemList, ItemView, ReasonInput

PUBLIC_OPT = {"access": PUBLIC}
ORGANISATIONS_OPT = {"access": member(N_("organisations"), "provider", "buyer")}
# The buyer verifies; above a district's bureau, the platform does (`complaints.finding_of`).
BUYERS_OPT = {"access": member(N_("buyers and the platform"), "buyer", "platform")}
TEMPLATE = "rectification/item.html"
Status = Literal["open", "fix_submitted", "verified", "withdrawn", "late"]
Organisation = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]


async def _form(request: Request, conn: asyncpg.Connection, identity: Identity, item_id: int,
                action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
    """A form of the item page: on a refusal, the page again with the problem."""
    async def context() -> Mapping[str, Any]:
        return {"view": await items.item_view(conn, request.app.state.settings, identity, item_id)}

    return await form_step(request, conn, TEMPLATE, action, context=context)


async def _uploads(request: Request, limit: int) -> list[tuple[bytes, str]]:
    chosen = [u for u in (await request.form()).getall("evidence", []) if isinstance(u, UploadFile) and u.filename]
    return [(await u.read(limit + 1), u.filename) for u in chosen]


class RectificationPages(Controller):
    include_in_schema = False

    @get("/rectification", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, status: FromQuery[Status | None] = None, organisation: Organisation = None,
                    escalated_to: Organisation = None, cursor: CursorParam = None) -> Response:
        found = await items.public_list(conn, status=status, organisation_id=organisation, escalated_to=escalated_to,
                                        cursor=cursor, limit=PAGE_SIZE)
        return page(request, "rectification/list.html", found=found, pager=keyset_pager(request, found, len(found.items)))

    @get("/rectification/{item_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, item_id: FromPath[int]) -> Response:
        view = await items.item_view(conn, request.app.state.settings, identity, item_id)
        return page(request, TEMPLATE, view=view, form={}, errors={})

    @post("/rectification/{item_id:int}/fix", opt=ORGANISATIONS_OPT)
    async def fix(self, request: Request, conn: Db, identity: User, item_id: FromPath[int]) -> Response:
        state = request.app.state

        async def action(form: dict[str, Any]) -> Response:
            await items.submit_fix(conn, state.storage, state.settings, identity, item_id, form.get("text", ""),
                                   await _uploads(request, state.settings.max_upload_bytes))
            return done(items.link(item_id), "rectification_submitted")

        return await _form(request, conn, identity, item_id, action)

    @post("/rectification/{item_id:int}/verify", opt=BUYERS_OPT)
    async def verify(self, request: Request, conn: Db, identity: User, item_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            require_confirmation(form, "verify")
            await items.verify(conn, identity, item_id)
            return done(items.link(item_id), "rectification_verified")

        return await _form(request, conn, identity, item_id, action)

    @post("/rectification/{item_id:int}/reject", opt=BUYERS_OPT)
    async def reject(self, request: Request, conn: Db, identity: User, item_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await items.reject(conn, identity, item_id, form.get("reason", ""))
            return done(items.link(item_id), "rectification_rejected")

        return await _form(request, conn, identity, item_id, action)

    @post("/rectification/{item_id:int}/withdraw", opt=BUYERS_OPT)
    async def withdraw(self, request: Request, conn: Db, identity: User, item_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await items.withdraw(conn, identity, item_id, form.get("withdraw_reason", ""))
            return done(items.link(item_id), "rectification_withdrawn")

        return await _form(request, conn, identity, item_id, action)


class RectificationApi(Controller):
    path = "/api"
    tags = ("rectification",)

    @get("/rectification", opt=PUBLIC_OPT, summary="Rectification items (整改), public, newest first: filter by status "
                                                  "(or late), by organisation (as owner or buyer) and by whom "
                                                  "unfinished items were escalated to (`escalated_to`)")
    async def index(self, conn: Db, status: FromQuery[Status | None] = None, organisation: Organisation = None,
                    escalated_to: Organisation = None, cursor: CursorParam = None) -> ItemList:
        return await items.public_list(conn, status=status, organisation_id=organisation, escalated_to=escalated_to,
                                       cursor=cursor, limit=PAGE_SIZE)

    @get("/rectification/{item_id:int}", opt=PUBLIC_OPT,
         summary="A rectification item; its fixes, evidence links and rejections for its parties only")
    async def show(self, conn: Db, identity: MaybeUser, settings: Config, item_id: FromPath[int]) -> ItemView:
        return await items.item_view(conn, settings, identity, item_id)

    @post("/rectification/{item_id:int}/fix", opt=ORGANISATIONS_OPT, status_code=201,
          summary="Submit a fix (multipart: `text` and one or more `evidence` files); a photo's location is removed")
    async def fix(self, request: Request, conn: Db, identity: User, settings: Config, item_id: FromPath[int],
                  data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> ItemView:
        await items.submit_fix(conn, request.app.state.storage, settings, identity, item_id, str(data.get("text") or ""),
                               await _uploads(request, settings.max_upload_bytes))
        return await items.item_view(conn, settings, identity, item_id)

    @post("/rectification/{item_id:int}/verify", opt=BUYERS_OPT, status_code=201, summary="Verify the fix")
    async def verify(self, conn: Db, identity: User, settings: Config, item_id: FromPath[int]) -> ItemView:
        await items.verify(conn, identity, item_id)
        return await items.item_view(conn, settings, identity, item_id)

    @post("/rectification/{item_id:int}/reject", opt=BUYERS_OPT, status_code=201,
          summary="Reject the fix, saying why: the item is open again")
    async def reject(self, conn: Db, identity: User, settings: Config, item_id: FromPath[int],
                     data: JSONBody[ReasonInput]) -> ItemView:
        await items.reject(conn, identity, item_id, data.reason)
        return await items.item_view(conn, settings, identity, item_id)

    @post("/rectification/{item_id:int}/withdraw", opt=BUYERS_OPT, status_code=201,
          summary="Withdraw an item raised in error, saying why")
    async def withdraw(self, conn: Db, identity: User, settings: Config, item_id: FromPath[int],
                       data: JSONBody[ReasonInput]) -> ItemView:
        await items.withdraw(conn, identity, item_id, data.reason)
        return await items.item_view(conn, settings, identity, item_id)
