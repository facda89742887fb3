"""`market bench api` reads a route's statements from the server itself (MARKET_STATEMENTS_FILE), for
the requests it asks about only: its load runs the app as deployed, nothing written down."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from market.benches.api import _recorded
from market.core.db import RECORD_HEADER


@pytest.fixture
def app_settings(settings, tmp_path):
    return msgspec.structs.replace(settings, statements_file=str(tmp_path / "statements.pickle"))


async def test_a_request_that_asks_has_its_statements_counted_and_kept_and_no_other(client, app_settings):
    asked = await client.get("/funds", headers={RECORD_HEADER: "1"})
    unasked = await client.get("/catalogue")
    assert asked.status_code == unasked.status_code == 200
    recorded = _recorded(Path(app_settings.statements_file))
    assert int(asked.headers["x-statements"]) == len(recorded["/funds"]) >= 3  # BEGIN, the funds, COMMIT
    assert any("from funds" in sql for sql, _ in recorded["/funds"])
    assert "x-statements" not in unasked.headers and "/catalogue" not in recorded
