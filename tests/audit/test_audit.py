import asyncpg
import pytest

from market.audit import services as audit
from market.audit.models import Verb
from market.cli import main
from market.core import db
from tests.conftest import act_as


async def _some_events(pool, n=5):
    async with pool.acquire() as conn:
        for i in range(n):
            async with conn.transaction():
                await audit.record(conn, verb=Verb.USER_UPDATE, object_type="user", object_id=i, actor=1,
                                   before={"display_name": f"old {i}"}, after={"display_name": f"新 {i}"})


async def test_intact_chain_verifies(pool, database):
    await _some_events(pool)
    conn = await db.connect_admin(database)
    count, breaks = await audit.verify_chain(conn)
    await conn.close()
    assert count == 5 and breaks == []


async def test_entries_record_who_what_and_the_diff(pool):
    await _some_events(pool, 1)
    async with pool.acquire() as conn:
        (event,) = (await audit.trail(conn, limit=10)).events
    assert event.verb == "user.update" and event.actor_user_id == 1
    assert event.diff == {"display_name": ["old 0", "新 0"]}


async def test_the_application_role_cannot_edit_or_delete_entries(pool):
    await _some_events(pool, 2)
    async with pool.acquire() as conn:
        assert await conn.fetchval("select current_user") == "market_app"
        for sql in ("update audit_events set verb = 'x'", "delete from audit_events",
                    "truncate audit_events"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)


async def test_even_the_owner_is_stopped_by_the_trigger(database, pool):
    await _some_events(pool, 2)
    conn = await db.connect_admin(database)
    try:
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("update audit_events set verb = 'x'")
    finally:
        await conn.close()


async def _tamper(database, sql):
    """What only someone bypassing the database's protections could do."""
    conn = await db.connect_admin(database)
    await conn.execute("set session_replication_role = replica")  # superuser: triggers off
    await conn.execute(sql)
    await conn.close()


async def test_an_edited_row_is_caught(pool, database):
    await _some_events(pool)
    await _tamper(database, """update audit_events set diff = '{"display_name": ["old 2", "forged"]}' where id = 3""")
    conn = await db.connect_admin(database)
    _count, breaks = await audit.verify_chain(conn)
    await conn.close()
    assert [(b.id, "edited" in b.reason) for b in breaks] == [(3, True)]


async def test_a_deleted_row_is_caught(pool, database):
    await _some_events(pool)
    await _tamper(database, "delete from audit_events where id = 2")
    conn = await db.connect_admin(database)
    count, breaks = await audit.verify_chain(conn)
    await conn.close()
    assert count == 4 and [b.id for b in breaks] == [3]


async def test_rehashing_an_edited_row_still_breaks_the_next_link(pool, database):
    await _some_events(pool)
    conn = await db.connect_admin(database)
    row = await conn.fetchrow("select * from audit_events where id = 2")
    forged = {"display_name": ["old 1", "forged"]}
    new_hash = audit.entry_hash(row["prev_hash"], row["at"], row["actor_user_id"], row["organisation_id"],
                                row["verb"], row["object_type"], row["object_id"], forged)
    await conn.close()
    await _tamper(database, f"""update audit_events set diff = '{{"display_name": ["old 1", "forged"]}}',
                                hash = '{new_hash}' where id = 2""")
    conn = await db.connect_admin(database)
    _, breaks = await audit.verify_chain(conn)
    await conn.close()
    assert [b.id for b in breaks] == [3]


async def test_cli_verify_exits_nonzero_on_tampering(pool, database, monkeypatch, capsys):
    await _some_events(pool)
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("MARKET_SECRET_KEY", "s" * 40)
    assert await _run_cli(["audit", "verify"]) == 0
    await _tamper(database, "update audit_events set object_id = '999' where id = 4")
    assert await _run_cli(["audit", "verify"]) == 1
    assert "entry 4" in capsys.readouterr().out


async def _run_cli(argv):
    import asyncio
    # The CLI runs its own event loop, so it runs in a thread here.
    return await asyncio.to_thread(main, argv)


async def test_the_trail_twin_is_the_pages_view_and_the_platforms_alone(client, pool, world):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.get("/api/admin/audit")).status_code == 403
    await act_as(client, pool, settings, world["platform_admin"].user_id)
    await _some_events(pool)
    first = (await client.get("/api/admin/audit", params={"limit": 2})).json()
    trail = (await client.get("/api/admin/audit", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert trail["total"] == await pool.fetchval("select count(*) from audit_events") and trail["first"] == 2
    ids = [r["id"] for r in await pool.fetch("select id from audit_events order by id desc limit 2 offset 2")]
    assert [e["id"] for e in trail["events"]] == ids


async def test_the_trail_pages_on_the_events_ids_and_keeps_to_an_organisation_or_an_object(client, pool, world):
    """The trail was paged by offset and counted every event at every page: on the generated city's
    572,000 events a page at offset 500,000 took 0.57 s. It is now paged on the events' ids, and the
    platform may keep to one organisation's events, or one object's, which each event's object links."""
    await _some_events(pool, 3)
    await act_as(client, pool, client.app.state.settings, world["platform_admin"].user_id)
    seen, cursor = [], None
    while True:
        page = (await client.get("/api/admin/audit", params={"limit": 7, **({"cursor": cursor} if cursor else {})})).json()
        seen += [e["id"] for e in page["events"]]
        await _some_events(pool, 1)  # the platform's own work goes on while it reads
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert seen[-1] == await pool.fetchval("select min(id) from audit_events")
    org = world.orgs["provider"]
    async with pool.acquire() as conn, conn.transaction():
        await audit.record(conn, verb=Verb.USER_UPDATE, object_type="user", object_id=9, actor=1, organisation=org,
                           before={"display_name": "甲"}, after={"display_name": "乙"})
    mine = (await client.get("/api/admin/audit", params={"organisation": org})).json()
    assert mine["total"] == await pool.fetchval("select count(*) from audit_events where organisation_id = $1", org) > 0
    assert {e["organisation_id"] for e in mine["events"]} == {org}
    one = (await client.get("/api/admin/audit", params={"object_type": "user", "object_id": "1"})).json()
    assert [e["id"] for e in one["events"]] == [r["id"] for r in await pool.fetch(
        "select id from audit_events where object_type = 'user' and object_id = '1' order by id desc")]
    assert one["events"] and one["total"] == len(one["events"])
    for lang, words in (("zh_Hans", ("机构编号", "全部记录")), ("en", ("Organisation no.", "Every event"))):
        page = (await client.get(f"/admin/audit?object_type=user&object_id=1&lang={lang}")).text
        assert all(w in page for w in words)
        assert page.count('href="/admin/audit?object_type=user&amp;object_id=1"') == len(one["events"])
    assert (await client.get("/admin/audit?organisation=x")).status_code == 400
