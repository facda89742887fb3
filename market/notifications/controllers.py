"""The inbox page and its JSON twin."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from market.core.access import SIGNED_IN
from market.core.web import PAGE_SIZE, Db, Offset, User, page, pager, redirect
from market.notifications import services as notifications
from market.notifications.services import Notification

SIGNED_IN_OPT = {"access": SIGNED_IN}


class InboxPages(Controller):
    include_in_schema = False

    @get("/inbox", opt=SIGNED_IN_OPT)
    async def inbox(self, request: Request, conn: Db, identity: User, offset: Offset = 0) -> Response:
        items = await notifications.inbox(conn, identity.user_id, PAGE_SIZE, offset)
        return page(request, "notifications/inbox.html", items=items,
                    pager=pager(request, offset, PAGE_SIZE, await notifications.count(conn, identity.user_id),
                                len(items)))

    @post("/inbox/read", opt=SIGNED_IN_OPT)
    async def read_all(self, conn: Db, identity: User) -> Response:
        await notifications.mark_read(conn, identity.user_id)
        return redirect("/inbox")

    @get("/inbox/{notification_id:int}", opt=SIGNED_IN_OPT)
    async def open(self, conn: Db, identity: User, notification_id: FromPath[int]) -> Response:
        """Mark it read and go where it points."""
        link = await conn.fetchval("select link from notifications where id = $1 and user_id = $2",
                                   notification_id, identity.user_id)
        await notifications.mark_read(conn, identity.user_id, notification_id)
        return redirect(link or "/inbox")


class InboxApi(Controller):
    path = "/api/inbox"
    tags = ("notifications",)

    @get("/", opt=SIGNED_IN_OPT, summary="My notifications, newest first")
    async def inbox(self, conn: Db, identity: User) -> list[Notification]:
        return await notifications.inbox(conn, identity.user_id)

    @post("/{notification_id:int}/read", opt=SIGNED_IN_OPT, status_code=204, summary="Mark a notification read")
    async def read(self, conn: Db, identity: User, notification_id: FromPath[int]) -> None:
        await notifications.mark_read(conn, identity.user_id, notification_id)
