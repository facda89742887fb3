"""Funds and matching rounds on the ledger: which gifts count, the preview a funder sees, closing a
round, the fund's pages and dashboard, and the pledge form."""

from datetime import date, timedelta

import asyncpg
import pytest

from market.core import clock
from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.funding.funds import services as pools
from market.funding.funds.models import FundInput
from market.funding.ledger import services as ledger
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput
from tests.conftest import act_as, landed, post_form
from tests.factories import pledge_as, NOW, OPEN_WINDOW, do, make_project, paid_pledge, who


def transfer() -> OfflinePaymentInput:
    """A bank transfer made today, by the clock the rules read."""
    return OfflinePaymentInput(bank_reference="ICBC-20261120-0001", paid_on=clock.today())


async def _gift(pool, s, donor: str, project: int, amount: int) -> int:
    return await paid_pledge(pool, s[donor], s["bureau"], "project", project, amount)


async def _gifts(pool, fund_id):
    async with pool.acquire() as conn:
        return await pools.gifts(conn, fund_id)


async def _explain(pool, fund_id):
    async with pool.acquire() as conn:
        return await pools.explain(conn, fund_id)


async def _balance(pool, spec):
    async with pool.acquire() as conn:
        return await ledger.balance(conn, spec)


async def test_the_gifts_that_count(pool, settings, world, published, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    counted = [await _gift(pool, s, "donor", one, 300_00), await _gift(pool, s, "other", two, 500_00)]
    await pledge_as(pool, s["donor"], "project", one, 700_00)  # not paid
    awaiting = await pledge_as(pool, s["donor"], "project", one, 800_00)
    await do(pool, pledges.record_offline, s["donor"], awaiting, transfer())  # paid, not yet confirmed
    await _gift(pool, s, "foundation", one, 900_00)  # the pool's owner
    await _gift(pool, s, "donor", await make_project(pool, settings, world, published, "湖滨街道助餐服务"), 400_00)
    early = await _gift(pool, s, "donor", one, 111_00)
    late = await _gift(pool, s, "donor", two, 222_00)
    await pool.execute("update pledges set created_at = now() - interval '2 days' where id = $1", early)
    await pool.execute("update pledges set created_at = now() + interval '31 days' where id = $1", late)
    refunded = await _gift(pool, s, "other", one, 333_00)
    await do(pool, pledges.refund, s["bureau"], refunded, "项目调整，资金退回资助方。")
    gifts = await _gifts(pool, fund)
    assert [g.id for g in gifts] == counted
    assert [(g.donor, g.project, g.amount_fen) for g in gifts] == [
        (s["donor"].org_id, one, 300_00), (s["other"].org_id, two, 500_00)]
    # A project taken out of the round takes its gifts with it.
    await do(pool, pools.remove_project, s["foundation"], fund, two)
    assert [g.id for g in await _gifts(pool, fund)] == counted[:1]


async def test_the_preview_is_what_the_gift_then_gets(client, pool, settings, world, pool_setup):
    s = pool_setup
    fund, (one, _) = s["fund"], s["projects"]
    # Caps that bite: ¥400 per donor, ¥1,000 per project.
    async with pool.acquire() as conn:
        current = await pools.get_fund(conn, fund)
    await do(pool, pools.update_fund, s["foundation"], fund, FundInput(
        name_zh=current.name_zh, name_en=current.name_en, matching="ratio", ratio_num=1, ratio_den=1,
        per_donor_cap_fen=400_00, per_project_cap_fen=1_000_00, **OPEN_WINDOW))
    await _gift(pool, s, "other", one, 700_00)
    for donor, amount in (("donor", 300_00), ("donor", 300_00), ("other", 50_00)):
        async with pool.acquire() as conn:
            previews = await pools.preview(conn, one, s[donor].org_id, amount)
        before = {p.project_id: p.match_fen for p in (await _explain(pool, fund)).projects}[one]
        await _gift(pool, s, donor, one, amount)
        after = {p.project_id: p.match_fen for p in (await _explain(pool, fund)).projects}[one]
        assert [(p.fund_id, p.match_fen) for p in previews] == [(fund, after - before)]
    # 700 → capped at 400 (donor), 300 → 300, 300 → 100 (donor cap), 50 → 0 (donor cap reached)
    assert after == 800_00
    async with pool.acquire() as conn:
        assert [p.match_fen for p in await pools.preview(conn, one, s["foundation"].org_id, 100_00)] == [0]
        assert [p.match_fen for p in await pools.preview(conn, one, None, 500_00)] == [200_00]  # project cap
    # The JSON twin, for a funder signed in.
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    r = await client.get(f"/api/projects/{one}/matching-preview?amount_fen=10000")
    assert r.status_code == 200 and [p["match_fen"] for p in r.json()] == [0]  # its cap is used up
    assert (await client.get(f"/api/projects/{one}/matching-preview?amount_fen=0")).status_code == 400


async def test_a_quadratic_preview_is_the_growth_of_the_projects_match(pool, settings, world, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    await do(pool, pools.update_fund, s["foundation"], fund, FundInput(
        name_zh="社区服务配捐基金", matching="quadratic", **OPEN_WINDOW))
    await _gift(pool, s, "donor", one, 100_00)
    await _gift(pool, s, "other", two, 400_00)
    await _gift(pool, s, "donor", two, 100_00)
    async with pool.acquire() as conn:
        [preview] = await pools.preview(conn, one, s["other"].org_id, 400_00)
    await _gift(pool, s, "other", one, 400_00)
    explanation = await _explain(pool, fund)
    # (√10000 + √40000)² − 50000 = 40000 fen for each project: no scaling, the pool holds ¥10,000.
    assert {p.project_id: p.match_fen for p in explanation.projects} == {one: 400_00, two: 400_00}
    assert preview.match_fen == 400_00
    [working] = [p for p in explanation.projects if p.project_id == one]
    assert (working.donors, working.contributed_fen, working.sqrt_sum, working.capped) == (2, 500_00, "300.000000",
                                                                                           False)


async def _transaction(pool, transaction_id):
    return {r["key"]: r["amount_fen"] for r in await pool.fetch(
        "select a.key, e.amount_fen from ledger_entries e join ledger_accounts a on a.id = e.account_id "
        "join ledger_transactions t on t.id = e.transaction_id where t.id = $1 and t.kind = 'matching'",
        transaction_id)}


async def test_closing_pays_the_explained_matches_in_one_balanced_transaction(pool, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    await _gift(pool, s, "donor", one, 3_000_00)
    await _gift(pool, s, "other", two, 4_000_00)
    await _gift(pool, s, "other", one, 5_000_00)  # the pool runs out: ¥3,000 of ¥5,000
    live = await _explain(pool, fund)
    for stranger in (s["donor"], s["bureau"]):
        with pytest.raises(Forbidden):
            await do(pool, pools.close_round, stranger, fund)
    assert await pool.fetchval("select count(*) from matching_runs") == 0
    before = {p: await _balance(pool, ledger.project(p)) for p in (one, two)}
    run = await do(pool, pools.close_round, s["foundation"], fund)
    stored = await pool.fetchrow("select * from matching_runs where id = $1", run)
    legs = await _transaction(pool, stored["transaction_id"])
    assert sum(legs.values()) == 0
    assert legs == {f"fund:{fund}": -10_000_00, f"project:{one}": 6_000_00, f"project:{two}": 4_000_00}
    closed = await _explain(pool, fund)
    assert closed.closed and closed.verified and closed.run_id == run
    assert {p.project_id: p.match_fen for p in closed.projects} == {p.project_id: p.match_fen for p in live.projects} \
        == {one: 6_000_00, two: 4_000_00}
    assert [g.reason for p in closed.projects for g in p.gifts] == [None, "pool_exhausted", None]
    assert {p: await _balance(pool, ledger.project(p)) - before[p] for p in (one, two)} == {one: 6_000_00,
                                                                                          two: 4_000_00}
    assert await _balance(pool, ledger.fund(fund)) == 0
    # Once closed: no second close, no new gift counted, no change to the rules.
    with pytest.raises(Conflict):
        await do(pool, pools.close_round, s["foundation"], fund)
    await _gift(pool, s, "donor", two, 1_000_00)
    assert (await _explain(pool, fund)) == closed
    with pytest.raises(Conflict):
        await do(pool, pools.add_project, s["foundation"], fund, two)
    # Recomputing from what was stored gives what was stored.
    async with pool.acquire() as conn:
        again = await pools.recompute(conn, fund)
    assert again is not None and again[0] == again[1] and again[0].total_match_fen == stored["total_match_fen"]
    with pytest.raises(asyncpg.PostgresError):  # a closed round is a record
        await pool.execute("update matching_runs set total_match_fen = 0")


async def test_matches_never_exceed_the_pool_and_a_round_without_gifts_posts_nothing(pool, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    for i in range(6):
        await _gift(pool, s, "donor" if i % 2 else "other", (one, two)[i % 2], 2_345_67)
    explanation = await _explain(pool, fund)
    assert explanation.total_match_fen == explanation.pool_fen == 10_000_00
    run = await do(pool, pools.close_round, s["foundation"], fund)
    total = await pool.fetchval("select total_match_fen from matching_runs where id = $1", run)
    assert total == 10_000_00 and await _balance(pool, ledger.fund(fund)) == 0

    empty = await do(pool, pools.create_fund, s["foundation"], FundInput(
        name_zh="空的配捐基金", matching="quadratic", **OPEN_WINDOW))
    await do(pool, pools.close_round, s["foundation"], empty)
    row = await pool.fetchrow("select total_match_fen, transaction_id from matching_runs where fund_id = $1", empty)
    assert (row["total_match_fen"], row["transaction_id"]) == (0, None)


async def test_a_quadratic_round_closes_as_explained(pool, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    await do(pool, pools.update_fund, s["foundation"], fund, FundInput(
        name_zh="社区服务配捐基金", matching="quadratic", per_project_cap_fen=6_000_00, **OPEN_WINDOW))
    for donor, project, amount in (("donor", one, 10_000_00), ("other", one, 10_000_00), ("donor", two, 100_00),
                                   ("other", two, 2_500_00)):
        await _gift(pool, s, donor, project, amount)
    live = await _explain(pool, fund)
    run = await do(pool, pools.close_round, s["foundation"], fund)
    legs = await _transaction(pool, await pool.fetchval("select transaction_id from matching_runs where id = $1", run))
    matched = {p.project_id: p.match_fen for p in live.projects}
    assert legs == {f"fund:{fund}": -sum(matched.values()), **{f"project:{p}": m for p, m in matched.items()}}
    assert sum(matched.values()) <= 10_000_00 and matched[one] == 6_000_00  # capped
    assert [p.capped for p in live.projects] == [True, False]
    assert (await _explain(pool, fund)).verified


async def test_fund_rules_are_checked_and_refusals_change_nothing(pool, settings, world, pool_setup):
    s = pool_setup
    fund = s["fund"]
    provider = await who(pool, settings, world, "provider_admin")
    before = await pool.fetchval("select count(*) from audit_events")
    bad = [{"matching": "ratio", "ratio_num": 1, **OPEN_WINDOW},  # half a ratio
           {"matching": "quadratic"},  # no window
           {"matching": "ratio", "ratio_num": 1, "ratio_den": 2, "opens_at": NOW, "closes_at": NOW - timedelta(days=1)},
           {"name_zh": " 基", "matching": "none"}]
    for fields in bad:
        with pytest.raises(InvalidFields):
            await do(pool, pools.create_fund, s["foundation"], FundInput(**{"name_zh": "新的配捐基金", **fields}))
        with pytest.raises(InvalidFields):
            await do(pool, pools.update_fund, s["foundation"], fund, FundInput(**{"name_zh": "新的配捐基金", **fields}))
    with pytest.raises(Forbidden):  # funds are run by funders and buyers
        await do(pool, pools.create_fund, provider, FundInput(name_zh="别人的基金"))
    with pytest.raises(Forbidden):  # and only by their own organisation
        await do(pool, pools.update_fund, s["donor"], fund, FundInput(name_zh="别人的基金"))
    with pytest.raises(Forbidden):
        await do(pool, pools.add_project, s["donor"], fund, s["projects"][0])
    with pytest.raises(InvalidFields):
        await do(pool, pools.add_project, s["foundation"], fund, 10**9)
    with pytest.raises(Conflict):
        await do(pool, pools.add_project, s["foundation"], fund, s["projects"][0])
    with pytest.raises(NotFound):
        await do(pool, pools.update_fund, s["foundation"], 10**9, FundInput(name_zh="没有的基金"))
    assert await pool.fetchval("select count(*) from audit_events") == before
    assert await pool.fetchval("select count(*) from funds") == 1
    # A fund without matching keeps no rules or window, whatever was sent.
    plain = await do(pool, pools.create_fund, s["foundation"], FundInput(
        name_zh="社会组织发展基金", matching="none", ratio_num=3, per_project_cap_fen=5, **OPEN_WINDOW))
    row = await pool.fetchrow("select ratio_num, per_project_cap_fen, opens_at from funds where id = $1", plain)
    assert tuple(row) == (None, None, None)
    with pytest.raises(Conflict):
        await do(pool, pools.close_round, s["foundation"], plain)


async def test_the_fund_dashboard_adds_up_to_the_ledger(pool, settings, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    more = await paid_pledge(pool, s["donor"], s["foundation"], "fund", fund, 2_000_00)
    await do(pool, pledges.allocate, s["foundation"], more, two)
    refunded = await paid_pledge(pool, s["other"], s["foundation"], "fund", fund, 500_00)
    await do(pool, pledges.refund, s["foundation"], refunded, "捐赠方要求退回。")
    await _gift(pool, s, "donor", one, 1_000_00)
    await do(pool, pools.close_round, s["foundation"], fund)
    async with pool.acquire() as conn:
        money = await pools.dashboard(conn, fund, settings.timezone)
        balance = await ledger.balance(conn, ledger.fund(fund))
    assert money.in_fen == 10_000_00 + 2_000_00 + 500_00
    assert money.out_by_kind == {"allocation": 2_000_00, "refund": 500_00, "matching": 1_000_00}
    assert money.out_fen == sum(money.out_by_kind.values())
    assert money.in_fen - money.out_fen == money.balance_fen == balance == 9_000_00
    assert money.months[-1].balance_fen == balance
    assert sum(m.in_fen for m in money.months) == money.in_fen


async def test_the_fund_pages_in_both_languages(client, pool, settings, world, pool_setup):
    s = pool_setup
    fund, (one, _) = s["fund"], s["projects"]
    await _gift(pool, s, "donor", one, 1_000_00)
    for lang, words in (("en", ["Community matching pool", "For every ¥1.00 a funder gives", "<svg",
                                "Money in and out of the fund, by month", "Matched so far"]),
                        ("zh_Hans", ["社区服务配捐基金", "<svg"])):
        client.cookies.set("market_lang", lang)
        r = await client.get(f"/funds/{fund}")
        assert r.status_code == 200 and all(w in r.text for w in words), (lang, r.text[:300])
        assert "/close" not in r.text  # management is for the owner only
        assert (await client.get("/funds")).status_code == 200
    detail = (await client.get(f"/api/funds/{fund}")).json()
    assert detail["explanation"]["projects"][0]["match_fen"] == 1_000_00
    assert detail["dashboard"]["balance_fen"] == detail["fund"]["balance_fen"] == 10_000_00
    assert [f["id"] for f in (await client.get("/api/funds")).json()["funds"]] == [fund]
    assert (await client.get("/funds/999999")).status_code == 404


async def test_the_owner_manages_the_fund_through_its_pages(client, pool, settings, world, pool_setup):
    s = pool_setup
    fund, (one, two) = s["fund"], s["projects"]
    client.cookies.set("market_lang", "en")
    # A stranger may not close the round or take projects out.
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await post_form(client, f"/funds/{fund}/close")).status_code == 403
    assert (await post_form(client, f"/funds/{fund}/projects/{one}/remove")).status_code == 403
    assert (await client.get(f"/funds/{fund}/edit")).status_code == 403
    await act_as(client, pool, settings, s["foundation"].user_id, s["foundation"].org_id)
    page = (await client.get(f"/funds/{fund}")).text
    assert f"/funds/{fund}/close" in page and "Add the project" not in page  # both approved projects take part
    r = await post_form(client, f"/funds/{fund}/projects/{two}/remove")
    assert landed(r, "fund_project_removed") == f"/funds/{fund}" and [g for g in await pool.fetch(
        "select 1 from fund_projects where fund_id = $1 and project_id = $2", fund, two)] == []
    assert "The project no longer takes part in the fund." in (await client.get(r.headers["location"])).text
    # The owner finds a project to add by its words (a city has tens of thousands), in either language.
    title = await pool.fetchval("select title_zh from projects where id = $1", two)
    found = (await client.get(f"/funds/{fund}", params={"project_q": "助浴"})).text
    assert f'<option value="{two}">{title}</option>' in found and 'value="助浴"' in found
    nothing = (await client.get(f"/funds/{fund}", params={"project_q": "天文望远镜", "lang": "zh_Hans"})).text
    assert "基金以外没有含这些词语的已立项项目。" in nothing and 'id="f-project_id"' not in nothing
    twin = (await client.get(f"/api/funds/{fund}", params={"project_q": "助浴"})).json()
    assert [p["id"] for p in twin["project_choices"]] == [two] and twin["project_q"] == "助浴"
    client.cookies.set("market_lang", "en")
    r = await post_form(client, f"/funds/{fund}/projects", {"project_id": "abc"})
    assert r.status_code == 400 and "has-error" not in r.text and "Please correct" in r.text
    r = await post_form(client, f"/funds/{fund}/projects", {"project_id": str(two)})
    assert landed(r, "fund_project_added") == f"/funds/{fund}" and r.headers["location"].endswith("#projects")
    # Allocate a paid pledge to the fund to one of its projects.
    given = await paid_pledge(pool, s["donor"], s["foundation"], "fund", fund, 1_500_00)
    assert "Paid pledges to allocate" in (await client.get(f"/funds/{fund}")).text
    r = await post_form(client, f"/funds/{fund}/allocate", {"pledge_id": str(given), "project_id": str(two)})
    assert landed(r, "pledge_allocated") == f"/funds/{fund}"
    assert "The pledge is allocated to the project." in (await client.get(r.headers["location"])).text
    assert await pool.fetchval("select status from pledges where id = $1", given) == "allocated"
    r = await post_form(client, f"/funds/{fund}/allocate", {"pledge_id": str(given), "project_id": str(two)})
    assert r.status_code == 409  # allocated already
    # Edit: bad input shows the form again and changes nothing; good input saves.
    edit = {"name_zh": "社区服务配捐基金", "matching": "ratio", "ratio_num": "1", "ratio_den": "2",
            "opens_at": "2026-01-01T09:00", "closes_at": "2025-12-31T09:00"}
    r = await post_form(client, f"/funds/{fund}/edit", edit)
    assert r.status_code == 400 and "has-error" in r.text
    assert await pool.fetchval("select ratio_den from funds where id = $1", fund) == 1
    r = await post_form(client, f"/funds/{fund}/edit", {**edit, "closes_at": "2099-12-31T09:00",
                                                        "per_project_cap_yuan": "5,000"})
    assert r.status_code == 303
    row = await pool.fetchrow("select ratio_den, per_project_cap_fen from funds where id = $1", fund)
    assert tuple(row) == (2, 5_000_00)
    closed = await post_form(client, f"/funds/{fund}/close")
    assert landed(closed, "fund_round_closed") == f"/funds/{fund}"
    assert "The matching round is closed" in (await client.get(closed.headers["location"])).text
    assert await pool.fetchval("select count(*) from matching_runs where fund_id = $1", fund) == 1
    r = await post_form(client, f"/funds/{fund}/close")
    assert r.status_code == 409 and "closed" in r.text


async def test_setting_up_a_fund_through_the_form(client, pool, settings, world):
    client.cookies.set("market_lang", "en")
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.get("/funds/new")).status_code == 200
    before = await pool.fetchval("select count(*) from funds")
    r = await post_form(client, "/funds/new", {"name_zh": "社区服务基金", "matching": "ratio", "ratio_num": "1",
                                               "opens_at": "2026-01-01T09:00", "closes_at": "someday"})
    assert r.status_code == 400 and "has-error" in r.text
    assert await pool.fetchval("select count(*) from funds") == before
    r = await post_form(client, "/funds/new", {"name_zh": "社区服务基金", "name_en": "Community services fund",
                                               "matching": "none"})
    fund = int(landed(r, "fund_created").rsplit("/", 1)[1])
    assert await pool.fetchval("select owner_id from funds where id = $1", fund) == world["buyer_admin"].org_id


async def test_the_pledge_form_shows_what_the_gift_adds_before_confirming(client, pool, settings, world, pool_setup):
    s = pool_setup
    one = s["projects"][0]
    client.cookies.set("market_lang", "en")
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    r = await client.get(f"/pledges/new?target_type=project&target_id={one}")
    assert r.status_code == 200 and "Amount (yuan)" in r.text
    form = {"target_type": "project", "target_id": str(one), "amount_yuan": "1,000", "step": "preview"}
    r = await post_form(client, "/pledges", form)
    assert r.status_code == 200
    assert "Your ¥1,000.00 adds ¥1,000.00 of matching from Community matching pool." in r.text
    assert await pool.fetchval("select count(*) from pledges where funder_id = $1", world.orgs["funder"]) == 0
    r = await post_form(client, "/pledges", {**form, "step": "confirm"})
    assert "Your pledge is recorded." in (await client.get(r.headers["location"])).text
    pledge_id = int(landed(r, "pledge_made").removeprefix("/pledges/"))
    row = await pool.fetchrow("select funder_id, project_id, amount_fen, status from pledges where id = $1", pledge_id)
    assert tuple(row) == (world.orgs["funder"], one, 1_000_00, "pledged")
    # A fund pledge has no matching to preview; an all-or-nothing pledge keeps its target and deadline.
    r = await post_form(client, "/pledges", {"target_type": "fund", "target_id": str(s["fund"]),
                                             "amount_yuan": "200", "step": "preview"})
    assert r.status_code == 200 and "Confirm the pledge" in r.text and "of matching from" not in r.text
    r = await post_form(client, "/pledges", {**form, "condition_target_yuan": "50000", "step": "confirm",
                                             "condition_deadline": (date.today() + timedelta(days=60)).isoformat()})
    assert await pool.fetchval("select condition_target_fen from pledges where id = $1",
                               int(landed(r, "pledge_made").removeprefix("/pledges/"))) == 50_000_00


async def test_bad_pledge_form_input_changes_nothing(client, pool, settings, world, pool_setup):
    one = pool_setup["projects"][0]
    client.cookies.set("market_lang", "en")
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    changes = "select (select count(*) from pledges), (select count(*) from audit_events where verb not like 'user.%')"
    before = tuple(await pool.fetchrow(changes))
    base = {"target_type": "project", "target_id": str(one), "amount_yuan": "100"}
    for change, step in (({"amount_yuan": "abc"}, "preview"), ({"amount_yuan": "-5"}, "confirm"),
                         ({"amount_yuan": ""}, "confirm"), ({"amount_yuan": "1.234"}, "preview"),
                         ({"condition_target_yuan": "5000"}, "confirm"),  # no deadline
                         ({"condition_target_yuan": "5000", "condition_deadline": "2020-01-01"}, "confirm"),
                         ({"condition_deadline": "tomorrow"}, "preview")):
        r = await post_form(client, "/pledges", {**base, **change, "step": step})
        assert r.status_code == 400 and "has-error" in r.text and "Please correct" in r.text, (change, r.status_code)
    for target in ({"target_id": "999999"}, {"target_type": "person"}, {"target_id": str(10**30)}):
        assert (await post_form(client, "/pledges", {**base, **target, "step": "confirm"})).status_code == 404
    assert (await client.get("/pledges/new?target_type=project&target_id=abc")).status_code == 400
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    assert (await post_form(client, "/pledges", {**base, "step": "confirm"})).status_code == 403
    assert tuple(await pool.fetchrow(changes)) == before


def test_the_charts_stay_inside_their_frame():
    from market.funding.funds import charts
    from market.funding.funds.models import MonthFlow

    assert [charts.nice_ceiling(v) for v in (0, 100, 101, 250_00, 1_000_01)] == [100, 100, 200, 500_00, 2_000_00]
    months = [MonthFlow(month=f"2026-{m:02d}", in_fen=m * 1_000_00, out_fen=(13 - m) * 700_00,
                        balance_fen=m * 300_00) for m in range(1, 13)] * 2
    flows, line = charts.flows(months), charts.balance(months)
    assert len(flows.bars) == 48 and len(flows.labels) == 12  # every other month named
    for bar in flows.bars:
        assert bar.x >= charts.LEFT and bar.x + bar.width <= flows.right
        assert bar.y >= charts.TOP and abs(bar.y + bar.height - flows.bottom) < 0.2
    tallest = max(flows.bars, key=lambda b: b.height)
    assert tallest.value_fen == 12_000_00 and flows.ticks[-1].value_fen == 20_000_00
    assert [p.value_fen for p in line.points][:3] == [300_00, 600_00, 900_00]
    assert charts.flows([]) is None and charts.balance([]) is None


async def test_the_funds_list_comes_a_page_at_a_time_newest_first(client, pool, pool_setup):
    s = pool_setup
    added = [await do(pool, pools.create_fund, s["foundation"], FundInput(name_zh=f"分页基金{i}")) for i in range(3)]
    every = [s["fund"], *added][::-1]
    first = (await client.get("/api/funds?limit=2")).json()
    rest = (await client.get(f"/api/funds?limit=2&cursor={first['next_cursor']}")).json()
    assert [f["id"] for f in first["funds"] + rest["funds"]] == every
    assert first["total"] == 4 and rest["next_cursor"] is None
    page = await client.get("/funds?lang=en")
    assert page.status_code == 200 and "1–4 of 4" in page.text
    assert (await client.get("/api/funds?limit=201")).status_code == 400


async def test_the_way_to_give_is_shown_to_those_who_may_give(client, pool, settings, world, pool_setup):
    """Funders, and visitors (who log in on the way), see how to give; a resident or a bureau is told who
    gives and where to register as a funder, rather than sent to a form that refuses them."""
    s = pool_setup
    fund = s["fund"]
    give = f"/pledges/new?target_type=fund&amp;target_id={fund}"
    client.cookies.set("market_lang", "en")
    assert give in (await client.get(f"/funds/{fund}")).text
    await act_as(client, pool, settings, s["donor"].user_id, s["donor"].org_id)
    page = (await client.get(f"/funds/{fund}")).text
    assert give in page and "target_type=project" in page and "Register as a funder" not in page
    for who_ in ("resident", "buyer_admin"):
        await act_as(client, pool, settings, world[who_].user_id)
        for lang, hint in (("en", "Register as a funder"), ("zh_Hans", "注册为资助方")):
            client.cookies.set("market_lang", lang)
            page = (await client.get(f"/funds/{fund}")).text
            assert "/pledges/new" not in page and hint in page and "/organisations/new?kind=funder" in page
