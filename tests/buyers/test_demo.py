"""The demo's buyer scorecards: the district and Wangjiang street show two years of trend, from
providers' ratings and payments made through the ledger; Jinjiang community's committee, rated by
two providers only, shows not enough data; each card names the buyers placed at it and counts the rest."""

from __future__ import annotations

from market.buyers import ratings, scorecards
from market.core import clock
from market.demo import load_demo


async def test_the_demo_has_scorecards_with_two_years_of_trend(database, pool):
    async with pool.acquire() as conn:
        await load_demo(conn)
        year = clock.today().year
        street = await conn.fetchval("select id from jurisdictions where code = '330102-wangjiang'")
        district = await conn.fetchval("select id from jurisdictions where level = 'district'")
        community = await conn.fetchval("select id from jurisdictions where name_zh = '近江社区'")
        cards = {place: await scorecards.scorecard(conn, place) for place in (street, district, community)}
        committee = await conn.fetchval("select id from organisations where name_zh = '近江社区居民委员会'")
        office = await conn.fetchval("select id from organisations where name_zh = '望江街道办事处'")
        committee_ratings = await ratings.buyer_ratings(conn, None, committee)
        office_ratings = await ratings.buyer_ratings(conn, None, office)
    for place in (street, district):
        years = {y.year: y for y in cards[place].years}
        assert {year - 1, year} <= set(years)
        for y in (year - 1, year):
            assert years[y].score is not None
            assert {f.component: f.status for f in years[y].figures}["ratings"] == "scored"
    last = {f.component: f for f in {y.year: y for y in cards[street].years}[year - 1].figures}
    assert last["payment"].status == "scored" and last["payment"].observations == 6
    assert last["payment"].score < 100  # one first tranche was paid 45 days late
    assert [(y.year, y.shown, y.providers) for y in office_ratings.years] == [(year, True, 3), (year - 1, True, 3)]
    assert [(y.year, y.shown, y.ratings) for y in committee_ratings.years] == [(year, False, None)]
    this = {f.component: f.status for f in {y.year: y for y in cards[community].years}[year].figures}
    assert this["ratings"] == "not_enough_data"
    # A card names the buyers placed at its place and counts those the places below cover, which list them.
    assert [b.name_zh for b in cards[district].buyers] == ["上城区民政局"]
    assert cards[district].buyers_below == sum(e.buyers for e in cards[district].below) == 12
    assert [b.id for b in cards[street].buyers] == [office]
    assert cards[street].buyers_below == 1 and [b.id for b in cards[community].buyers] == [committee]
    assert await pool.fetchval("select sum(balance_fen) from ledger_accounts") == 0
