from datetime import date

import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields
from market.dashboard import services as dashboard
from market.procurement.bids import services as bids
from market.procurement.bids.models import BudgetLine
from market.procurement.bids.services import Ineligible
from market.procurement.bids.workflow import BIDS
from market.procurement.calls import services as calls
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import SECRET, bid_input, call_input, do, pass_deadline, who


async def _submit(pool, identity, call_id, data=None):
    async with pool.acquire() as conn, conn.transaction():
        return await bids.submit(conn, identity, call_id, data or bid_input())


PERSONAS = [None, "resident", "buyer_admin", "buyer_staff", "other_provider_admin", "funder_admin", "evaluator",
            "platform_admin", "pending_admin"]


def routes(call_id, bid_id, project_id):
    return [f"/calls/{call_id}", f"/api/calls/{call_id}", f"/api/calls/{call_id}/bids", f"/api/bids/{bid_id}",
            f"/calls/{call_id}/bids", "/calls", "/api/calls", f"/projects/{project_id}", f"/api/projects/{project_id}",
            "/dashboard", "/admin/audit", "/api/admin/audit", f"/api/calls/{call_id}/bid-count"]


async def test_a_bid_is_sealed_from_everyone_but_its_bidder_until_the_deadline(client, pool, world, project, open_call):
    settings = client.app.state.settings
    bid_id = await _submit(pool, await who(pool, settings, world, "provider_admin"), open_call)
    for name in PERSONAS:
        await act_as(client, pool, settings, world[name].user_id if name else None)
        for url in routes(open_call, bid_id, project):
            r = await client.get(url)
            assert SECRET not in r.text and "123,456.78" not in r.text and "12345678" not in r.text, (name, url)
            if url.endswith("/bids") and url.startswith("/api"):
                assert r.json() == [], (name, url)
            if url.endswith("bid-count"):
                assert r.json() == {"bids": None}, (name, url)
        assert (await client.get(f"/api/bids/{bid_id}")).status_code in (401, 404), name
    # the bidder's own colleagues see it
    await act_as(client, pool, settings, world["provider_staff"].user_id)
    assert SECRET in (await client.get(f"/api/bids/{bid_id}")).text


async def test_after_the_deadline_the_buyer_and_the_platform_read_the_bids(client, pool, world, project, open_call):
    settings = client.app.state.settings
    bid_id = await _submit(pool, await who(pool, settings, world, "provider_admin"), open_call)
    await pass_deadline(pool, open_call)
    for name in ("buyer_admin", "buyer_staff", "platform_admin"):
        await act_as(client, pool, settings, world[name].user_id)
        assert SECRET in (await client.get(f"/api/bids/{bid_id}")).text, name
        assert SECRET in (await client.get(f"/calls/{open_call}/bids")).text, name
    for name in (None, "other_provider_admin", "funder_admin", "resident"):
        await act_as(client, pool, settings, world[name].user_id if name else None)
        assert SECRET not in (await client.get(f"/api/calls/{open_call}/bids")).text, name
        assert (await client.get(f"/api/calls/{open_call}/bid-count")).json() == {"bids": 1}, name


async def test_eligibility_refusals_say_which_rule_failed(client, pool, world, project, open_call):
    settings = client.app.state.settings
    # the call is for social service agencies (the catalogue item's types); other_provider is a social group
    with pytest.raises(Ineligible) as exc:
        await _submit(pool, await who(pool, settings, world, "other_provider_admin"), open_call)
    assert len(exc.value.reasons) == 1
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    r = await client.get(f"/api/calls/{open_call}/eligibility")
    assert r.json()["eligible"] is False and len(r.json()["rules"]) == 1
    r = await client.post(f"/api/calls/{open_call}/bid", headers=api_headers(client),
                          json={**__import__("msgspec").to_builtins(bid_input())})
    assert r.status_code == 403 and r.json()["rules"]
    assert await pool.fetchval("select count(*) from bids") == 0


