"""The audit trail for platform administrators, the page and its JSON twin."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from market.audit import services as audit
from market.core.access import PLATFORM_ADMIN
from market.core.web import PAGE_SIZE, Db, Offset, page, pager

ADMIN_OPT = {"access": PLATFORM_ADMIN}


class AuditPages(Controller):
    include_in_schema = False

    @get("/admin/audit", opt=ADMIN_OPT)
    async def trail(self, request: Request, conn: Db, offset: Offset = 0) -> Response:
        trail = await audit.trail(conn, PAGE_SIZE, offset)
        return page(request, "audit/trail.html", **msgspec.structs.asdict(trail),
                    pager=pager(request, offset, PAGE_SIZE, trail.total, len(trail.events)))


class AuditApi(Controller):
    path = "/api/admin"
    tags = ("audit",)

    @get("/audit", opt=ADMIN_OPT, summary="The audit trail, newest first, and how many events there are in all")
    async def trail(self, conn: Db, limit: Annotated[int, QueryParameter(ge=1, le=1000)] = PAGE_SIZE,
                    offset: Offset = 0) -> audit.Trail:
        return await audit.trail(conn, limit, offset)
