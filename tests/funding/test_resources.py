"""The resources list (资源清单): funders list what they offer; who may, what is shown to whom, the
filters, and how resources are matched to a need."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import msgspec
import pytest

from market.accounts.services import insert_membership, insert_user
from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.core.i18n import use_locale
from market.funding.resources import display
from market.funding.resources import services as resources
from market.funding.resources.models import ResourceInput
from market.organisations.services import insert_organisation
from market.procurement.needs import services as needs
from market.procurement.needs.models import NeedInput
from tests.conftest import act_as, api_headers, identity_of, landed, post_form
from tests.factories import do, who
from tests.world import _HASH, code

MONEY = ResourceInput(kind="money", title="2026年社区助老基金", amount_fen=100_000_00)


@pytest.fixture
async def people(pool, settings, world):
    """The world's funder with staff and finance members, a second funder and an unverified one."""
    async with pool.acquire() as conn, conn.transaction():
        async def org(key, serial, status="verified"):
            world.orgs[key] = await insert_organisation(
                conn, kind="funder", subtype="foundation", name_zh=f"测试{key}", name_en=f"Test {key}",
                credit_code=code("53", serial), jurisdiction_id=world.district, rating=None, registration_date=None,
                description="", contact_name="联系人", contact_phone="0571-1234", contact_email=f"{key}@org.test",
                address="地址", status=status)

        await org("other_funder", 20)
        await org("pending_funder", 21, status="pending")
        ids = {}
        for name, org_key, role in (("funder_staff", "funder", "staff"), ("funder_finance", "funder", "finance"),
                                    ("other_funder_admin", "other_funder", "admin"),
                                    ("pending_funder_admin", "pending_funder", "admin")):
            ids[name] = (await insert_user(
                conn, email=f"{name}@people.test", display_name=name, password_hash=_HASH, community_id=None,
                locale="zh_Hans"), world.orgs[org_key])
            await insert_membership(conn, user_id=ids[name][0], organisation_id=ids[name][1],
                                                     role=role)
    out = {name: await identity_of(pool, settings, uid, org_id) for name, (uid, org_id) in ids.items()}
    for name in ("funder_admin", "provider_admin", "buyer_admin", "platform_admin", "resident"):
        out[name] = await who(pool, settings, world, name)
    out["anonymous"] = None
    out["ids"] = ids
    return out


def offer(**change):
    return msgspec.structs.replace(MONEY, **change)


async def _count(pool):
    return (await pool.fetchval("select count(*) from resources"),
            await pool.fetchval("select count(*) from audit_events where verb like 'resource.%'"))


async def _titles(pool, identity, **filters):
    async with pool.acquire() as conn:
        return [r.title for r in await resources.list_resources(conn, identity, **filters)]


async def test_each_kind_is_listed(pool, people, world):
    admin = people["funder_admin"]
    made = {
        "money": await do(pool, resources.create, admin, MONEY),
        "goods": await do(pool, resources.create, admin, ResourceInput(kind="goods", title="米面油",
                                                                        quantity="500份")),
        "venue": await do(pool, resources.create, admin, ResourceInput(
            kind="venue", title="企业会议室", quantity="可容纳80人，周末", available_from=date.today(),
            available_until=date.today() + timedelta(days=90))),
        # Staff may list too.
        "volunteer_hours": await do(pool, resources.create, people["funder_staff"], ResourceInput(
            kind="volunteer_hours", title="员工志愿服务", quantity="200小时", beneficiary_groups=["older_people"])),
    }
    async with pool.acquire() as conn:
        for kind, resource_id in made.items():
            r = await resources.get(conn, None, resource_id)
            assert (r.kind, r.funder_id, r.private, r.withdrawn_at) == (kind, world.orgs["funder"], False, None)
        assert (await resources.get(conn, None, made["money"])).amount_fen == 100_000_00
        assert (await resources.get(conn, None, made["goods"])).amount_fen is None
    assert sorted(await _titles(pool, None)) == sorted(["2026年社区助老基金", "米面油", "企业会议室", "员工志愿服务"])
    assert await _count(pool) == (4, 4)


