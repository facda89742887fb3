"""The injectable clock: every time rule reads it, SQL's market_now() agrees with Python's, and only a
server in test mode lets a client move it (forward only)."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import AsyncTestClient

from market.app import create_app, load_settings
from market.core import clock
from market.procurement.calls import services as calls
from tests.conftest import api_headers
from tests.factories import travel


async def test_sql_and_python_read_the_same_moved_clock(pool):
    await travel(pool, days=30)
    async with pool.acquire() as conn:
        sql_now = await conn.fetchval("select market_now()")
        assert abs((sql_now - clock.now()).total_seconds()) < 5
        assert (sql_now - await conn.fetchval("select now()")) > timedelta(days=29)
        # Event times default to it too, so nothing is recorded before the step it follows.
        default = await conn.fetchval("select column_default from information_schema.columns "
                                      "where table_name = 'bids' and column_name = 'submitted_at'")
        assert default == "market_now()"


async def test_a_call_closes_when_the_clock_passes_its_deadline(pool, open_call):
    row = await pool.fetchrow("select * from calls where id = $1", open_call)
    assert calls.status_of(row) == "open"
    await travel(pool, days=15)  # the fixture's deadline is 14 days away
    assert calls.status_of(row) == "closed"


async def test_only_a_server_in_test_mode_moves_the_clock(tmp_path, database):
    base = {"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": "t" * 40, "MARKET_LOG_LEVEL": "warning",
            "MARKET_NOTIFY_SECONDS": "0"}
    for test_mode, expected in ((False, 404), (True, 201)):
        app = create_app(load_settings({**base, **({"MARKET_TEST_CLOCK": "true"} if test_mode else {})}),
                         dsn=database)
        async with AsyncTestClient(app) as client:
            await client.get("/health")
            moved = await client.post("/_test/clock", json={"seconds": 86400}, headers=api_headers(client))
            assert moved.status_code == expected
            if test_mode:
                backwards = await client.post("/_test/clock", json={"seconds": -60}, headers=api_headers(client))
                assert backwards.status_code == 400
    assert clock.offset() == timedelta(days=1)
    clock._set(0)
    # Another process of the same test reads the moved clock from the database.
    app = create_app(load_settings({**base, "MARKET_TEST_CLOCK": "true"}), dsn=database)
    async with AsyncTestClient(app) as client:
        await client.get("/health")
        assert clock.offset() == timedelta(days=1)


def test_the_test_clock_is_off_unless_asked_for():
    assert load_settings({}).test_clock is False
