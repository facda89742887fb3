"""My contracts (我的合同): each organisation sees its own contracts and no one else's, as buyer or as
provider (both, for an organisation on both sides), narrowed by status and title, a page at a time;
the page is for those who sign for a buyer or a provider, and their workbench links to it."""

from __future__ import annotations

from datetime import date

import pytest

from market.core.errors import Forbidden, Invalid
from market.delivery import listing
from market.delivery import services as delivery
from tests.conftest import act_as
from tests.factories import clone_contract, do, identity_for_user, make_person, who


async def _list(pool, settings, world, name: str, **filters):
    identity = await who(pool, settings, world, name)
    async with pool.acquire() as conn:
        return await listing.contract_list(conn, identity, **filters)


async def test_each_organisation_sees_its_own_contracts_and_where_they_stand(pool, settings, world, signed):
    other = await clone_contract(pool, signed, world.orgs["other_provider"])
    await pool.execute("update contracts set status = 'draft', buyer_signed_at = null, provider_signed_at = null "
                       "where id = $1", other)
    await do(pool, delivery.accept_milestone, await who(pool, settings, world, "buyer_admin"), signed, 1, 400)

    bureau = await _list(pool, settings, world, "buyer_staff")
    assert [c.id for c in bureau.items] == [other, signed] and bureau.total == 2
    assert bureau.side == "buyer" and bureau.sides == ["buyer"]
    mine = bureau.items[1]
    assert mine.other_id == world.orgs["provider"] and mine.other_name_zh == "测试provider"
    assert mine.status == "in_delivery" and (mine.milestones_accepted, mine.milestones) == (1, 6)
    second_due = await pool.fetchval("select due_date from contract_milestones where contract_id = $1 and position = 2",
                                     signed)
    assert mine.next_due == second_due and mine.signed_at is not None
    assert mine.amount_fen == await pool.fetchval("select amount_fen from contracts where id = $1", signed)
    draft = bureau.items[0]
    assert draft.status == "draft" and draft.signed_at is None and draft.milestones_accepted == 0
    assert draft.next_due == date(2027, 1, 1)  # the first milestone, due on the service's first day

    provider = await _list(pool, settings, world, "provider_staff")
    assert [c.id for c in provider.items] == [signed] and provider.side == "provider"
    assert provider.items[0].other_id == world.orgs["bureau"] and provider.items[0].side == "provider"
    assert [c.id for c in (await _list(pool, settings, world, "other_provider_admin")).items] == [other]
    # Asking for the buyer's side shows a provider only the contracts it bought: none.
    assert (await _list(pool, settings, world, "provider_admin", side="buyer")).items == []


async def test_an_organisation_on_both_sides_chooses_the_side(pool, settings, world, signed):
    bought = await clone_contract(pool, signed, world.orgs["other_provider"])
    await pool.execute("update contracts set buyer_id = $2 where id = $1", bought, world.orgs["provider"])

    as_provider = await _list(pool, settings, world, "provider_admin")
    assert [c.id for c in as_provider.items] == [signed] and as_provider.sides == ["buyer", "provider"]
    as_buyer = await _list(pool, settings, world, "provider_admin", side="buyer")
    assert [c.id for c in as_buyer.items] == [bought] and as_buyer.items[0].side == "buyer"
    assert as_buyer.items[0].other_id == world.orgs["other_provider"]
    # The bureau no longer holds that one.
    assert [c.id for c in (await _list(pool, settings, world, "buyer_admin")).items] == [signed]


async def test_status_and_title_narrow_the_list(pool, settings, world, signed):
    unsigned = await clone_contract(pool, signed, world.orgs["provider"])
    await pool.execute("update contracts set status = 'provider_signed' where id = $1", unsigned)
    await pool.execute("update calls set title_zh = '青年路社区助餐服务采购', title_en = 'Meals for Qingnian Road' "
                       "where id = (select call_id from contracts where id = $1)", unsigned)
    ended = await clone_contract(pool, signed, world.orgs["provider"])
    await pool.execute("insert into contract_delivery (contract_id, status, decided_stage, ended_reason, ended_at) "
                       "values ($1, 'ended', 'midterm', '中期评估不合格', now())", ended)

    async def ids(**filters) -> list[int]:
        return [c.id for c in (await _list(pool, settings, world, "buyer_admin", **filters)).items]

    assert await ids() == [ended, unsigned, signed]
    assert await ids(status="in_delivery") == [signed]
    assert await ids(status="ended") == [ended]
    assert await ids(status="provider_signed") == [unsigned]
    assert await ids(status="draft") == [] and await ids(status="completed") == []
    assert await ids(q="青年路") == [unsigned]
    assert await ids(q="qingnian meals") == [unsigned]
    assert await ids(q="助浴", status="ended") == [ended]
    shown = (await _list(pool, settings, world, "buyer_admin", status="ended")).items[0]
    assert shown.status == "ended" and shown.next_due is None  # an ended contract has nothing more due
    with pytest.raises(Invalid):
        await ids(status="signed")  # not a status of the list: both signed is "in delivery" and after


