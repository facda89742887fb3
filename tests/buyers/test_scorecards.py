"""Buyer scorecards: a place's card covers the buyers at or below it; providers' ratings count only
over three providers, payment timeliness is read from the ledger (paid within 30 days of the due date;
unpaid and that late counts as late), each year's score is the weighted mean of the components with
enough data; resident satisfaction is read from the communities' standing surveys (5 answers at least)
and rectification from the items the buyers own or verify (put right by the deadline); and the pages
(chart and figures) and their JSON twins say the same."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from market.buyers import scorecards
from market.buyers.models import Figure, RatingInput
from market.buyers import ratings
from market.core import clock
from market.delivery import services as delivery
from market.rectification import services as rectification
from market.surveys import services as surveys
from market.surveys.models import AnswerInput
from tests.factories import clone_contract, do, evaluate_delivery, third_provider, travel, who

GOOD = {"clarity": 5, "payment": 4, "support": 4, "interference": 5, "fairness": 4}  # mean 4.4: 85.0


def _by_key(year):
    return {f.component: f for f in year.figures}


async def _card(pool, place: int):
    async with pool.acquire() as conn:
        return await scorecards.scorecard(conn, place)


def test_a_years_score_weighs_only_the_components_with_enough_data():
    def figure(key: str, score: int | None) -> Figure:
        return Figure(component=key, status="scored" if score is not None else "not_enough_data",
                      score=Decimal(score) if score is not None else None)

    assert scorecards.overall([figure("ratings", 80), figure("payment", 60)]) == Decimal("70.0")
    assert scorecards.overall([figure("ratings", 80), figure("payment", None)]) == Decimal("80.0")
    assert scorecards.overall([figure("ratings", None), figure("payment", None)]) is None


async def test_ratings_and_payments_make_two_years_of_trend(pool, settings, world, signed, client):
    third = await third_provider(pool, world)
    contracts = [signed, await clone_contract(pool, signed, world.orgs["other_provider"]),
                 await clone_contract(pool, signed, third)]
    raters = [await who(pool, settings, world, "provider_admin"), await who(pool, settings, world,
                                                                            "other_provider_admin"),
              await who(pool, settings, world, "third_admin")]
    first_year = clock.today().year
    for contract_id, rater in zip(contracts, raters, strict=True):
        await evaluate_delivery(pool, settings, world, contract_id, "midterm")
        await do(pool, ratings.rate, rater, contract_id, RatingInput(stage="midterm", **GOOD))

    # The first payment of each falls due on 1 January: two paid that day, one left unpaid.
    await travel(pool, days=(date(first_year + 1, 1, 1) - clock.today()).days)
    bureau = await who(pool, settings, world, "buyer_admin")
    for contract_id in contracts[:2]:
        await do(pool, delivery.accept_milestone, bureau, contract_id, 1)
    card = await _card(pool, world.district)
    assert _by_key(card.years[-1])["payment"].status == "not_enough_data"  # the third is not late yet
    await travel(pool, days=40)
    card = await _card(pool, world.district)
    payment = _by_key(card.years[-1])["payment"]
    assert (payment.status, payment.score, payment.observations) == ("scored", Decimal("66.7"), 3)
    await do(pool, delivery.accept_milestone, bureau, contracts[2], 1)  # paid 40 days after it fell due
    card = await _card(pool, world.district)
    payment = _by_key(card.years[-1])["payment"]
    assert payment.score == Decimal("66.7") and "中位数为到期后 0 天" in payment.detail  # the default language

    assert [y.year for y in card.years] == [first_year, first_year + 1]
    earlier, later = card.years
    assert _by_key(earlier)["ratings"].score == Decimal("85.0") and earlier.score == Decimal("85.0")
    assert _by_key(earlier)["payment"].status == "not_enough_data"
    assert _by_key(later)["ratings"].status == "not_enough_data" and later.score == Decimal("66.7")
    assert {y.year: _by_key(y)["satisfaction"].status for y in card.years} == {
        first_year: "not_enough_data", first_year + 1: "not_enough_data"}
    assert [b.id for b in card.buyers] == [world.orgs["bureau"]]

    # The bureau sits at the district: a street's card does not cover it.
    street = await _card(pool, world.street)
    assert street.buyers == [] and all(y.score is None for y in street.years) and len(street.years) == 2
    assert [p.id for p in street.above] == [world.district]

    async with pool.acquire() as conn:
        index = await scorecards.index(conn)
    district = next(e for e in index.entries if e.place.id == world.district)
    assert (district.last_year, district.this_year, district.buyers) == (Decimal("85.0"), Decimal("66.7"), 1)
    assert {e.place.level for e in index.entries} == {"district"}  # a city's 6,000 communities are a click away

    page = await client.get(f"/scorecards/{world.district}")
    assert page.status_code == 200 and "<svg" in page.text and 'data-component="ratings"' in page.text
    assert "85.0" in page.text and "66.7" in page.text and "数据不足" in page.text
    twin = (await client.get(f"/api/scorecards/{world.district}")).json()
    assert [y["score"] for y in twin["years"]] == ["85.0", "66.7"]
    # The district's card lists its streets with their scores, the way the index lists the districts.
    assert f'href="/scorecards/{world.street}"' in page.text
    street_entry = next(e for e in twin["below"] if e["place"]["id"] == world.street)
    assert (street_entry["buyers"], street_entry["this_year"], street_entry["last_year"]) == (0, None, None)
    listed = await client.get("/scorecards")
    assert f'href="/scorecards/{world.district}"' in listed.text and "85.0" in listed.text
    assert f'href="/scorecards/{world.street}"' not in listed.text
    home = await client.get(f"/organisations/{world.orgs['bureau']}")
    assert f'href="/scorecards/{world.district}"' in home.text


async def test_a_buyer_with_two_raters_adds_nothing_to_any_card(pool, settings, world, signed, client):
    other = await clone_contract(pool, signed, world.orgs["other_provider"])
    for contract_id, name in ((signed, "provider_admin"), (other, "other_provider_admin")):
        await evaluate_delivery(pool, settings, world, contract_id, "midterm")
        await do(pool, ratings.rate, await who(pool, settings, world, name), contract_id,
                 RatingInput(stage="midterm", **GOOD))
    card = await _card(pool, world.district)
    figure = _by_key(card.years[-1])["ratings"]
    assert (figure.status, figure.score, figure.observations) == ("not_enough_data", None, 0)
    twin = (await client.get(f"/api/scorecards/{world.district}")).text
    assert "85.0" not in twin and "4.4" not in twin


async def test_resident_satisfaction_and_rectification_join_the_card(pool, settings, world):
    bureau = await who(pool, settings, world, "buyer_admin")
    year = clock.today().year  # the answers' and the deadlines' year
    async with pool.acquire() as conn, conn.transaction():
        listing = await surveys.survey_list(conn, bureau)  # the bureau keeps its communities' standing surveys
        survey_id = next(s.id for s in listing.surveys if s.kind == "community" and s.title_zh == "东坡路社区")
        token = await conn.fetchval("select token from surveys where id = $1", survey_id)
        codes = await surveys.batch_codes(conn, bureau, survey_id, await surveys.make_codes(conn, bureau, survey_id, 5))
    community = await _card(pool, world.community)  # worked out and kept before the answers come in
    assert _by_key(community.years[-1])["satisfaction"].status == "not_enough_data"
    for code, score in zip(codes, (5, 4, 4, 2, 3), strict=True):
        await do(pool, surveys.answer_with_code, token, code,
                 AnswerInput(scores={n: score for n in range(1, 6)}, comment=""))
    # The same day: the card kept is not shown once an answer has changed what it is made of.
    community = await _card(pool, world.community)
    assert _by_key(community.years[-1])["satisfaction"].score == Decimal("60.0")
    # Three findings the bureau verifies, due last week: two put right in time, one not at all.
    async with pool.acquire() as conn, conn.transaction():
        for key in ("a", "b", "c"):
            item = await rectification.raise_item(
                conn, source="survey", source_id=survey_id, key=key, owner_id=world.orgs["provider"],
                buyer_id=world.orgs["bureau"], finding_zh="满意度低于标准", finding_en="Satisfaction below threshold",
                evidence_required="整改记录", due=clock.today())
            if key != "c":
                await conn.execute("update rectification_items set status = 'verified', verified_at = market_now() "
                                   "where id = $1", item)
    await travel(pool, days=7)

    async def figures(place):
        return _by_key(next(y for y in (await _card(pool, place)).years if y.year == year))

    for place in (world.community, world.street, world.district):
        this = await figures(place)
        assert (this["satisfaction"].status, this["satisfaction"].score, this["satisfaction"].observations) == (
            "scored", Decimal("60.0"), 5), place
    district = await figures(world.district)
    assert (district["rectification"].score, district["rectification"].observations) == (Decimal("66.7"), 3)
    assert (await figures(world.community))["rectification"].status == "not_enough_data"  # the bureau is above it
