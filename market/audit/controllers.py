"""The audit trail for platform administrators, the page and its JSON twin."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from market.audit import services as audit
from market.core.access import PLATFORM_ADMIN
from market.core.web import PAGE_SIZE, CursorParam, Db, keyset_pager, page

ADMIN_OPT = {"access": PLATFORM_ADMIN}
Organisation = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]
ObjectType = Annotated[str | None, QueryParameter(max_length=60)]
ObjectId = Annotated[str | None, QueryParameter(max_length=60)]


class AuditPages(Controller):
    include_in_schema = False

    @get("/admin/audit", opt=ADMIN_OPT)
    async def trail(self, request: Request, conn: Db, organisation: Organisation = None, object_type: ObjectType = None,
                    object_id: ObjectId = None, cursor: CursorParam = None) -> Response:
        trail = await audit.trail(conn, organisation=organisation, object_type=object_type, object_id=object_id,
                                  cursor=cursor, limit=PAGE_SIZE)
        return page(request, "audit/trail.html", **msgspec.structs.asdict(trail),
                    pager=keyset_pager(request, trail, len(trail.events)))


class AuditApi(Controller):
    path = "/api/admin"
    tags = ("audit",)

    @get("/audit", opt=ADMIN_OPT, summary="The audit trail, newest first (of one organisation, or one object, when "
                                         "asked), and how many events there are")
    async def trail(self, conn: Db, limit: Annotated[int, QueryParameter(ge=1, le=1000)] = PAGE_SIZE,
                    organisation: Organisation = None, object_type: ObjectType = None, object_id: ObjectId = None,
                    cursor: CursorParam = None) -> audit.Trail:
        return await audit.trail(conn, organisation=organisation, object_type=object_type, object_id=object_id,
                                 cursor=cursor, limit=limit)
