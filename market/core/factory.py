"""The app factory: one Litestar app from the list of domains `market.app` hands it. What every
request needs (a connection in a transaction, who is asking, the settings, the access guard) and
the routes of the whole system (health, the test clock) live here; everything else comes from the
domains."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator, Sequence
from datetime import timedelta
from typing import Annotated, Any, cast

import asyncpg
import msgspec
import structlog
from litestar import Litestar, Request, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.params import JSONBody
from litestar.response import Response
from litestar.static_files import create_static_files_router
from litestar.enums import ScopeType
from litestar.types import HTTPScope, LifeSpanReceive, LifeSpanScope, LifeSpanSend, Message, Receive, ReceiveMessage, Scope, Send

from market.core import clock, db, i18n
from market.core.access import PUBLIC, Access, Identity
from market.core.domain import Domain, merged
from market.core.edge import edge_guard
from market.core.errors import Forbidden
from market.core.logs import configure_logging
from market.core.openapi import DescribedJson
from market.core.settings import ROOT, Settings, SettingsError
from market.core.web import (
    Config,
    Db,
    IdempotencyMiddleware,
    MaybeUser,
    RequestContextMiddleware,
    compile_templates,
    exception_handler,
    identity_of,
    safe_headers,
    template_environment,
)

log = structlog.get_logger(__name__)


# The three dependencies form a chain (settings, then identity, then conn), though none uses the one
# before it: litestar resolves dependencies of one level in an anyio task group, a tenth of a cheap
# request's processor time, and one a level needs none.


async def provide_conn(state: State, identity: MaybeUser,
                       request: Request[Any, Any, Any]) -> AsyncGenerator[asyncpg.Connection, None]:
    """One connection and one transaction per request: it commits when the handler returns and rolls
    back when it raises, so a refused request leaves nothing half-written. A HEAD (answered as GET,
    `Market`) is always rolled back: a link checker's or monitor's HEAD of a page that records its
    reading (opening a notice marks it read) changes nothing."""
    async with state.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        except BaseException:
            await transaction.rollback()
            raise
        if request.scope["state"].get("head"):
            await transaction.rollback()
        else:
            await transaction.commit()


def provide_identity(request: Request[Any, Any, Any], settings: Config) -> Identity | None:
    return identity_of(request)


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Deny by default: a route that does not declare who may use it is refused to everyone; then the
    edge's checks (`edge_guard`). One guard, as litestar copies the handler for each guard on every
    request. Async though it awaits nothing: litestar runs a plain function guard in a thread."""
    access = handler.opt.get("access")
    if not isinstance(access, Access):
        raise Forbidden()
    access.check(connection.scope.get("state", {}).get("identity"))
    await edge_guard(connection, handler)


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


async def forget_idempotency_keys(state: State) -> None:
    # A repeat of a form comes within minutes (a double click, Back); a day is ample.
    await state.pool.execute("delete from idempotency_keys where claimed_at < market_now() - interval '1 day'")


async def _periodic(app: Litestar, domains: Sequence[Domain]) -> None:
    """Every process now and then runs every domain's jobs (sending the outbox, settling pledges,
    reminders); each job keeps the processes apart itself. One job failing does not stop the rest."""
    jobs = [forget_idempotency_keys, *(job for domain in domains for job in domain.jobs)]
    while True:
        await asyncio.sleep(app.state.settings.notify_seconds)
        for job in jobs:
            try:
                await job(app.state)
            except (OSError, asyncpg.PostgresError) as exc:  # the database or a service is away for now
                log.warning("job.failed", job=job.__qualname__, error=str(exc))
            except Exception as exc:  # a defect: reported with its trace, and the other jobs go on
                log.exception("job.failed", job=job.__qualname__, exc_info=exc)


def install(domains: Sequence[Domain]) -> None:
    """What the domains take up from each other (e.g. notification kinds); for the app, the CLI and
    tests alike. Safe to call more than once."""
    for domain in domains:
        if domain.install is not None:
            domain.install(domains)


def check_settings(settings: Settings, domains: Sequence[Domain]) -> Settings:
    problems = [problem for domain in domains if domain.check_settings for problem in domain.check_settings(settings)]
    if problems:
        raise SettingsError(problems[0])
    return settings


# The settings a built app keeps in its routes and configuration; every other setting it reads from
# its state, which `rebind` may replace.
BUILT_FROM = ("test_clock", "secret_key", "secure_cookies", "max_upload_bytes", "debug")


def _settings_state(settings: Settings, domains: Sequence[Domain], dsn: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"settings": settings, "dsn": dsn or settings.database_url}
    for domain in domains:
        if domain.state is not None:
            state.update(domain.state(settings))
    return state


