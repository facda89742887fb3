"""The suite builds one app per worker and rebinds it to each test's database and settings
(`factory.rebind`): a rebound app must act as one built afresh from them, or a test would read
another test's data; and it refuses settings that its build fixed."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from market.app import DOMAINS, create_app, load_settings
from market.core import factory
from tests.conftest import TEMPLATE, dsn_for


async def _organisations(app) -> int:
    async with AsyncTestClient(app, base_url="http://testserver.local") as c:
        response = await c.get("/api/organisations")
        assert response.status_code == 200
        return len(response.json()["organisations"])


async def test_a_rebound_app_reads_the_database_and_settings_it_was_rebound_to(pg_server, database, world, tmp_path):
    admin = await asyncpg.connect(pg_server.dsn)
    empty = f"t_{uuid.uuid4().hex[:16]}"
    await admin.execute(f"create database {empty} template {TEMPLATE}")
    try:
        base = {"MARKET_SECRET_KEY": "r" * 40, "MARKET_LOG_LEVEL": "warning", "MARKET_NOTIFY_SECONDS": "0"}
        first = load_settings({**base, "MARKET_DATA_DIR": str(tmp_path / "first")})
        second = load_settings({**base, "MARKET_DATA_DIR": str(tmp_path / "second")})
        app = create_app(first, dsn=dsn_for(pg_server, empty))
        assert await _organisations(app) == 0

        factory.rebind(app, second, DOMAINS, database)
        assert await _organisations(app) > 0  # the world's organisations, in the database rebound to
        assert app.state.settings.data_dir == tmp_path / "second"
        # What follows from the settings is made again from the new ones: files go to the new data directory.
        assert app.state.storage.root.is_relative_to(tmp_path / "second")

        for name, value in (("MARKET_SECRET_KEY", "s" * 40), ("MARKET_TEST_CLOCK", "true")):
            with pytest.raises(ValueError, match="built with another"):
                factory.rebind(app, load_settings({**base, "MARKET_DATA_DIR": str(tmp_path), name: value}), DOMAINS,
                               database)
        assert app.state.settings is second
    finally:
        await admin.execute(f"drop database {empty} with (force)")
        await admin.close()