async def test_the_list_comes_a_page_at_a_time(pool, settings, world, signed):
    # The copies share the original's creation time: the id orders them, each in one place.
    copies = [await clone_contract(pool, signed, world.orgs["provider"]) for _ in range(6)]
    every = [*reversed(copies), signed]
    first = await _list(pool, settings, world, "provider_admin", limit=3)
    assert [c.id for c in first.items] == every[:3] and (first.first, first.total) == (0, 7)
    assert first.previous_cursor is None and first.next_cursor
    second = await _list(pool, settings, world, "provider_admin", limit=3, cursor=first.next_cursor)
    assert [c.id for c in second.items] == every[3:6] and second.first == 3
    third = await _list(pool, settings, world, "provider_admin", limit=3, cursor=second.next_cursor)
    assert [c.id for c in third.items] == every[6:] and third.next_cursor is None
    back = await _list(pool, settings, world, "provider_admin", limit=3, cursor=second.previous_cursor)
    assert [c.id for c in back.items] == every[:3] and back.first == 0


@pytest.mark.parametrize("name", ["resident", "funder_admin", "evaluator", "pending_admin", "platform_admin"])
async def test_only_those_who_sign_for_a_buyer_or_provider_read_a_list(pool, settings, world, signed, name):
    with pytest.raises(Forbidden):
        await _list(pool, settings, world, name)


async def test_the_page_and_its_twin_from_the_workbench(client, pool, settings, world, signed):
    async with pool.acquire() as conn:  # a finance officer signs and pays for the bureau: the list is theirs too
        finance = await make_person(conn, world, "bureau.finance", "bureau", "finance")
    for uid, org, other in ((finance, world.orgs["bureau"], world.orgs["provider"]),
                            (world["provider_admin"].user_id, world.orgs["provider"], world.orgs["bureau"])):
        await act_as(client, pool, settings, uid, org)
        board = await client.get("/dashboard")
        assert 'href="/contracts" id="my-contracts"' in board.text
        shown = await client.get("/contracts")
        assert shown.status_code == 200 and f'href="/contracts/{signed}"' in shown.text
        assert f">{signed:06d}<" in shown.text and f'href="/organisations/{other}"' in shown.text
        assert f'data-contract="{signed}" data-status="in_delivery"' in shown.text
        twin = (await client.get("/api/contracts?status=in_delivery")).json()
        assert [c["id"] for c in twin["items"]] == [signed] and twin["total"] == 1
    await act_as(client, pool, settings, world["provider_admin"].user_id, world.orgs["provider"])
    assert "履约中" in (await client.get("/contracts")).text
    assert (await client.get("/api/contracts?side=elsewhere")).status_code == 400
    await act_as(client, pool, settings, world["funder_admin"].user_id, world.orgs["funder"])
    assert (await client.get("/api/contracts")).status_code == 403
    assert 'id="my-contracts"' not in (await client.get("/dashboard")).text


async def test_the_demo_logins_see_their_contracts(database, pool, settings):
    """The bureau's staff and the street office and committee that bought last year each see their own
    contracts as buyer; ngo01, ngo06 and ngo10 theirs as provider."""
    from market.demo import load_demo

    async with pool.acquire() as conn:
        await load_demo(conn)
    seen = {}
    for local in ("bureau", "bureau.finance", "wangjiang.office", "wangjiang.community", "ngo01", "ngo01.staff",
                  "ngo06", "ngo10"):
        person = await pool.fetchrow("select m.user_id, m.organisation_id from memberships m join users u "
                                     "on u.id = m.user_id where u.email = $1", f"{local}@demo.market")
        identity = await identity_for_user(pool, settings, person["user_id"], person["organisation_id"])
        async with pool.acquire() as conn:
            found = await listing.contract_list(conn, identity)
        assert found.items and all(c.side == found.side for c in found.items), local
        seen[local] = (found.side, found.total)
    assert seen["bureau"] == seen["bureau.finance"] and seen["bureau"][0] == "buyer" and seen["bureau"][1] >= 8
    assert seen["ngo01"] == seen["ngo01.staff"] == ("provider", 2)
    # Every project and call of the demo has its title in English too, for a reader of the English pages.
    for table in ("projects", "calls"):
        assert await pool.fetchval(f"select count(*) from {table} where title_en = ''") == 0, table
    assert {seen[local][0] for local in ("wangjiang.office", "wangjiang.community")} == {"buyer"}