@pytest.mark.parametrize("bad,field", [
    (offer(amount_fen=None), "amount_fen"),
    (ResourceInput(kind="goods", title="米面油", amount_fen=100, quantity="500份"), "amount_fen"),
    (ResourceInput(kind="goods", title="米面油", quantity="  "), "quantity"),
    (offer(title=" 资 "), "title"),  # long enough until it is trimmed
    (offer(available_from=date(2030, 5, 1), available_until=date(2030, 4, 30)), "available_until"),
    (offer(available_until=date.today() - timedelta(days=1)), "available_until"),
    (offer(categories=["01", "99"]), "categories"),
    (offer(jurisdiction_ids=[2_000_000_000]), "jurisdiction_ids"),
])
async def test_refusals_change_nothing(pool, people, world, published, bad, field):
    admin = people["funder_admin"]
    before = await _count(pool)
    with pytest.raises(InvalidFields) as refused:
        await do(pool, resources.create, admin, bad)
    assert field in refused.value.field_errors()
    assert await _count(pool) == before


async def test_only_a_verified_funders_admins_and_staff_list_and_change_its_own(pool, people, world):
    public = await do(pool, resources.create, people["funder_admin"], MONEY)
    private = await do(pool, resources.create, people["funder_admin"], offer(title="定向捐赠", private=True))
    for name in ("funder_finance", "pending_funder_admin", "provider_admin", "buyer_admin", "resident",
                 "platform_admin"):
        with pytest.raises(Forbidden):
            await do(pool, resources.create, people[name], MONEY)
        with pytest.raises(Forbidden):
            await do(pool, resources.update, people[name], public, offer(title="改了"))
        with pytest.raises(Forbidden):
            await do(pool, resources.withdraw, people[name], public)
    other = people["other_funder_admin"]
    with pytest.raises(Forbidden):  # another funder: the public entry is not its own
        await do(pool, resources.update, other, public, offer(title="改了"))
    with pytest.raises(Forbidden):
        await do(pool, resources.withdraw, other, public)
    for fn, args in ((resources.update, (offer(title="改了"),)), (resources.withdraw, ())):
        with pytest.raises(NotFound):  # the private one does not exist for it
            await do(pool, fn, other, private, *args)
        with pytest.raises(NotFound):
            await do(pool, fn, people["resident"], private, *args)
    assert await _titles(pool, people["funder_admin"]) == ["定向捐赠", "2026年社区助老基金"]
    assert await pool.fetchval("select count(*) from resources where withdrawn_at is not null") == 0
    await do(pool, resources.update, people["funder_staff"], public, offer(title="改了", amount_fen=5_00))
    async with pool.acquire() as conn:
        assert (await resources.get(conn, None, public)).amount_fen == 5_00
    assert await pool.fetchval("select count(*) from audit_events where verb = 'resource.edit'") == 1


async def test_private_entries_are_for_their_funder_and_the_platform(client, pool, people, world):
    private = await do(pool, resources.create, people["funder_admin"], offer(title="定向捐赠", private=True))
    async with pool.acquire() as conn:
        for name in ("anonymous", "resident", "other_funder_admin", "provider_admin"):
            with pytest.raises(NotFound):
                await resources.get(conn, people[name], private)
            assert await resources.list_resources(conn, people[name]) == []
        for name in ("funder_admin", "funder_finance", "platform_admin"):
            assert (await resources.get(conn, people[name], private)).private
            assert [r.id for r in await resources.list_resources(conn, people[name])] == [private]
    settings = client.app.state.settings
    client.cookies.set("market_lang", "en")
    for user in (None, world["resident"].user_id, people["ids"]["other_funder_admin"][0]):
        await act_as(client, pool, settings, user)
        assert (await client.get(f"/resources/{private}")).status_code == 404
        assert (await client.get(f"/api/resources/{private}")).status_code == 404
        assert "定向捐赠" not in (await client.get("/resources")).text
        assert (await client.get("/api/resources")).json()["resources"] == []
    uid, org_id = people["ids"]["other_funder_admin"]
    await act_as(client, pool, settings, uid, org_id)
    r = await client.put(f"/api/resources/{private}", json={"kind": "money", "title": "偷改", "amount_fen": 1},
                         headers=api_headers(client))
    assert r.status_code == 404
    assert (await client.get(f"/resources/{private}/edit")).status_code == 404
    await act_as(client, pool, settings, world["funder_admin"].user_id, world.orgs["funder"])
    page = await client.get(f"/resources/{private}")
    assert page.status_code == 200 and "Private" in page.text
    assert "定向捐赠" in (await client.get("/resources")).text
    assert await pool.fetchval("select title from resources where id = $1", private) == "定向捐赠"


