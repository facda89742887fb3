"""Defects found by walking the product in a browser (issue 11): dates a person would refuse, errors
that say where, dead ends, language, and confirmation of irreversible steps."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from market.errors import InvalidFields
from market.procurement import calls
from tests.conftest import act_as, post_form
from tests.procurement_fixtures import call_input, who
from tests.test_funding import _pledge


async def _as(client, pool, world, name, **query):
    await act_as(client, pool, client.app.state.settings, world[name].user_id if name else None)


def error_links_resolve(html: str) -> list[str]:
    """Every link of the errors summary to a field whose input is not on the page."""
    summary = html.split('id="errors"', 1)[1].split("</div>", 1)[0] if 'id="errors"' in html else ""
    return [f for f in re.findall(r'href="#(f-[^"]+)"', summary) if f'id="{f}"' not in html]


# 1. Dates a person would refuse


async def test_a_call_whose_service_period_is_over_is_refused(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(InvalidFields) as exc:
        async with pool.acquire() as conn, conn.transaction():
            await calls.create_call(conn, bureau, call_input(project, service_start=date(2020, 1, 1),
                                                             service_end=date(2020, 12, 31)))
    assert "service_end" in exc.value.field_errors()
    assert await pool.fetchval("select count(*) from calls") == 0


async def test_a_transfer_dated_long_ago_is_refused_next_to_its_date(client, pool, settings, world, project):
    pledge = await _pledge(pool, settings, world, "project", project, 1_000_00)
    await _as(client, pool, world, "funder_admin")
    r = await post_form(client, f"/pledges/{pledge}/transfer?lang=en",
                        {"bank_reference": "ICBC-1", "paid_on": "1999-11-20"})
    assert r.status_code == 400 and 'id="e-paid_on"' in r.text and "check the date" in r.text
    assert await pool.fetchval("select count(*) from payments") == 0
    recent = (date.today() - timedelta(days=30)).isoformat()
    r = await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "ICBC-1", "paid_on": recent})
    assert r.status_code == 303


async def test_a_past_all_or_nothing_deadline_is_refused_at_the_review_step(client, pool, world, project):
    await _as(client, pool, world, "funder_admin")
    r = await post_form(client, "/pledges?lang=en", {
        "target_type": "project", "target_id": project, "amount_yuan": "100", "condition_target_yuan": "1000",
        "condition_deadline": "2020-01-01", "step": "preview"})
    assert r.status_code == 400 and 'id="e-condition_deadline"' in r.text and "in the future" in r.text
    assert not error_links_resolve(r.text)
