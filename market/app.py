"""create_app(settings): the one place the application is assembled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Annotated, Any

import asyncpg
import msgspec
import structlog
from litestar import Litestar, Request, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.connection import ASGIConnection
from litestar.openapi import OpenAPIConfig
from litestar.params import JSONBody
from litestar.response import Response
from litestar.static_files import create_static_files_router

from market import clock, db
from market.accounts.access import PUBLIC, Access
from market.accounts.controllers import AccountApi, AccountPages
from market.accounts.models import Identity
from market.audit.controllers import AuditApi, AuditPages
from market.catalogue.controllers import CatalogueApi, CataloguePages
from market.evaluation.controllers import PanelApi, PanelPages
from market.funding import online, pledges
from market.funding.controllers import FundingApi
from market.funding.fund_controllers import FundApi, FundPages, PledgeFormPages
from market.funding.gateways import gateway_from_settings
from market.funding.pages import PledgePages, StripeWebhook
from market.funding.receipt_controllers import ReceiptApi, ReceiptPages
from market.funding.resource_controllers import ResourceApi, ResourcePages
from market.matching.docking_controllers import DockingApi, DockingPages
from market.matching.fair_controllers import FairApi, FairPages
from market.matching.live import BoardHub
from market.procurement.batch_controllers import BatchApi, BatchPages
from market.procurement.bid_controllers import BidApi, BidPages
from market.procurement.call_controllers import CallApi, CallPages
from market.procurement.contract_controllers import ContractApi, ContractPages
from market.procurement.controllers import ListsPage, NeedApi, NeedPages, ProjectPages
from market.dashboard.controllers import DashboardApi, DashboardPages
from market.edge import edge_guard
from market.errors import Forbidden, MarketError
from market.logs import configure_logging
from market.notifications import services as notifications
from market.notifications.controllers import InboxApi, InboxPages
from market.openapi import DescribedJson
from market.mail.services import mailer_from_settings
from market.matching.controllers import MatchingApi, MatchingPages
from market.organisations.controllers import OrganisationApi, OrganisationPages
from market.settings import ROOT, Settings, load_settings
from market.storage.controllers import FileApi, FilePages
from market.storage.services import storage_from_settings
from market.web import Db, IdempotencyMiddleware, RequestContextMiddleware, exception_handler, identity_of, template_environment


async def provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """One connection and one transaction per request: it commits when the handler returns and rolls
    back when it raises, so a refused request leaves nothing half-written."""
    async with state.pool.acquire() as conn:
        async with conn.transaction():
            yield conn


def provide_identity(request: Request) -> Identity | None:
    return identity_of(request)


def provide_settings(state: State) -> Settings:
    return state.settings


def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Deny by default: a route that does not declare who may use it is refused to everyone."""
    access = handler.opt.get("access")
    if not isinstance(access, Access):
        raise Forbidden()
    access.check(connection.scope.get("state", {}).get("identity"))


@get("/health", opt={"access": PUBLIC}, summary="Liveness and database check", tags=["system"])
async def health(state: State) -> Response[dict[str, Any]]:
    try:
        async with state.pool.acquire(timeout=3) as conn:
            await conn.fetchval("select 1", timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError) as exc:
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok"})


class ClockMove(msgspec.Struct, forbid_unknown_fields=True):
    seconds: Annotated[float, msgspec.Meta(ge=0, le=10 * 365 * 86400)]


@post("/_test/clock", opt={"access": PUBLIC}, include_in_schema=False)
async def move_clock(data: JSONBody[ClockMove], conn: Db) -> dict[str, str]:
    """Test mode only (MARKET_TEST_CLOCK): journeys pass a deadline or a notice period honestly, the
    way time passes, instead of editing rows. The clock only ever moves forward."""
    await clock.advance(conn, timedelta(seconds=data.seconds))
    return {"now": clock.now().isoformat()}