async def test_withdrawn_entries_leave_the_public_list_and_stay_with_their_funder(client, pool, people, world):
    kept = await do(pool, resources.create, people["funder_admin"], offer(title="长期助老基金"))
    gone = await do(pool, resources.create, people["funder_admin"], offer(title="已撤回的基金"))
    settings = client.app.state.settings
    await act_as(client, pool, settings, people["ids"]["funder_staff"][0], world.orgs["funder"])
    r = await post_form(client, f"/resources/{gone}/withdraw")
    assert r.status_code == 303
    assert await pool.fetchval("select withdrawn_at is not null from resources where id = $1", gone)
    with pytest.raises(Conflict):
        await do(pool, resources.withdraw, people["funder_admin"], gone)
    with pytest.raises(Conflict):
        await do(pool, resources.update, people["funder_admin"], gone, offer(title="复活"))
    assert await _titles(pool, None) == ["长期助老基金"]
    assert await _titles(pool, people["other_funder_admin"]) == ["长期助老基金"]
    assert await _titles(pool, people["funder_finance"]) == ["长期助老基金", "已撤回的基金"]  # withdrawn last
    client.cookies.set("market_lang", "en")
    page = (await client.get(f"/resources/{gone}")).text
    assert "Withdrawn on" in page and "Withdraw this resource" not in page
    assert "Withdraw this resource" in (await client.get(f"/resources/{kept}")).text
    await act_as(client, pool, settings, None)
    assert (await client.get(f"/resources/{gone}")).status_code == 404
    assert [r["id"] for r in (await client.get("/api/resources")).json()["resources"]] == [kept]
    assert "已撤回的基金" not in (await client.get("/resources")).text


async def test_the_filters(pool, people, world, published):
    admin, other = people["funder_admin"], people["other_funder_admin"]
    await do(pool, resources.create, admin, offer(title="养老专项·东坡路", categories=["01"],
                                                   jurisdiction_ids=[world.community]))
    await do(pool, resources.create, admin, offer(title="社工专项·全区", categories=["08"],
                                                   jurisdiction_ids=[world.district]))
    await do(pool, resources.create, admin, ResourceInput(kind="volunteer_hours", title="青年路志愿者", quantity="100小时",
                                                           jurisdiction_ids=[world.other_community],
                                                           beneficiary_groups=["children"]))
    await do(pool, resources.create, other, ResourceInput(kind="goods", title="通用物资 100%_满意", quantity="300份"))

    async def titles(**filters):
        return sorted(await _titles(pool, None, **filters))

    assert await titles(kind="goods") == ["通用物资 100%_满意"]
    # A category filter keeps those naming it and those open to any category.
    assert await titles(category="01") == ["养老专项·东坡路", "通用物资 100%_满意", "青年路志愿者"]
    # A place filter keeps what is offered there, above it, below it, or anywhere.
    assert await titles(place=world.community) == ["养老专项·东坡路", "社工专项·全区", "通用物资 100%_满意"]
    assert await titles(place=world.street) == sorted(["养老专项·东坡路", "社工专项·全区", "青年路志愿者",
                                                       "通用物资 100%_满意"])
    assert await titles(group="children") == sorted(["养老专项·东坡路", "社工专项·全区", "青年路志愿者",
                                                     "通用物资 100%_满意"])
    assert await titles(group="children", kind="volunteer_hours") == ["青年路志愿者"]
    assert await titles(funder=world.orgs["other_funder"]) == ["通用物资 100%_满意"]
    assert await titles(q="专项") == ["养老专项·东坡路", "社工专项·全区"]
    assert await titles(q="%_") == ["通用物资 100%_满意"]  # wildcards are searched for, not obeyed
    assert await titles(q="0%满") == []
    async with pool.acquire() as conn:
        first = await resources.resource_list(conn, None, limit=3)
        rest = await resources.resource_list(conn, None, limit=3, cursor=first.next_cursor)
    assert len(first.resources) == 3 and first.more and [r.title for r in rest.resources] == [
        t for t in await titles() if t not in [r.title for r in first.resources]]


