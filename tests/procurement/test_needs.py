import asyncpg
import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields
from market.funding.resources import services as resources
from market.places.services import insert_jurisdiction
from market.funding.resources.models import ResourceInput
from market.procurement.needs import services as needs
from market.procurement.needs import workflow
from market.procurement.needs.models import Decision, NeedInput, ProjectInput
from tests.conftest import act_as, api_headers, identity_of, post_form
from tests.factories import who
from tests.world import code


def need_input(world, **change):
    return NeedInput(**{"title": "独居老人午餐没人做", "description": "小区里很多独居老人中午吃不上热饭，希望有助餐送餐服务。",
                        "community_id": world.community, "beneficiaries": "80岁以上独居老人", "beneficiary_count": 35,
                        "urgency": "high", **change})


async def raise_(pool, settings, world, name="resident", **change):
    async with pool.acquire() as conn, conn.transaction():
        return await needs.raise_need(conn, await who(pool, settings, world, name), need_input(world, **change))


ITEMS = [(1, "助餐服务 Meal service", "为老年人提供助餐服务"), (2, "上门助浴 Home bathing", "为老年人提供上门助浴服务"),
         (3, "街道社工站运营 Street social-work station", "运营街道社工站，提供专业社会工作服务")]


def test_the_suggestion_finds_the_item_people_mean():
    assert needs.rank_items("老人中午吃不上饭，希望有助餐", ITEMS)[0][1] == 1
    assert needs.rank_items("卧床老人没法洗澡，需要上门助浴", ITEMS)[0][1] == 2
    assert needs.rank_items("路灯坏了", ITEMS) == []
    # a word every item shares is no evidence
    assert all(score < needs.MIN_SUGGESTION_SCORE for score, _ in needs.rank_items("需要服务", ITEMS))


async def test_a_need_gets_the_catalogue_item_it_fits(pool, settings, world, published):
    need_id = await raise_(pool, settings, world)
    async with pool.acquire() as conn:
        need = await needs.get_need(conn, need_id)
        assert need.suggested_entry_id == published["01.01.01"]
        assert need.status == "open" and need.supporters == 0
        other = await needs.get_need(conn, await raise_(pool, settings, world, title="楼道路灯坏了",
                                                            description="三号楼楼道路灯坏了一个月没人修。"))
    assert other.suggested_entry_id is None


async def test_raising_a_need_through_the_page_hides_who_raised_it(client, pool, world, published):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await post_form(client, "/needs/new", {"title": "独居老人午餐没人做", "community_id": world.community,
                                               "description": "小区里很多独居老人中午吃不上热饭，希望有助餐。",
                                               "beneficiaries": "独居老人", "urgency": "urgent"})
    assert r.status_code == 303
    url = r.headers["location"]
    client.cookies.delete("market_session")
    page = (await client.get(url)).text
    assert "独居老人午餐没人做" in page and world["resident"].email not in page and "resident" not in page
    assert "助餐服务" in page  # the suggested catalogue item
    assert "raised_by" not in (await client.get("/api" + url)).json()


