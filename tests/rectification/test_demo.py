"""The demo's rectification: from its failed mid-terms, items open, late and escalated, rejected back
to open, waiting for verification and verified with a fix and its evidence; and the findings of a
survey closed below its threshold and of upheld complaints."""

from market.demo import load_demo


async def test_the_demo_has_rectification_in_every_state(database, pool):
    async with pool.acquire() as conn:
        await load_demo(conn)
        rows = await conn.fetch("select i.*, (select count(*) from rectification_fix_files f where f.item_id = i.id) "
                                "as files from rectification_items i join memberships m on m.organisation_id = i.owner_id "
                                "join users u on u.id = m.user_id where u.email = 'ngo06@demo.market' "
                                "and i.source = 'evaluation'")
        sources = {r["source"] for r in await conn.fetch("select distinct source from rectification_items")}
        rejected = await conn.fetchval("select count(*) from rectification_rejections")
    assert sources == {"evaluation", "survey", "complaint"}
    by_status = {s: [r for r in rows if r["status"] == s] for s in ("open", "fix_submitted", "verified")}
    assert len(by_status["verified"]) == 1 and by_status["verified"][0]["files"] == 1
    assert len(by_status["fix_submitted"]) == 1
    late = [r for r in by_status["open"] if r["escalation_level"] >= 1]
    in_time = [r for r in by_status["open"] if r["escalation_level"] == 0]
    assert late and in_time and rejected == 1