async def _need(pool, settings, world, title, description):
    resident = await who(pool, settings, world, "resident")
    return await do(pool, needs.raise_need, resident, NeedInput(
        title=title, description=description, community_id=world.community, beneficiaries="独居老人"))


async def test_for_need_best_fit_first_with_the_reason(pool, settings, people, world, published):
    need = await _need(pool, settings, world, "老人助餐服务", "社区独居老人吃饭难，希望提供助餐服务。")
    assert await pool.fetchval("select e.code from needs n join catalogue_entries e on e.id = n.suggested_entry_id "
                               "where n.id = $1", need) == "01.01.01"
    admin = people["funder_admin"]

    async def add(title, **change):
        return await do(pool, resources.create, admin, offer(title=title, **change))

    anything = await add("不限")
    place_only = await add("湖滨街道", jurisdiction_ids=[world.street])
    both = await add("东坡路养老", categories=["01", "08"], jurisdiction_ids=[world.other_community, world.community,
                                                                           world.district])
    category_only = await add("养老", categories=["01"])
    await add("社工", categories=["08"])
    await add("青年路", jurisdiction_ids=[world.other_community])
    await add("私密", categories=["01"], private=True)
    await do(pool, resources.withdraw, admin, await add("撤回", categories=["01"]))
    ended = await add("过期", categories=["01"])
    await pool.execute("update resources set available_until = current_date - 1 where id = $1", ended)

    with use_locale("en"):
        async with pool.acquire() as conn:
            fits = (await resources.for_need(conn, need)).fits
            # A page at a time, in the same order, each once.
            first = await resources.for_need(conn, need, limit=3)
            rest = await resources.for_need(conn, need, limit=3, cursor=first.next_cursor)
    assert [f.resource.id for f in fits] == [both, category_only, place_only, anything]
    assert [f.resource.id for f in first.fits + rest.fits] == [both, category_only, place_only, anything]
    assert first.total == 4 and rest.next_cursor is None and rest.previous_cursor is not None
    assert [(f.names_category, f.names_place) for f in fits] == [(True, True), (True, False), (False, True),
                                                                  (False, False)]
    # The most local place it names that contains the need's community.
    assert fits[0].reason == "It prefers Elderly care in 330102-s1-c1 (en)."
    assert fits[1].reason == "It prefers Elderly care, anywhere."
    assert fits[2].reason == "It is offered in 330102-s1 (en), for any kind of service."
    assert fits[3].reason == "It is open to any kind of service, anywhere."

    # Without a category, only resources open to any category fit.
    vague = await _need(pool, settings, world, "想要一些帮助", "具体需要什么还说不清楚，请来看看。")
    async with pool.acquire() as conn:
        assert [f.resource.id for f in (await resources.for_need(conn, vague)).fits] == [place_only, anything]
        with pytest.raises(NotFound):
            await resources.for_need(conn, 10_000_000)