def build_app(settings: Settings, domains: Sequence[Domain], dsn: str | None = None) -> Litestar:
    check_settings(settings, domains)
    install(domains)
    configure_logging(settings)
    identify = next((d.identify for d in domains if d.identify is not None), None)
    if identify is None:
        raise ValueError("no domain answers who a session belongs to")

    async def on_startup(app: Litestar) -> None:
        app.state.pool = await db.create_pool(app.state.settings, app.state.dsn)
        async with app.state.pool.acquire() as conn:
            await clock.load(conn)
        for domain in domains:
            for hook in domain.on_startup:
                await hook(app)
        if app.state.settings.notify_seconds:
            app.state.periodic = asyncio.create_task(_periodic(app, domains))
        # What a process's first request would wait for: the catalogues, babel's data, the templates
        # (with MARKET_DEBUG a template is read again when it changes, so not then).
        i18n.load()
        if not app.state.settings.debug:
            compile_templates(app.state.templates)
        # What start-up made (routes, templates, translations, libraries) lives as long as the process:
        # out of the collector's sight, a full collection no longer walks it, and a request waits less.
        gc.collect()
        gc.freeze()

    async def on_shutdown(app: Litestar) -> None:
        periodic = getattr(app.state, "periodic", None)
        if periodic is not None:
            periodic.cancel()
        for domain in reversed(domains):
            for hook in domain.on_shutdown:
                await hook(app)
        pool = getattr(app.state, "pool", None)
        if pool is not None:
            await pool.close()

    static = create_static_files_router(
        path="/static", directories=[ROOT / "static"], opt={"access": PUBLIC}, include_in_schema=False,
        name="static",
    )
    state: dict[str, Any] = {
        "templates": template_environment(merged(domains, "template_globals"), settings.debug),
        "done_messages": merged(domains, "done_messages"), "identify": identify,
        "request_state": [d.request_state for d in domains if d.request_state is not None],
        **_settings_state(settings, domains, dsn),
    }
    return Market(
        route_handlers=[*([move_clock] if settings.test_clock else []), health, static,
                        *(route for domain in domains for route in domain.routes)],
        dependencies={"conn": Provide(provide_conn), "identity": Provide(provide_identity, sync_to_thread=False),
                      "settings": Provide(provide_settings, sync_to_thread=False)},
        guards=[access_guard],
        middleware=[RequestContextMiddleware(), IdempotencyMiddleware()],
        before_send=[safe_headers],
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_name="market_csrf", cookie_secure=settings.secure_cookies,
                               cookie_samesite="lax", header_name="x-csrftoken",
                               exclude=[path for domain in domains for path in domain.csrf_exempt]),
        exception_handlers={Exception: exception_handler},
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        state=State(state),
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


class Market(Litestar):
    """Litestar answering HEAD as it answers GET, without the body (RFC 9110: every server supports
    both): a load balancer's or monitor's check, a link checker, a cache revalidating. Its router
    refuses HEAD (405) wherever no handler declares it, before any middleware runs."""

    async def __call__(self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive,
                       send: Send | LifeSpanSend) -> None:
        http = cast("HTTPScope", scope)
        if scope["type"] == ScopeType.HTTP and http["method"] == "HEAD":
            http_send, http_receive = cast("Send", send), cast("Receive", receive)
            answered = False

            async def headers_only(message: Message) -> None:
                # The headers, content-length among them, are GET's; the answer ends with them, so a
                # stream (a fair's board) ends too, rather than running until the client leaves.
                nonlocal answered
                if message["type"] == "http.response.start":
                    await http_send(message)
                    await http_send({"type": "http.response.body", "body": b"", "more_body": False})
                    answered = True
                elif not answered:
                    await http_send(message)

            async def gone_once_answered() -> ReceiveMessage:
                # A stream listens for the client leaving and stops; after a HEAD's headers it has.
                return {"type": "http.disconnect"} if answered else await http_receive()

            # The request's log line says what was asked (web.RequestContextMiddleware).
            as_get = cast("HTTPScope", {**http, "method": "GET", "state": {**http.get("state", {}), "head": True}})
            await super().__call__(as_get, gone_once_answered, headers_only)
            return
        await super().__call__(scope, receive, send)


def rebind(app: Litestar, settings: Settings, domains: Sequence[Domain], dsn: str | None = None) -> None:
    """Point a stopped app at other settings and another database, as building it afresh from them
    would, where the settings it was built from agree on `BUILT_FROM`. Building takes a second or
    two (litestar reads every handler's signature); the test suite builds one app and rebinds it
    for each test's own database and data directory."""
    for name in BUILT_FROM:
        if getattr(settings, name) != getattr(app.state.settings, name):
            raise ValueError(f"the app was built with another {name}; build one for these settings")
    check_settings(settings, domains)
    configure_logging(settings)
    app.state.update(_settings_state(settings, domains, dsn))
