"""The home page and each role's dashboard."""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from market.accounts import services as accounts
from market.accounts.access import PUBLIC, SIGNED_IN
from market.audit import services as audit
from market.db import fetch, queries
from market.funding import dashboards, pledges
from market.organisations import services as organisations
from market.procurement import bids, needs
from market.storage import services as storage
from market.web import Db, User, page


class DashboardPages(Controller):
    include_in_schema = False

    @get("/", opt={"access": PUBLIC})
    async def home(self, request: Request, conn: Db) -> Response:
        by_kind = {r["kind"]: r["n"] for r in await fetch(queries.organisations.count_verified_by_kind(conn))}
        return page(request, "home.html", by_kind=by_kind)

    @get("/dashboard", opt={"access": SIGNED_IN})
    async def dashboard(self, request: Request, conn: Db, identity: User) -> Response:
        context: dict = {
            "memberships": await accounts.memberships_of(conn, identity.user_id),
            "files": await storage.files_for(conn, identity, 20),
            "activity": await audit.events_for_organisation(conn, identity.org_id, 10) if identity.org_id else [],
            "pending": [],
            "members": [],
            "errors": {},
            "funding": None,
            "transfers_waiting": 0,
            "my_needs": await needs.my_needs(conn, identity),
            "my_bids": await bids.bids_of(conn, identity),
            "area": await conn.fetchval("select jurisdiction_id from organisations where id = $1", identity.org_id)
            if identity.org_kind == "buyer" else None,
        }
        if identity.org_kind == "funder" and identity.acts_for_verified:
            context["funding"] = await dashboards.funder_view(conn, identity)
        if identity.org_kind == "buyer" and identity.acts_for_verified:
            context["transfers_waiting"] = len(await pledges.payments_to_decide(conn, identity))
        if identity.is_platform_admin:
            context["pending"] = await organisations.awaiting_verification(conn, identity, 20)
        if identity.org_id is not None and identity.role == "admin":
            context["members"] = await accounts.members(conn, identity, identity.org_id)
        return page(request, f"dashboard/{identity.dashboard}.html", **context)