async def test_money_offered_counts_current_money(pool, people, world):
    admin = people["funder_admin"]
    await do(pool, resources.create, admin, offer(amount_fen=10_000_00))
    await do(pool, resources.create, admin, offer(amount_fen=5_000_00, private=True,
                                                   available_from=date.today() + timedelta(days=30)))
    await do(pool, resources.withdraw, admin, await do(pool, resources.create, admin, offer(amount_fen=7_00)))
    ended = await do(pool, resources.create, admin, offer(amount_fen=3_00))
    await pool.execute("update resources set available_until = current_date - 1 where id = $1", ended)
    await do(pool, resources.create, admin, ResourceInput(kind="goods", title="米面油", quantity="500份"))
    await do(pool, resources.create, people["other_funder_admin"], offer(amount_fen=99_00))
    async with pool.acquire() as conn:
        assert await resources.money_offered(conn, world.orgs["funder"]) == 15_000_00
        assert await resources.money_offered(conn, world.orgs["other_funder"]) == 99_00
        assert await resources.money_offered(conn, world.orgs["provider"]) == 0


async def test_the_form_takes_yuan_and_several_preferences(client, pool, people, world, published):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["funder_admin"].user_id, world.orgs["funder"])
    client.cookies.set("market_lang", "en")
    form = (await client.get("/resources/new")).text
    assert "List a resource" in form and 'value="01"' in form and 'name="_csrf_token"' in form
    fields = {"kind": "money", "title": "助老助餐基金", "amount_yuan": "12,500.50", "categories": ["01", "08"],
              "jurisdiction_ids": [str(world.community), str(world.street)], "beneficiary_groups": "older_people",
              "available_until": (date.today() + timedelta(days=365)).isoformat(), "private": "true"}
    r = await post_form(client, "/resources/new", fields)
    # A private resource is not said to be found by anyone; a public one is.
    shown = (await client.get(r.headers["location"])).text
    assert "only your organisation and the platform see it" in shown and "Anyone can find it" not in shown
    row = await pool.fetchrow("select * from resources")
    assert row["amount_fen"] == 1_250_050 and row["categories"] == ["01", "08"] and row["private"]
    assert row["jurisdiction_ids"] == [world.community, world.street] and row["beneficiary_groups"] == ["older_people"]
    edit = (await client.get(landed(r, "resource_listed_private") + "/edit")).text
    assert 'value="12500.50"' in edit and 'value="08" checked' in edit
    # Bad yuan, or money without an amount: the form comes back marked, nothing changes.
    for bad in ({"amount_yuan": "十万"}, {"amount_yuan": ""}):
        r = await post_form(client, f"/resources/{row['id']}/edit", {**fields, **bad})
        assert r.status_code == 400 and 'id="e-amount_yuan"' in r.text
    assert await pool.fetchval("select amount_fen from resources") == 1_250_050
    r = await post_form(client, f"/resources/{row['id']}/edit", {**fields, "amount_yuan": "800", "private": ""})
    assert r.status_code == 303
    assert await pool.fetchrow("select amount_fen, private from resources") == (80000, False)
    detail = (await client.get(f"/resources/{row['id']}")).text
    assert "¥800.00" in detail and "Elderly care" in detail and f'href="/organisations/{world.orgs["funder"]}"' in detail
    public = await post_form(client, "/resources/new", {**fields, "title": "公开的助老基金", "private": ""})
    landed(public, "resource_listed")
    assert "Anyone can find it among the resources." in (await client.get(public.headers["location"])).text


@pytest.mark.parametrize("lang,html_lang", [("zh_Hans", "zh-Hans"), ("en", "en")])
async def test_pages_render_in_both_languages(client, pool, people, world, published, lang, html_lang):
    resource_id = await do(pool, resources.create, people["funder_admin"], offer(categories=["01"]))
    await act_as(client, pool, client.app.state.settings, world["funder_admin"].user_id, world.orgs["funder"])
    client.cookies.set("market_lang", lang)
    for path in ("/resources", f"/resources/{resource_id}", "/resources/new", f"/resources/{resource_id}/edit",
                 f"/resources?kind=money&category=01&place={world.street}&group=children&q=x",
                 "/resources?place=&kind=&category=&group=&funder=&q=", "/lists"):
        r = await client.get(path)
        assert r.status_code == 200 and f'<html lang="{html_lang}">' in r.text, path
    assert "2026年社区助老基金" in (await client.get("/resources?kind=money&category=01&group=")).text
    assert "2026年社区助老基金" not in (await client.get("/resources?kind=goods")).text
    assert "2026年社区助老基金" not in (await client.get("/resources?category=08")).text


