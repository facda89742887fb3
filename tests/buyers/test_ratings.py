"""Providers rate the buyer: due after the mid-term is decided and at the end, once per stage, only by
the provider's admin and staff; the buyer and everyone see a year's ratings only in aggregate over at
least three providers, and nothing at all below that, on no page and in no JSON; the provider is told
once when a rating is due, however many processes run the clock; its workbench lists what is due."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from market.buyers import jobs, ratings
from market.buyers.models import RatingInput
from market.core import clock
from market.core.errors import Conflict, Forbidden
from market.dashboard import services as dashboard
from market.delivery import ending
from market.delivery.models import EndInput
from tests.conftest import act_as, api_headers, identity_of, post_form
from tests.factories import clone_contract, do, evaluate_delivery, make_person, third_provider, travel, who

GOOD = {"clarity": 5, "payment": 4, "support": 4, "interference": 5, "fairness": 4}
COMMENT = "需求清楚，付款准时，中期评估说明了扣分理由。"


def rating(stage: str = "midterm", comment: str = "", **scores: int) -> RatingInput:
    return RatingInput(stage=stage, comment=comment, **{**GOOD, **scores})


async def rate_as(pool, settings, world, name: str, contract_id: int, data: RatingInput) -> int:
    return await do(pool, ratings.rate, await who(pool, settings, world, name), contract_id, data)


async def test_a_stage_is_rated_once_it_is_due_and_only_once(pool, settings, world, signed):
    view = await do(pool, ratings.contract_rating, await who(pool, settings, world, "provider_admin"), signed)
    assert [(s.stage, s.status) for s in view.stages] == [("midterm", "not_yet"), ("final", "not_yet")]
    assert view.may_rate
    with pytest.raises(Conflict, match="mid-term evaluation is decided"):
        await rate_as(pool, settings, world, "provider_admin", signed, rating())

    await evaluate_delivery(pool, settings, world, signed, "midterm", 80)
    await rate_as(pool, settings, world, "provider_admin", signed, rating(comment=COMMENT))
    with pytest.raises(Conflict, match="rated on this stage already"):
        await rate_as(pool, settings, world, "provider_staff", signed, rating(clarity=1))
    with pytest.raises(Conflict, match="contract has ended or its service period is over"):
        await rate_as(pool, settings, world, "provider_admin", signed, rating("final"))

    # The provider sees what it gave, as it gave it.
    view = await do(pool, ratings.contract_rating, await who(pool, settings, world, "provider_staff"), signed)
    given = view.stages[0]
    assert (given.status, given.rating.clarity, given.rating.interference, given.rating.comment) == \
        ("given", 5, 5, COMMENT)
    assert view.stages[1].status == "not_yet"

    # The service period is over: the final rating is due, by the provider's staff too.
    end = await pool.fetchval("select service_end from contracts where id = $1", signed)
    await travel(pool, days=(end - clock.today()).days + 1)
    await rate_as(pool, settings, world, "provider_staff", signed, rating("final", payment=2))
    assert await pool.fetchval("select count(*) from buyer_ratings where contract_id = $1", signed) == 2
    # The audit trail says a rating was given, never what it said.
    diff = await pool.fetchval("select diff from audit_events where verb = 'buyer.rate' order by id desc limit 1")
    assert "payment" not in str(diff) and "stage" in str(diff)


async def test_an_ended_contract_is_rated_at_the_end(pool, settings, world, signed):
    await evaluate_delivery(pool, settings, world, signed, "midterm", 40)  # fails: the buyer may end it
    await do(pool, ending.end, await who(pool, settings, world, "buyer_admin"), signed,
             EndInput(reason="中期评估不合格，终止合同。"))
    await rate_as(pool, settings, world, "provider_admin", signed, rating("final", fairness=2))
    await rate_as(pool, settings, world, "provider_admin", signed, rating("midterm"))


async def test_only_the_providers_admin_and_staff_rate(pool, settings, world, signed):
    await evaluate_delivery(pool, settings, world, signed, "midterm")
    for name in ("other_provider_admin", "buyer_admin"):
        with pytest.raises(Forbidden):
            await rate_as(pool, settings, world, name, signed, rating())
    async with pool.acquire() as conn, conn.transaction():
        finance = await make_person(conn, world, "provider.finance", "provider", role="finance")
    with pytest.raises(Forbidden):
        await do(pool, ratings.rate, await identity_of(pool, settings, finance, world.orgs["provider"]), signed,
                 rating())
    # Another organisation does not even read the provider's page of the contract.
    for name in ("other_provider_admin", "buyer_admin"):
        with pytest.raises(Forbidden):
            await do(pool, ratings.contract_rating, await who(pool, settings, world, name), signed)
    assert await pool.fetchval("select count(*) from buyer_ratings") == 0


async def test_eight_ratings_sent_at_once_store_one(pool, settings, world, signed):
    await evaluate_delivery(pool, settings, world, signed, "midterm")
    admin = await who(pool, settings, world, "provider_admin")

    async def attempt(n: int) -> str:
        try:
            await do(pool, ratings.rate, admin, signed, rating(clarity=1 + n % 5))
            return "stored"
        except Conflict:
            return "refused"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(8)))
    assert sorted(outcomes) == ["refused"] * 7 + ["stored"]
    assert await pool.fetchval("select count(*) from buyer_ratings where contract_id = $1", signed) == 1


async def test_the_buyer_sees_a_year_only_over_three_providers(pool, settings, world, signed, client):
    third = await third_provider(pool, world)
    contracts = {"provider_admin": signed,
                 "other_provider_admin": await clone_contract(pool, signed, world.orgs["other_provider"]),
                 "third_admin": await clone_contract(pool, signed, third)}
    for contract_id in contracts.values():
        await evaluate_delivery(pool, settings, world, contract_id, "midterm")
    await rate_as(pool, settings, world, "provider_admin", signed, rating(comment=COMMENT))
    await rate_as(pool, settings, world, "other_provider_admin", contracts["other_provider_admin"],
                  rating(clarity=3, comment="评估标准事前没有说明。"))
    bureau = world.orgs["bureau"]
    year = clock.today().year

    async def seen(name: str | None) -> tuple[str, str]:
        person = world[name] if name else None
        await act_as(client, pool, settings, person.user_id if person else None, person.org_id if person else None)
        html = (await client.get(f"/organisations/{bureau}/buyer-ratings")).text
        api = (await client.get(f"/api/organisations/{bureau}/buyer-ratings", headers=api_headers(client))).text
        return html, api

    # Two providers: nothing shows but that there is not enough, to the buyer as to anyone.
    for name in ("buyer_admin", None):
        html, api = await seen(name)
        assert "Not enough data" in html or "数据不足" in html
        assert '"shown":false' in api and '"means":[]' in api and '"ratings":null' in api
        assert "评估标准事前没有说明" not in html + api and "4.00" not in html + api
    buyer = await who(pool, settings, world, "buyer_admin")
    card = await do(pool, ratings.buyer_ratings, buyer, bureau)
    assert card.years[0].year == year and not card.years[0].shown and card.comments == []

    # The third provider: the year's means, and the comments to the buyer only, without names.
    third_contract = contracts["third_admin"]
    await do(pool, ratings.rate, await identity_of(pool, settings, world["third_admin"].user_id, third),
             third_contract, rating(payment=2))
    card = await do(pool, ratings.buyer_ratings, buyer, bureau)
    shown = card.years[0]
    assert (shown.shown, shown.ratings, shown.providers) == (True, 3, 3)
    means = {m.criterion: str(m.mean) for m in shown.means}
    assert means == {"clarity": "4.33", "payment": "3.33", "support": "4.00", "interference": "5.00",
                     "fairness": "4.00"}
    assert card.comments == sorted([COMMENT, "评估标准事前没有说明。"])
    html, api = await seen("buyer_admin")
    assert "4.33" in html and COMMENT in html and "4.33" in api
    assert "测试provider" not in html.split("<main")[1].split("</main>")[0]  # no provider is named
    html, api = await seen(None)
    assert "4.33" in html and COMMENT not in html + api and '"comments":null' in api


async def test_the_provider_is_told_once_however_many_clocks_run(pool, settings, world, signed):
    assert await jobs.run(pool) == 0
    await evaluate_delivery(pool, settings, world, signed, "midterm")
    told = await asyncio.gather(jobs.run(pool), jobs.run(pool))
    assert sorted(told) == [0, 1]
    assert await jobs.run(pool) == 0
    rows = await pool.fetch("select user_id, link from notifications where kind = 'buyer_rating_due_midterm'")
    assert sorted(r["user_id"] for r in rows) == sorted([world["provider_admin"].user_id,
                                                         world["provider_staff"].user_id])
    assert rows[0]["link"] == f"/contracts/{signed}/buyer-rating"
    # The provider's workbench lists it until it is rated.
    admin = await who(pool, settings, world, "provider_admin")

    async def listed() -> list[str]:
        async with pool.acquire() as conn:
            bench = await dashboard.workbench(conn, admin)
        return [t.link for lst in bench.lists if lst.kind == "buyer_ratings_due" for t in lst.items]

    assert await listed() == [f"/contracts/{signed}/buyer-rating"]
    await rate_as(pool, settings, world, "provider_admin", signed, rating())
    assert await listed() == []


async def test_rating_through_the_form(pool, settings, world, signed, client):
    await evaluate_delivery(pool, settings, world, signed, "midterm")
    await act_as(client, pool, settings, world["provider_admin"].user_id, world.orgs["provider"])
    page = await client.get(f"/contracts/{signed}/buyer-rating")
    assert page.status_code == 200 and 'name="interference"' in page.text
    refused = await post_form(client, f"/contracts/{signed}/buyer-rating",
                              {"stage": "midterm", **{k: str(v) for k, v in GOOD.items() if k != "support"}})
    assert refused.status_code == 400 and 'id="e-support"' in refused.text
    assert await pool.fetchval("select count(*) from buyer_ratings") == 0
    sent = await post_form(client, f"/contracts/{signed}/buyer-rating",
                           {"stage": "midterm", "comment": COMMENT, **{k: str(v) for k, v in GOOD.items()}})
    assert sent.status_code == 303 and "done=buyer_rated" in sent.headers["location"]
    again = await post_form(client, f"/contracts/{signed}/buyer-rating",
                            {"stage": "midterm", **{k: str(v) for k, v in GOOD.items()}})
    assert again.status_code == 409
    shown = await client.get(f"/api/contracts/{signed}/buyer-rating", headers=api_headers(client))
    assert shown.json()["stages"][0]["rating"]["comment"] == COMMENT
    assert date.fromisoformat(shown.json()["stages"][0]["rating"]["rated_at"][:10]).year == clock.today().year
