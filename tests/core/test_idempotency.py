"""A form sent twice acts once: a double click, Back and resubmit, or a retried request returns the first
result and never makes a second row; the JSON API the same through an Idempotency-Key header."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import act_as, api_headers, csrf, post_form

NEED = {"title": "独居老人午餐没人做", "description": "小区里很多独居老人中午吃不上热饭，希望有助餐。",
        "beneficiaries": "独居老人", "urgency": "urgent"}


async def _form_key(client) -> str:
    page = (await client.get("/needs/new")).text
    return re.search(r'name="_idem" value="([^"]+)"', page).group(1)


async def test_a_double_click_and_back_and_resubmit_raise_one_need(client, pool, world, published):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    key = await _form_key(client)
    assert key != await _form_key(client)  # each rendering of the form has its own key
    form = {**NEED, "community_id": world.community, "_idem": key}
    first, second = await asyncio.gather(post_form(client, "/needs/new", form), post_form(client, "/needs/new", form))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    later = await post_form(client, "/needs/new", form)  # Back, then send again
    assert later.status_code == 303 and later.headers["location"] == first.headers["location"]
    assert later.headers.get("idempotent-replayed") == "true"
    assert await pool.fetchval("select count(*) from needs") == 1
    # A new rendering of the form is a new need.
    again = await post_form(client, "/needs/new", {**form, "_idem": await _form_key(client)})
    assert again.status_code == 303 and again.headers["location"] != first.headers["location"]
    assert await pool.fetchval("select count(*) from needs") == 2


async def test_a_refused_form_keeps_nothing_so_the_correction_goes_through(client, pool, world, published):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    key = await _form_key(client)
    refused = await post_form(client, "/needs/new", {**NEED, "title": "x", "community_id": world.community, "_idem": key})
    assert refused.status_code == 400
    corrected = await post_form(client, "/needs/new", {**NEED, "community_id": world.community, "_idem": key})
    assert corrected.status_code == 303
    assert await pool.fetchval("select count(*) from needs") == 1


async def test_a_key_belongs_to_its_user(client, pool, world, published):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["resident"].user_id)
    key = await _form_key(client)
    await post_form(client, "/needs/new", {**NEED, "community_id": world.community, "_idem": key})
    await act_as(client, pool, settings, world["buyer_staff"].user_id)
    other = await post_form(client, "/needs/new", {**NEED, "title": "另一个需求标题", "community_id": world.community,
                                                   "_idem": key})
    assert other.status_code == 303 and "idempotent-replayed" not in other.headers
    assert await pool.fetchval("select count(*) from needs") == 2


async def test_the_api_acts_once_per_idempotency_key(client, pool, world, published):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    headers = {**api_headers(client), "Idempotency-Key": "need-2026-12-03-0001"}
    body = {**NEED, "community_id": world.community}
    first, second = await asyncio.gather(client.post("/api/needs", json=body, headers=headers),
                                         client.post("/api/needs", json=body, headers=headers))
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert await pool.fetchval("select count(*) from needs") == 1
    # The same key on another route is refused rather than answered with the wrong thing.
    reused = await client.post(f"/api/needs/{first.json()['id']}/support", headers=headers)
    assert reused.status_code == 409
    assert csrf(client)
