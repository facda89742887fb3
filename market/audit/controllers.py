"""The audit trail for platform administrators."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from market.audit import services as audit
from market.audit.models import AuditEvent
from market.core.access import PLATFORM_ADMIN
from market.core.web import PAGE_SIZE, Db, Offset, page, pager

ADMIN_OPT = {"access": PLATFORM_ADMIN}


class AuditPages(Controller):
    include_in_schema = False

    @get("/admin/audit", opt=ADMIN_OPT)
    async def trail(self, request: Request, conn: Db, offset: Offset = 0) -> Response:
        events = await audit.recent_events(conn, PAGE_SIZE, offset)
        return page(request, "audit/trail.html", events=events,
                    pager=pager(request, offset, PAGE_SIZE, await audit.count_events(conn), len(events)))


class AuditApi(Controller):
    path = "/api/admin"
    tags = ("audit",)

    @get("/audit", opt=ADMIN_OPT, summary="Recent audit events, newest first")
    async def trail(self, conn: Db,
                    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100) -> list[AuditEvent]:
        return await audit.recent_events(conn, limit)