async def test_the_json_api(client, pool, people, world, published):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["funder_admin"].user_id, world.orgs["funder"])
    body = {"kind": "venue", "title": "企业活动室", "quantity": "周末全天", "categories": ["01"]}
    r = await client.post("/api/resources", json=body, headers=api_headers(client))
    assert r.status_code == 201 and r.json()["funder_id"] == world.orgs["funder"]
    resource_id = r.json()["id"]
    r = await client.post("/api/resources", json={**body, "categories": ["77"]}, headers=api_headers(client))
    assert r.status_code == 400 and "categories" in r.json()["errors"]
    r = await client.put(f"/api/resources/{resource_id}", json={**body, "title": "企业多功能厅"},
                         headers=api_headers(client))
    assert r.status_code == 200 and r.json()["title"] == "企业多功能厅"
    await act_as(client, pool, settings, world["resident"].user_id)
    assert (await client.put(f"/api/resources/{resource_id}", json=body, headers=api_headers(client))).status_code == 403
    listed = (await client.get("/api/resources?kind=venue&category=01")).json()  # the list page's twin: its view
    assert [x["id"] for x in listed["resources"]] == [resource_id] and not listed["more"]
    assert not listed["can_list"]  # a resident lists no resource
    assert (await client.get("/api/resources?kind=money")).json()["resources"] == []
    assert (await client.get(f"/api/resources/{resource_id}")).json()["editable"] is False
    assert (await client.get("/api/resources?category=1")).status_code == 400
    need = await _need(pool, settings, world, "老人助餐服务", "社区独居老人吃饭难，希望提供助餐服务。")
    fits = (await client.get(f"/api/needs/{need}/resources")).json()
    assert [(f["resource"]["id"], f["names_category"]) for f in fits["fits"]] == [(resource_id, True)]
    assert fits["total"] == 1 and fits["next_cursor"] is None
    assert (await client.get(f"/api/needs/{need}/resources?limit=201")).status_code == 400
    await act_as(client, pool, settings, world["funder_admin"].user_id, world.orgs["funder"])
    r = await client.post(f"/api/resources/{resource_id}/withdraw", headers=api_headers(client))
    assert r.status_code == 201 and r.json()["withdrawn_at"]
    await act_as(client, pool, settings, None)
    assert (await client.get(f"/api/resources/{resource_id}")).status_code == 404


@pytest.mark.parametrize("locale,period,private,withdrawn", [
    ("zh_Hans", "2027年1月2日 至 2027年3月4日", "不公开", "已撤回"),
    ("en", "Jan 2, 2027 to Mar 4, 2027", "private", "withdrawn"),
])
def test_a_resources_offer_period_and_badges_read_in_the_pages_language(locale, period, private, withdrawn):
    both = SimpleNamespace(amount_fen=None, quantity="<b>20 箱</b>", available_from=date(2027, 1, 2),
                           available_until=date(2027, 3, 4), private=True, withdrawn_at=datetime(2027, 1, 1, tzinfo=UTC))
    money = SimpleNamespace(amount_fen=1_234_500, available_from=None, available_until=date(2027, 3, 4),
                            private=False, withdrawn_at=None)
    with use_locale(locale):
        assert (display.offer(both), display.offer(money)) == ("<b>20 箱</b>", "¥12,345.00")
        assert display.period(both) == period
        assert display.period(money) == ("至 2027年3月4日" if locale == "zh_Hans" else "until Mar 4, 2027")
        # The badges are markup; the quantity is text, which the page escapes as it does any.
        assert display.badges(both) == (f' <span class="badge pending">{private}</span>'
                                        f' <span class="badge rejected">{withdrawn}</span>')
        assert display.badges(money) == "" and not hasattr(display.offer(both), "__html__")
