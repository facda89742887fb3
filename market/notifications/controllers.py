"""The inbox page and its JSON twin."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from market.core.access import SIGNED_IN
from market.core.web import PAGE_SIZE, CursorParam, Db, User, done, keyset_pager, page, redirect
from market.notifications import services as notifications

SIGNED_IN_OPT = {"access": SIGNED_IN}


class InboxPages(Controller):
    include_in_schema = False

    @get("/inbox", opt=SIGNED_IN_OPT)
    async def inbox(self, request: Request, conn: Db, identity: User, unread: FromQuery[bool] = False,
                    cursor: CursorParam = None) -> Response:
        inbox = await notifications.inbox_page(conn, identity.user_id, unread_only=unread, cursor=cursor,
                                               limit=PAGE_SIZE)
        return page(request, "notifications/inbox.html", **msgspec.structs.asdict(inbox),
                    pager=keyset_pager(request, inbox, len(inbox.items)))

    @post("/inbox/read", opt=SIGNED_IN_OPT)
    async def read_all(self, request: Request, conn: Db, identity: User) -> Response:
        """Marked from the unread list, the person stays on it (now saying that all is read)."""
        await notifications.mark_read(conn, identity.user_id)
        unread_only = (await request.form()).get("unread") == "true"
        return done("/inbox?unread=true" if unread_only else "/inbox", "inbox_read")

    @get("/inbox/{notification_id:int}", opt={**SIGNED_IN_OPT, "shows": "redirect"})
    async def open(self, conn: Db, identity: User, notification_id: FromPath[int]) -> Response:
        """Mark it read and go where it points, or first to the switch to the organisation it is for."""
        return redirect(await notifications.open_notification(conn, identity.user_id, identity.org_id, notification_id)
                        or "/inbox")


class InboxApi(Controller):
    path = "/api/inbox"
    tags = ("notifications",)

    @get("/", opt=SIGNED_IN_OPT, summary="My notifications (with `unread`, the unread ones), newest first, "
                                         "and how many there are in all")
    async def inbox(self, conn: Db, identity: User, unread: FromQuery[bool] = False,
                    cursor: CursorParam = None) -> notifications.Inbox:
        return await notifications.inbox_page(conn, identity.user_id, unread_only=unread, cursor=cursor,
                                              limit=PAGE_SIZE)

    @post("/{notification_id:int}/read", opt=SIGNED_IN_OPT, status_code=204, summary="Mark a notification read")
    async def read(self, conn: Db, identity: User, notification_id: FromPath[int]) -> None:
        await notifications.mark_read(conn, identity.user_id, notification_id)
