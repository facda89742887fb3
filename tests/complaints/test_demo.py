"""The demo district's complaints: one in every state, two escalated by the clock, one and two levels."""

from market.core import db
from market.demo import load_demo


async def test_the_demo_has_complaints_in_every_state(database):
    conn = await db.connect_admin(database)
    try:
        await load_demo(conn)
        statuses = {r["status"]: r["n"] for r in await conn.fetch(
            "select status, count(*) as n from complaints group by status")}
        levels = sorted(r["escalation_level"] for r in await conn.fetch(
            "select escalation_level from complaints where escalation_level > 0"))
        rated = await conn.fetchval("select count(*) from complaints where status = 'closed' and rating is not null")
        unrated = await conn.fetchval("select count(*) from complaints where status = 'closed' and rating is null")
        future = await conn.fetchval("select count(*) from complaints where lodged_at > now() or answered_at > now()")
        told = await conn.fetchval("select count(*) from notifications where kind = 'complaint_escalated'")
    finally:
        await conn.close()
    assert set(statuses) == {"dispatched", "acknowledged", "answered", "closed", "reopened"}
    assert levels == [1, 2] and rated == 1 and unrated == 1 and future == 0
    assert told >= 2
