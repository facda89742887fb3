import asyncio
import shutil

import asyncpg
import pytest

from market.core import db


async def _fresh(pg_server, name):
    admin = await asyncpg.connect(pg_server.dsn)
    await admin.execute(f"drop database if exists {name} with (force)")
    await admin.execute(f"create database {name}")
    await admin.close()
    return await db.connect_admin(pg_server._server.get_uri(name))


async def test_upgrade_applies_everything_once_and_status_says_so(pg_server):
    conn = await _fresh(pg_server, "mig_once")
    try:
        names = [m.name for m in db.load_migrations()]
        before = await db.migration_status(conn)
        assert [s.applied_at for s in before] == [None] * len(names)
        assert await db.migrate(conn) == names
        assert await db.migrate(conn) == []
        after = await db.migration_status(conn)
        assert all(s.applied_at and not s.changed for s in after)
    finally:
        await conn.close()


async def test_a_changed_applied_migration_is_refused(pg_server, tmp_path):
    for m in sorted(db.MIGRATIONS_DIR.glob("*.sql")):
        shutil.copy(m, tmp_path / m.name)
    conn = await _fresh(pg_server, "mig_changed")
    try:
        await db.migrate(conn, tmp_path)
        first = min(tmp_path.glob("*.sql"))
        first.write_text(first.read_text() + "\n-- edited later\n")
        (tmp_path / "9999_more.sql").write_text("create table should_not_appear (id int);")
        with pytest.raises(db.MigrationError, match=f"{first.name} was changed after it was applied"):
            await db.migrate(conn, tmp_path)
        # nothing after the refusal ran
        assert await conn.fetchval("select to_regclass('should_not_appear')") is None
        status = {s.name: s for s in await db.migration_status(conn, tmp_path)}
        assert status[first.name].changed and status["9999_more.sql"].applied_at is None
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_no_trace(pg_server, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("create table ok_table (id int);")
    (tmp_path / "0002_broken.sql").write_text("create table half (id int); select no_such_function();")
    conn = await _fresh(pg_server, "mig_broken")
    try:
        with pytest.raises(asyncpg.PostgresError):
            await db.migrate(conn, tmp_path)
        assert await conn.fetchval("select to_regclass('ok_table')") is not None
        assert await conn.fetchval("select to_regclass('half')") is None
        assert [r["name"] for r in await conn.fetch("select name from schema_migrations")] == ["0001_ok.sql"]
    finally:
        await conn.close()


async def test_concurrent_upgrades_apply_each_migration_once(pg_server):
    await (await _fresh(pg_server, "mig_race")).close()
    dsn = pg_server._server.get_uri("mig_race")
    conns = [await db.connect_admin(dsn) for _ in range(4)]
    try:
        results = await asyncio.gather(*(db.migrate(c) for c in conns))
        applied = [name for r in results for name in r]
        assert sorted(applied) == sorted(m.name for m in db.load_migrations())
    finally:
        for c in conns:
            await c.close()


def test_badly_named_migration_is_refused(tmp_path):
    (tmp_path / "1_first.sql").write_text("select 1;")
    with pytest.raises(db.MigrationError, match=r"NNNN_name\.sql"):
        db.load_migrations(tmp_path)


async def test_a_pooled_connection_has_met_the_apps_types_before_its_first_request(pool) -> None:
    # asyncpg looks a type up in the catalogue the first time a connection meets it: three statements
    # more (and 6-17 ms on a fresh connection) in whatever request came first, unless met at connect.
    sent: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda query: sent.append(query.query))
        await conn.fetchrow("select array[1::bigint], array[2], array[current_date], array[now()], array[1.5],"
                            " array[true], array[row(1, 'a')], coalesce((select array_agg(id) from organisations), '{}')")
        await asyncio.sleep(0)  # asyncpg calls the logger soon after a statement, not during it
        assert len(sent) == 1
        # and every kind of array a table holds (a bid's attachments, uuid[], cost /calls/{id} a lookup)
        kinds = await conn.fetchval("select array_agg(distinct udt_name) from information_schema.columns"
                                    " where table_schema = 'public' and data_type = 'ARRAY'")
        await asyncio.sleep(0)
        sent.clear()
        await conn.fetchrow("select " + ", ".join(f"null::{kind}" for kind in kinds))
        await asyncio.sleep(0)
    assert sent and len(sent) == 1, sent
