"""The home page and each role's dashboard (the workbench), with its JSON twin."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get

from market.accounts import services as accounts
from market.core.access import PUBLIC, SIGNED_IN
from market.core.web import Config, Db, User, page
from market.dashboard import services as dashboard
from market.dashboard.models import STATE_NAMES, TASK_DATES, TASK_NAMES, Home, Workbench
from market.organisations import services as organisations
from market.storage import services as storage


class DashboardPages(Controller):
    include_in_schema = False

    @get("/", opt={"access": PUBLIC, "twin": "/api/home"})
    async def home(self, request: Request, conn: Db) -> Response:
        return page(request, "home.html", **msgspec.structs.asdict(await _home(conn)))

    @get("/dashboard", opt={"access": SIGNED_IN})
    async def dashboard(self, request: Request, conn: Db, identity: User, settings: Config) -> Response:
        members = (await accounts.members(conn, identity, identity.org_id)
                   if identity.org_id is not None and identity.role == "admin" else [])
        return page(request, f"dashboard/{identity.dashboard}.html",
                    bench=await dashboard.workbench(conn, identity, settings.milestone_early_days),
                    TASK_NAMES=TASK_NAMES, TASK_DATES=TASK_DATES, STATE_NAMES=STATE_NAMES,
                    memberships=await accounts.memberships_of(conn, identity.user_id),
                    files=await storage.files_for(conn, identity, 20), members=members)


async def _home(conn: Db) -> Home:
    return Home(by_kind=await organisations.verified_by_kind(conn))


class HomeApi(Controller):
    path = "/api/home"
    tags = ("dashboard",)

    @get("/", opt={"access": PUBLIC}, summary="The home page: how many verified organisations of each kind take part")
    async def home(self, conn: Db) -> Home:
        return await _home(conn)


class DashboardApi(Controller):
    path = "/api/dashboard"
    tags = ("dashboard",)

    @get("/", opt={"access": SIGNED_IN},
         summary="My workbench: what waits for me, oldest date first, and my organisation's recent activity")
    async def workbench(self, conn: Db, identity: User, settings: Config) -> Workbench:
        return await dashboard.workbench(conn, identity, settings.milestone_early_days)