async def test_rating_years_and_district_rules(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(project, min_rating=5, min_years=20,
                                                                   cross_district=False))
        await calls.publish_call(conn, bureau, call_id)
        call = await conn.fetchrow("select * from calls where id = $1", call_id)
        # the provider is 4A, registered 2015, in this district
        problems = await bids.eligibility_problems(conn, world.orgs["provider"], call)
        assert len(problems) == 2
        other_district = await conn.fetchval("insert into jurisdictions (parent_id, level, code, name_zh, name_en) "
                                             "values (null, 'district', '330106', '西湖区', 'Xihu') returning id")
        await conn.execute("update organisations set jurisdiction_id = $1, rating = 5, registration_date = $2 "
                           "where id = $3", other_district, date(1990, 1, 1), world.orgs["provider"])
        (problem,) = await bids.eligibility_problems(conn, world.orgs["provider"], call)
        assert "上城区" in problem
        await conn.execute("update calls set cross_district = true where id = $1", call_id)
        call = await conn.fetchrow("select * from calls where id = $1", call_id)
        assert await bids.eligibility_problems(conn, world.orgs["provider"], call) == []


@pytest.mark.parametrize("change,field", [
    ({"amount": 150_000_01}, "amount_fen"),
    ({"budget_lines": [BudgetLine(item="人员", amount_fen=100)]}, "budget_lines"),
    ({"attachments": ["00000000-0000-0000-0000-000000000000"]}, "attachments"),
])
async def test_a_bad_bid_is_refused(pool, settings, world, open_call, change, field):
    amount = change.pop("amount", 123_456_78)
    data = bid_input(amount, **change)
    with pytest.raises(InvalidFields) as exc:
        await _submit(pool, await who(pool, settings, world, "provider_admin"), open_call, data)
    assert field in {e.field for e in exc.value.errors}
    assert await pool.fetchval("select count(*) from bids") == 0


STATE = {"none": None, "submitted": "submitted", "withdrawn": "withdrawn"}


@pytest.mark.parametrize("source", BIDS.statuses)
@pytest.mark.parametrize("action", BIDS.actions)
async def test_every_bid_transition_allowed_or_refused(pool, settings, world, open_call, source, action):
    provider = await who(pool, settings, world, "provider_admin")
    if source != "none":
        await _submit(pool, provider, open_call)
        if source == "withdrawn":
            async with pool.acquire() as conn, conn.transaction():
                await bids.withdraw(conn, provider, open_call)
    step = BIDS.find(action, source)

    async def act():
        async with pool.acquire() as conn, conn.transaction():
            if action in ("submit", "edit"):
                await bids.submit(conn, provider, open_call, bid_input())
            elif action == "withdraw":
                await bids.withdraw(conn, provider, open_call)
            else:
                await bids.confirm(conn, provider, open_call)
    # submit and edit are one operation: "submit" on a submitted bid edits it, "edit" on none submits
    if step is None and action not in ("submit", "edit"):
        with pytest.raises(Conflict):
            await act()
    else:
        await act()
    status = await pool.fetchval("select status from bids where call_id = $1", open_call)
    expected = step.target if step else ("submitted" if action in ("submit", "edit") else STATE[source])
    assert status == expected


async def test_nothing_moves_after_the_deadline(pool, settings, world, open_call):
    provider = await who(pool, settings, world, "provider_admin")
    await _submit(pool, provider, open_call)
    await pass_deadline(pool, open_call)
    for step in (lambda c: bids.submit(c, provider, open_call, bid_input(100_00, budget_lines=[
            BudgetLine(item="人员", amount_fen=100_00)])),
                 lambda c: bids.withdraw(c, provider, open_call), lambda c: bids.confirm(c, provider, open_call)):
        async with pool.acquire() as conn:
            with pytest.raises(Conflict):
                async with conn.transaction():
                    await step(conn)
    assert await pool.fetchval("select amount_fen from bids") == 123_456_78