async def test_a_bad_need_is_refused_field_by_field(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await post_form(client, "/needs/new", {"title": "x", "community_id": world.street, "urgency": "whenever"})
    assert r.status_code == 400
    for field in ("title", "description", "beneficiaries", "urgency"):
        assert f'id="e-{field}"' in r.text, field
    r = await post_form(client, "/needs/new", {"title": "路灯坏了很久", "description": "三号楼楼道路灯坏了一个月。",
                                               "beneficiaries": "三号楼居民", "community_id": world.street})
    assert r.status_code == 400 and 'id="e-community_id"' in r.text  # a street is not a community
    assert await pool.fetchval("select count(*) from needs") == 0


async def test_a_place_step_shows_the_form_again_as_typed_and_does_nothing(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    typed = {"title": "路灯坏了很久", "description": "三号楼楼道路灯坏了一个月。", "urgency": "urgent"}
    r = await post_form(client, "/needs/new", {**typed, "_place": world.street, "_idem": "step-key-0001"})
    assert r.status_code == 200 and 'id="errors"' not in r.text
    assert 'value="路灯坏了很久"' in r.text and "三号楼楼道路灯坏了一个月。" in r.text
    street = await pool.fetchval("select name_zh from jurisdictions where id = $1", world.street)
    assert f'name="_place" value="{world.street}" aria-current="true">{street}</button>' in r.text
    community = await pool.fetchval("select name_zh from jurisdictions where id = $1", world.community)
    assert f'<option value="{world.community}"' in r.text and community in r.text  # the street's communities
    r = await post_form(client, "/needs/new", {**typed, "_place": "all", "_idem": "step-key-0002"})
    assert r.status_code == 200 and 'value="路灯坏了很久"' in r.text
    assert await pool.fetchval("select count(*) from needs") == 0
    # The form as sent then (a fresh key, as the page shown again carries) raises the need once.
    r = await post_form(client, "/needs/new", {**typed, "beneficiaries": "三号楼居民", "community_id": world.community,
                                               "_idem": "step-key-0003"})
    assert r.status_code == 303 and await pool.fetchval("select count(*) from needs") == 1


async def test_one_support_per_person(pool, settings, world):
    need_id = await raise_(pool, settings, world)
    async with pool.acquire() as conn:
        async with conn.transaction():
            assert await needs.support(conn, await who(pool, settings, world, "provider_staff"), need_id) == 1
        async with conn.transaction():
            assert await needs.support(conn, await who(pool, settings, world, "funder_admin"), need_id) == 2
        for name in ("provider_staff", "resident"):  # again; and the raiser
            with pytest.raises(Conflict):
                async with conn.transaction():
                    await needs.support(conn, await who(pool, settings, world, name), need_id)
        assert (await needs.get_need(conn, need_id)).supporters == 2
        assert await conn.fetchval("select count(*) from need_supports where need_id = $1", need_id) == 2


async def test_support_through_the_api(client, pool, world):
    need_id = await raise_(pool, client.app.state.settings, world)
    await act_as(client, pool, client.app.state.settings, world["evaluator"].user_id)
    r = await client.post(f"/api/needs/{need_id}/support", headers=api_headers(client))
    assert r.status_code == 201 and r.json() == {"supporters": 1}
    r = await client.post(f"/api/needs/{need_id}/support", headers=api_headers(client))
    assert r.status_code == 409


ACTOR = {"raiser": "resident", "buyer": "buyer_staff"}


@pytest.mark.parametrize("source", workflow.NEED_STATUSES)
@pytest.mark.parametrize("action", [a for a in workflow.NEEDS.actions if a != "approve"])
async def test_every_need_transition_allowed_or_refused(pool, settings, world, source, action):
    need_id = await raise_(pool, settings, world)
    await pool.execute("update needs set status = $1 where id = $2", source, need_id)
    step = workflow.NEEDS.find(action, source)
    actor = await who(pool, settings, world, ACTOR[next(iter(step.who))] if step else "buyer_staff")
    async with pool.acquire() as conn:
        async with conn.transaction():
            if step is None:
                with pytest.raises(Conflict):
                    await needs.change_need(conn, actor, need_id, action, Decision(reason="理由"))
            else:
                assert await needs.change_need(conn, actor, need_id, action, Decision(reason="理由")) == step.target
        assert await conn.fetchval("select status from needs where id = $1", need_id) == (step.target if step else source)


@pytest.mark.parametrize("action,wrong", [("withdraw", "buyer_admin"), ("withdraw", "provider_admin"),
                                          ("decline", "resident"), ("decline", "provider_admin")])
async def test_the_wrong_person_cannot_move_a_need(pool, settings, world, action, wrong):
    need_id = await raise_(pool, settings, world)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(Forbidden):
            await needs.change_need(conn, await who(pool, settings, world, wrong), need_id, action, Decision(reason="x"))


async def test_approval_only_by_making_a_project(pool, settings, world):
    need_id = await raise_(pool, settings, world)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(Conflict):
            await needs.change_need(conn, await who(pool, settings, world, "buyer_admin"), need_id, "approve", Decision())


async def _other_street_office(pool, world):
    async with pool.acquire() as conn, conn.transaction():
        street = await conn.fetchval("insert into jurisdictions (parent_id, level, code, name_zh, name_en) "
                                     "values ($1, 'street', '330102-s9', '清波街道', 'Qingbo') returning id", world.district)
        office = await conn.fetchval("""insert into organisations (kind, subtype, name_zh, credit_code, jurisdiction_id, status)
                                        values ('buyer', 'street_office', '清波街道办事处', $1, $2, 'verified') returning id""",
                                     code("11", 77), street)
        user = await conn.fetchval("insert into users (email, display_name, password_hash) select 'qb@x.cn', '清波', "
                                   "password_hash from users limit 1 returning id")
        await conn.execute("insert into memberships values ($1, $2, 'admin')", user, office)
    return user, office


async def test_only_the_buyer_of_the_area_decides(pool, settings, world, published):
    need_id = await raise_(pool, settings, world)
    user, office = await _other_street_office(pool, world)
    outsider = await identity_of(pool, settings, user, office)
    async with pool.acquire() as conn:
        with pytest.raises(Forbidden):
            async with conn.transaction():
                await needs.change_need(conn, outsider, need_id, "decline", Decision(reason="不归我们管"))
        with pytest.raises(InvalidFields) as exc:
            async with conn.transaction():
                await needs.create_project(conn, outsider, ProjectInput(
                    title_zh="别人的项目", description="试图为别的街道立项。", catalogue_entry_id=published["01.01.01"],
                    budget_fen=100, budget_line="某资金", jurisdiction_id=world.street, need_ids=[need_id]))
    assert {e.field for e in exc.value.errors} == {"jurisdiction_id"}


async def test_decline_needs_a_reason_the_raiser_then_sees(client, pool, world):
    settings = client.app.state.settings
    need_id = await raise_(pool, settings, world)
    await act_as(client, pool, settings, world["buyer_staff"].user_id)
    r = await post_form(client, f"/needs/{need_id}/decline", {"reason": ""})
    assert r.status_code == 400 and await pool.fetchval("select status from needs where id = $1", need_id) == "open"
    r = await post_form(client, f"/needs/{need_id}/decline", {"reason": "已由社区食堂覆盖"})
    assert r.status_code == 303
    await act_as(client, pool, settings, world["resident"].user_id)
    dashboard = (await client.get("/dashboard")).text
    assert "独居老人午餐没人做" in dashboard
    assert "已由社区食堂覆盖" in (await client.get(f"/needs/{need_id}")).text


async def test_who_raised_or_supported_a_need_is_told_what_the_buyer_decided(client, pool, world, published):
    """A resident who raised a need, and those who support it, were never told that it became a project
    or was declined: they had to come back to its page. Each is told now, in the inbox and by email, in
    their language, with the project or the reason; the buyer's person who decided is not."""
    settings = client.app.state.settings
    first = await raise_(pool, settings, world)
    second = await raise_(pool, settings, world, title="老人吃饭难的问题")
    for name in ("provider_staff", "buyer_admin"):
        # Each in its own transaction: `who` logs in, which appends to the audit trail too.
        supporter = await who(pool, settings, world, name)
        async with pool.acquire() as conn, conn.transaction():
            await needs.support(conn, supporter, first)
    resident, supporter = world["resident"].user_id, world["provider_staff"].user_id
    await pool.execute("update users set locale = 'en' where id = $1", supporter)
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    r = await post_form(client, f"/needs/{second}/decline", {"reason": "已由社区食堂覆盖"})
    assert r.status_code == 303
    r = await post_form(client, f"/needs/{second}/reopen")
    assert r.status_code == 303
    r = await client.post("/projects/new", data={
        "_csrf_token": client.cookies["market_csrf"], "need_ids": [str(first)], "title_zh": "东坡路社区老年助餐",
        "title_en": "Dongpo Road meals for older people", "description": "为辖区独居老人提供午餐助餐和送餐服务。",
        "jurisdiction_id": str(world.street), "catalogue_entry_id": str(published["01.01.01"]),
        "budget_yuan": "12,500", "budget_line": "2026年福利彩票公益金"})
    assert r.status_code == 303, r.text[:2000]
    project = int(r.headers["location"].split("?")[0].rsplit("/", 1)[1])
    told = await pool.fetch("select user_id, kind, link from notifications where kind like 'need_%'")
    assert sorted((t["user_id"], t["kind"], t["link"]) for t in told) == sorted([
        (resident, "need_declined", f"/needs/{second}"), (resident, "need_reopened", f"/needs/{second}"),
        (resident, "need_approved", f"/projects/{project}"), (supporter, "need_approved", f"/projects/{project}")])
    await act_as(client, pool, settings, resident)
    inbox = (await client.get("/api/inbox/?lang=zh_Hans")).json()["items"]
    assert inbox[0]["text"] == "您提出或支持的需求“独居老人午餐没人做”已立项：东坡路社区老年助餐。"
    assert inbox[2]["text"] == "您提出或支持的需求“老人吃饭难的问题”未予立项：已由社区食堂覆盖"
    await act_as(client, pool, settings, supporter)
    (approved,) = (await client.get("/api/inbox/?lang=en")).json()["items"]
    assert approved["text"] == ("The need “独居老人午餐没人做”, which you raised or support, is now a project: "
                                "Dongpo Road meals for older people.")


async def test_a_project_from_two_needs(client, pool, world, published):
    settings = client.app.state.settings
    first = await raise_(pool, settings, world)
    second = await raise_(pool, settings, world, "provider_staff", community_id=world.other_community,
                          title="老人吃饭难的问题")
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    form = await client.get(f"/projects/new?need={first}&need={second}")
    assert form.status_code == 200 and "助餐服务" in form.text
    r = await client.post("/projects/new", data={
        "_csrf_token": client.cookies["market_csrf"], "need_ids": [str(first), str(second)],
        "title_zh": "东坡路社区老年助餐", "description": "为辖区独居老人提供午餐助餐和送餐服务。",
        "jurisdiction_id": str(world.street), "catalogue_entry_id": str(published["01.01.01"]),
        "budget_yuan": "12,500.50", "budget_line": "2026年福利彩票公益金"})
    assert r.status_code == 303, r.text[:2000]
    project = (await client.get("/api" + r.headers["location"])).json()["project"]
    assert project["budget_fen"] == 1250050 and project["need_ids"] == [first, second]
    for need_id in (first, second):
        need = (await client.get(f"/api/needs/{need_id}")).json()
        assert need["status"] == "approved" and need["project_id"] == project["id"]
    listed = (await client.get(f"/api/projects?place={world.street}")).json()
    assert [p["id"] for p in listed["items"]] == [project["id"]] and listed["total"] == 1
    assert (await client.get(f"/api/projects?place={world.other_community}")).json()["items"] == []


async def test_a_refused_project_form_with_a_place_id_no_place_has_is_shown_again(client, pool, world, published):
    """The form comes back with its problems, whatever number the place field was sent with: one too
    large for a place id once reached the database and failed the page."""
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    r = await post_form(client, "/projects/new", {"title_zh": "", "jurisdiction_id": "99999999999",
                                                  "budget_yuan": "12,500.50"})
    assert r.status_code == 400, r.text[:2000]
    assert await pool.fetchval("select count(*) from projects") == 0


async def test_a_project_must_be_for_an_item_of_the_catalogue_in_force(pool, settings, world, published):
    need_id = await raise_(pool, settings, world)
    buyer = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn:
        draft = await conn.fetchval("select e.id from catalogue_entries e join catalogue_versions v on v.id = e.version_id "
                                    "where v.status = 'published' and e.level = 'category' limit 1")
        with pytest.raises(InvalidFields) as exc:
            async with conn.transaction():
                await needs.create_project(conn, buyer, ProjectInput(
                    title_zh="不在目录里的项目", description="用类别而不是服务事项立项。", catalogue_entry_id=draft,
                    budget_fen=100_00, budget_line="某资金", jurisdiction_id=world.street, need_ids=[need_id]))
        assert [e.field for e in exc.value.errors] == ["catalogue_entry_id"]
        # nothing happened
        assert await conn.fetchval("select count(*) from projects") == 0
        assert await conn.fetchval("select status from needs where id = $1", need_id) == "open"


async def test_only_buyers_staff_approve_projects(client, pool, world, published):
    settings = client.app.state.settings
    for name, expected in (("provider_admin", 403), ("resident", 403)):
        await act_as(client, pool, settings, world[name].user_id)
        r = await client.post("/api/projects", headers=api_headers(client), json={
            "title_zh": "某个项目名称", "description": "某个项目的说明文字。", "catalogue_entry_id": published["01.01.01"],
            "budget_fen": 100, "budget_line": "某资金", "jurisdiction_id": world.street})
        assert r.status_code == expected
    assert await pool.fetchval("select count(*) from projects") == 0


async def test_needs_list_filters(client, pool, world):
    settings = client.app.state.settings
    a = await raise_(pool, settings, world)
    b = await raise_(pool, settings, world, community_id=world.other_community, title="青年路社区缺少儿童活动场地")
    await pool.execute("update needs set status = 'declined' where id = $1", b)
    def ids(r):
        return [n["id"] for n in r.json()["items"]]
    assert set(ids(await client.get("/api/needs"))) == {a, b}
    assert ids(await client.get("/api/needs?status=open")) == [a]
    assert ids(await client.get(f"/api/needs?place={world.other_community}")) == [b]
    assert ids(await client.get("/api/needs?q=儿童")) == [b]
    page = await client.get(f"/needs?place={world.community}")
    assert "独居老人午餐没人做" in page.text and "儿童活动场地" not in page.text
    # A filter form left on "any" sends empty values: on a page that is no filter.
    page = await client.get("/needs?place=&status=&category=&q=")
    assert page.status_code == 200 and "独居老人午餐没人做" in page.text
    for listing in ("/projects?place=&category=", "/calls?place=&status=", "/lists?place=&category="):
        assert (await client.get(listing)).status_code == 200, listing
    assert (await client.get("/api/needs?place=")).status_code == 400  # the JSON API stays strict


async def test_a_district_or_a_street_lists_the_needs_of_its_communities(client, pool, world):
    settings = client.app.state.settings
    async with pool.acquire() as conn:
        async def place(parent, level, code, zh):
            return await insert_jurisdiction(conn, parent_id=parent, level=level, code=code, name_zh=zh, name_en=code)
        street = await place(world.district, "street", "330102-s2", "清波街道")
        nearby = await place(street, "community", "330102-s2-c1", "柳翠井巷社区")
        district = await place(None, "district", "330105", "拱墅区")
        far = await place(await place(district, "street", "330105-s1", "米市巷街道"), "community", "330105-s1-c1", "卖鱼桥社区")
    here = await raise_(pool, settings, world)
    there = await raise_(pool, settings, world, community_id=nearby, title="柳翠井巷缺少老年食堂")
    away = await raise_(pool, settings, world, community_id=far, title="卖鱼桥社区路灯不亮需要修")

    async def listed(place_id):
        return {n["id"] for n in (await client.get(f"/api/needs?place={place_id}")).json()["items"]}
    assert await listed(world.district) == {here, there}
    assert await listed(world.street) == {here} and await listed(street) == {there}
    assert await listed(district) == {away} and await listed(world.community) == {here}
    # The needs keep their street and district: a place does not move to another parent.
    with pytest.raises(asyncpg.RaiseError):
        await pool.execute("update jurisdictions set parent_id = $1 where id = $2", district, street)
    assert await listed(world.district) == {here, there}


async def test_the_three_lists_page(client, pool, world, published):
    settings = client.app.state.settings
    need_id = await raise_(pool, settings, world)
    funder = await who(pool, settings, world, "funder_admin")
    async with pool.acquire() as conn, conn.transaction():
        await resources.create(conn, funder, ResourceInput(kind="money", title="助老基金", amount_fen=100_000_00,
                                                           categories=["01"]))
    page = await client.get("/lists")
    assert page.status_code == 200 and "独居老人午餐没人做" in page.text and "助老基金" in page.text
    other = (await client.get("/lists?category=08")).text
    assert "独居老人午餐没人做" not in other and "助老基金" not in other
    assert need_id


async def test_the_three_lists_have_a_json_twin(client, pool, world, published):
    settings = client.app.state.settings
    need_id = await raise_(pool, settings, world)
    funder = await who(pool, settings, world, "funder_admin")
    async with pool.acquire() as conn, conn.transaction():
        await resources.create(conn, funder, ResourceInput(kind="money", title="助老基金", amount_fen=100_000_00,
                                                           categories=["01"]))
    lists = (await client.get("/api/lists")).json()
    assert [n["id"] for n in lists["needs"]] == [need_id] and [r["title"] for r in lists["resources"]] == ["助老基金"]
    assert lists["projects"] == [] and lists["filters"] == {"place": None, "category": ""}
    other = (await client.get("/api/lists?category=08")).json()
    assert other["needs"] == [] and other["resources"] == [] and other["filters"]["category"] == "08"
    assert (await client.get("/api/lists?category=x")).status_code == 400


async def test_the_need_view_says_what_the_reader_may_do(client, pool, world):
    settings = client.app.state.settings
    need_id = await raise_(pool, settings, world)
    view = (await client.get(f"/api/needs/{need_id}")).json()
    assert view["actions"] == [] and view["place"]["id"] == world.community and not view["is_raiser"]
    await act_as(client, pool, settings, world["resident"].user_id)
    view = (await client.get(f"/api/needs/{need_id}")).json()
    assert view["is_raiser"] and view["actions"] == ["withdraw"] and not view["supported"]
    await act_as(client, pool, settings, world["buyer_staff"].user_id)
    view = (await client.get(f"/api/needs/{need_id}")).json()
    assert view["is_buyer"] and view["actions"] == ["decline"]
    for url in (f"/needs/{10**9}", f"/api/needs/{10**9}", f"/projects/{10**9}", f"/api/projects/{10**9}"):
        assert (await client.get(url)).status_code == 404, url