async def _outbox(app: Litestar) -> None:
    """Every process now and then drains the notification outbox, settles all-or-nothing pledges
    whose deadline has passed and sends refunds the payment service does not have yet; SKIP LOCKED
    and the ledger's lock keep the processes apart."""
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.notify_seconds)
        try:
            await notifications.queue_deadline_reminders(app.state.pool)
            await notifications.send_pending(app.state.pool, app.state.mailer, settings)
            await pledges.settle_due(app.state.pool)
            await online.send_refunds(app.state.pool, app.state.payments)
            # A repeat of a form comes within minutes (a double click, Back); a day is ample.
            await app.state.pool.execute("delete from idempotency_keys where claimed_at < market_now() - interval '1 day'")
        except (OSError, asyncpg.PostgresError) as exc:
            structlog.get_logger(__name__).warning("outbox.failed", error=str(exc))


def create_app(settings: Settings | None = None, dsn: str | None = None) -> Litestar:
    settings = settings or load_settings()
    configure_logging(settings)
    pool_dsn = dsn or settings.database_url

    async def on_startup(app: Litestar) -> None:
        app.state.pool = await db.create_pool(settings, pool_dsn)
        async with app.state.pool.acquire() as conn:
            await clock.load(conn)
        app.state.boards = BoardHub(app.state.pool, pool_dsn)
        if settings.notify_seconds:
            app.state.outbox = asyncio.create_task(_outbox(app))

    async def on_shutdown(app: Litestar) -> None:
        boards = getattr(app.state, "boards", None)
        if boards is not None:
            await boards.close()
        outbox = getattr(app.state, "outbox", None)
        if outbox is not None:
            outbox.cancel()
        pool = getattr(app.state, "pool", None)
        if pool is not None:
            await pool.close()

    static = create_static_files_router(
        path="/static", directories=[ROOT / "static"], opt={"access": PUBLIC}, include_in_schema=False,
        name="static",
    )
    return Litestar(
        route_handlers=[*([move_clock] if settings.test_clock else []), health, static, DashboardPages, DashboardApi,
                        AccountPages, AccountApi, OrganisationPages,
                        OrganisationApi, AuditPages, AuditApi, FilePages, FileApi, CataloguePages, CatalogueApi,
                        NeedPages, ProjectPages, NeedApi, ListsPage, CallPages, CallApi, BidPages, BidApi,
                        BatchPages, BatchApi, PanelPages, PanelApi, ContractPages, ContractApi, InboxPages, InboxApi,
                        FundingApi, PledgePages, StripeWebhook, ReceiptPages, ReceiptApi, ResourcePages,
                        ResourceApi, FundPages, PledgeFormPages, FundApi, FairPages, FairApi, DockingPages, DockingApi,
                        MatchingPages,
                        MatchingApi],
        dependencies={"conn": Provide(provide_conn), "identity": Provide(provide_identity, sync_to_thread=False),
                      "settings": Provide(provide_settings, sync_to_thread=False)},
        guards=[access_guard, edge_guard],
        middleware=[RequestContextMiddleware(), IdempotencyMiddleware()],
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_name="market_csrf", cookie_secure=settings.secure_cookies,
                               cookie_samesite="lax", header_name="x-csrftoken",
                               # Stripe signs its deliveries instead; the webhook verifies the signature.
                               exclude=["/stripe/webhook"]),
        exception_handlers={Exception: exception_handler},
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State({"settings": settings, "templates": template_environment(),
                     "storage": storage_from_settings(settings), "mailer": mailer_from_settings(settings),
                     "payments": gateway_from_settings(settings)}),
        # JSON only: the interactive viewers load their scripts from CDNs, and every asset must be ours.
        openapi_config=OpenAPIConfig(
            title="公益服务市场 market API", version="1", path="/schema",
            render_plugins=[DescribedJson(path=["/", "/openapi.json"])],
            openapi_router=Router(path="/schema", route_handlers=[], opt={"access": PUBLIC}, include_in_schema=False),
        ),
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        debug=settings.debug,
        logging_config=None,
    )


def create_app_from_environment() -> Litestar:
    """For `uvicorn --factory` worker processes: everything comes from the environment."""
    return create_app()


__all__ = ["create_app", "create_app_from_environment", "MarketError"]
