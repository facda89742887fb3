"""The OCDS release packages (`ocds.py`): every published call's compiled release a page at a time,
and one call's. Public, as the pages they repeat are."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from market.core.access import PUBLIC
from market.core.errors import NotFound
from market.core.web import Config, CursorParam, Db
from market.opendata import ocds

PUBLIC_OPT = {"access": PUBLIC}


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