async def test_a_changed_call_asks_bidders_to_reconfirm(client, pool, settings, world, project, open_call):
    """A bid not confirmed after the call changed is not evaluated, so its bidder is told (a notice, a
    workbench list until confirmed) and confirms from the call's page, where the changes are."""
    provider = await who(pool, settings, world, "provider_admin")
    bureau = await who(pool, settings, world, "buyer_admin")
    await _submit(pool, provider, open_call)
    async with pool.acquire() as conn:
        assert "bids_to_confirm" not in {x.kind for x in (await dashboard.workbench(conn, provider)).lists}
        async with conn.transaction():
            await calls.update_call(conn, bureau, open_call, call_input(project, budget_ceiling_fen=140_000_00))
        assert (await bids.my_bid(conn, provider, open_call)).needs_reconfirmation
        (to_confirm,) = [x for x in (await dashboard.workbench(conn, provider)).lists if x.kind == "bids_to_confirm"]
    assert [t.link for t in to_confirm.items] == [f"/calls/{open_call}#bid"] and to_confirm.total == 1
    told = await pool.fetch("select user_id, link from notifications where kind = 'call_changed'")
    people = await pool.fetchval("select array_agg(user_id order by user_id) from memberships where organisation_id = $1",
                                 provider.org_id)
    assert sorted(r["user_id"] for r in told) == people and {r["link"] for r in told} == {f"/calls/{open_call}#bid"}
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    page = (await client.get(f"/calls/{open_call}?lang=zh_Hans")).text
    assert f'action="/calls/{open_call}/bid/confirm"' in page and 'href="#changes"' in page and 'id="changes"' in page
    confirmed = await post_form(client, f"/calls/{open_call}/bid/confirm")
    assert landed(confirmed, "bid_confirmed") == f"/calls/{open_call}"
    assert "该投标将参加评审" in (await client.get(confirmed.headers["location"])).text
    async with pool.acquire() as conn:
        assert not (await bids.my_bid(conn, provider, open_call)).needs_reconfirmation
        assert "bids_to_confirm" not in {x.kind for x in (await dashboard.workbench(conn, provider)).lists}
    assert f'action="/calls/{open_call}/bid/confirm"' not in (await client.get(f"/calls/{open_call}")).text


async def test_the_bidders_of_a_cancelled_call_are_told_why(pool, settings, world, open_call):
    provider = await who(pool, settings, world, "provider_admin")
    bureau = await who(pool, settings, world, "buyer_admin")
    await _submit(pool, provider, open_call)
    await do(pool, calls.cancel_call, bureau, open_call, "服务范围需要调整，重新发布。")
    told = await pool.fetch("select user_id, link, params from notifications where kind = 'call_cancelled'")
    assert provider.user_id in {r["user_id"] for r in told} and {(r["link"], r["params"]["reason"]) for r in told} == {
        (f"/calls/{open_call}", "服务范围需要调整，重新发布。")}


async def test_withdraw_and_resubmit_through_the_pages(client, pool, world, open_call):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    form = {"objectives": f"上门助浴服务目标。{SECRET}", "activities": "每月两次上门助浴服务。", "team": "社工两名、护理员四名",
            "amount_yuan": "100000", "line-0-item": "人员", "line-0-yuan": "90000", "line-1-item": "耗材",
            "line-1-yuan": "10000", "indicator-0-name": "服务人次", "indicator-0-target": "400"}
    assert (await client.get(f"/calls/{open_call}/bid")).status_code == 200
    r = await post_form(client, f"/calls/{open_call}/bid", {**form, "line-1-yuan": "5000"})
    assert r.status_code == 400 and "budget_lines" in r.text
    assert (await post_form(client, f"/calls/{open_call}/bid", form)).status_code == 303
    assert (await post_form(client, f"/calls/{open_call}/bid/withdraw", {"confirmed-withdraw": "yes"})).status_code == 303
    assert await pool.fetchval("select status from bids") == "withdrawn"
    assert (await post_form(client, f"/calls/{open_call}/bid", form)).status_code == 303
    assert await pool.fetchval("select status from bids") == "submitted"
    assert await pool.fetchval("select amount_fen from bids") == 100_000_00


async def test_only_provider_staff_bid(pool, settings, world, open_call):
    for name in ("buyer_admin", "funder_admin", "pending_admin"):
        with pytest.raises(Forbidden):
            await _submit(pool, await who(pool, settings, world, name), open_call)


async def test_cancelling_a_call_before_its_deadline_opens_no_bid(client, pool, world, open_call):
    settings = client.app.state.settings
    await _submit(pool, await who(pool, settings, world, "provider_admin"), open_call)
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        await calls.cancel_call(conn, bureau, open_call, "预算调整，本项目暂停采购。")
        assert await bids.readable_bids(conn, bureau, open_call) == []
        assert await bids.public_count(conn, open_call) is None
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert SECRET not in (await client.get(f"/calls/{open_call}/bids")).text
