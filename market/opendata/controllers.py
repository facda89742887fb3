"""The open data: its page (what there is and how to take it, with the bulk file) and its JSON twin,
the bulk file itself (`bulk.py`), and the OCDS release packages (`ocds.py`): every published call's
compiled release a page at a time, and one call's. Public, as the pages they repeat are."""

from __future__ import annotations

import asyncio
from email.utils import format_datetime
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath

from market.core.access import PUBLIC
from market.core.errors import NotFound, Unavailable
from market.core.web import Config, CursorParam, Db, page
from market.opendata import bulk, ocds
from market.opendata.views import OpenData, open_data

PUBLIC_OPT = {"access": PUBLIC}


class OpenDataPages(Controller):
    include_in_schema = False

    @get("/opendata", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, settings: Config) -> Response:
        return page(request, "opendata/opendata.html", view=await open_data(conn, settings))

    @get(bulk.PATH, opt={**PUBLIC_OPT, "shows": "file"})
    async def download(self, request: Request, conn: Db, state: State) -> Response:
        found = await bulk.newest(conn)
        if found is None:  # asked for before any process made it: made now (its own connection and snapshot)
            async with state.pool.acquire() as own:
                await bulk.make_if_due(own, state.storage, state.settings)
            found = await bulk.newest(conn)
        if found is None:
            raise Unavailable("The bulk file is being made: try again in a minute.")
        made, key = found
        # Read again only when it changed: a reader that keeps the file asks with its ETag.
        headers = {"ETag": f'"{made.sha256}"', "Last-Modified": format_datetime(made.made_at, usegmt=True),
                   "Cache-Control": "public, max-age=3600",
                   "Content-Disposition": 'attachment; filename="ocds-releases.json.gz"'}
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(b"", status_code=304, headers=headers)
        try:
            data = await asyncio.to_thread(state.storage.get, key)
        except FileNotFoundError:
            raise NotFound() from None
        return Response(data, media_type=bulk.CONTENT_TYPE, headers=headers)


class OcdsApi(Controller):
    path = "/api/ocds"
    tags = ("open data",)

    @get("/releases", opt=PUBLIC_OPT,
         summary="Open data (OCDS 1.1): every published call's compiled release (tender, awards, contracts, their "
                 "milestones and payments), a release package of 25 at a time in the calls' order, `links.next` the "
                 "next page")
    async def releases(self, request: Request, conn: Db, settings: Config, cursor: CursorParam = None) -> dict[str, Any]:
        return await ocds.page(conn, settings, cursor, f"{settings.base_url}{request.url.path}"
                               + (f"?{request.url.query}" if request.url.query else ""))

    @get("/calls/{call_id:int}", opt=PUBLIC_OPT,
         summary="Open data (OCDS 1.1): one published call's compiled release, in a release package")
    async def call(self, conn: Db, settings: Config, call_id: FromPath[int]) -> dict[str, Any]:
        found = await ocds.package(conn, settings, [call_id], f"{settings.base_url}/api/ocds/calls/{call_id}")
        if not found["releases"]:
            raise NotFound()
        return found


class OpenDataApi(Controller):
    path = "/api/opendata"
    tags = ("open data",)

    @get("/", opt=PUBLIC_OPT, summary="What open data there is: the release packages' address, the bulk file "
                                     "(made daily: when, how many releases, its size and SHA-256) and the licence")
    async def show(self, conn: Db, settings: Config) -> OpenData:
        return await open_data(conn, settings)
