from datetime import date, timedelta

import pytest

from market.core.errors import Conflict, Forbidden
from market.organisations import services as organisations
from market.organisations import workflow
from market.organisations.models import StatusChange
from tests.conftest import act_as, api_headers, identity_of, landed, post_form
from tests.factories import make_org
from tests.world import code

VALID_PROVIDER = {"kind": "provider", "subtype": "social_group", "name_zh": "新成立的互助会", "credit_code": code("51", 90),
                  "registration_date": "2020-05-01", "rating": "3", "contact_phone": "0571-0000"}


async def _count(pool, sql, *args):
    async with pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def test_registering_makes_a_pending_organisation_with_its_registrant_as_admin(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await post_form(client, "/organisations/new", {**VALID_PROVIDER, "jurisdiction_id": world.street,
                                                       "credit_code": VALID_PROVIDER["credit_code"].lower()})
    org_id = int(landed(r, "organisation_registered").rsplit("/", 1)[1])
    assert "正在等待平台审核" in (await client.get(r.headers["location"])).text
    me = (await client.get("/api/me")).json()
    assert me["organisation_id"] == org_id and me["role"] == "admin" and me["organisation_status"] == "pending"
    async with pool.acquire() as conn:
        row = await conn.fetchrow("select status, credit_code, rating from organisations where id = $1", org_id)
        assert dict(row) == {"status": "pending", "credit_code": VALID_PROVIDER["credit_code"], "rating": 3}
        assert await conn.fetchval("select count(*) from audit_events where verb = 'organisation.register'") == 1
    # not public until verified, but its members see it
    assert (await client.get(f"/organisations/{org_id}")).status_code == 200
    client.cookies.delete("market_session")
    assert (await client.get(f"/organisations/{org_id}")).status_code == 404
    assert (await client.get(f"/api/organisations/{org_id}")).status_code == 404


@pytest.mark.parametrize("change,field", [
    ({"credit_code": code("51", 90)[:17] + "0" if code("51", 90)[17] != "0" else "1"}, "credit_code"),
    ({"credit_code": ""}, "credit_code"),
    ({"registration_date": (date.today() + timedelta(days=3)).isoformat()}, "registration_date"),
    ({"subtype": "enterprise"}, "subtype"),
    ({"rating": "6"}, "rating"),
    ({"name_zh": "x" * 101}, "name_zh"),
    ({"kind": "government"}, "kind"),
])
async def test_bad_registration_is_refused_field_by_field_and_writes_nothing(client, pool, world, change, field):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    before = await _count(pool, "select count(*) from organisations")
    r = await post_form(client, "/organisations/new", {**VALID_PROVIDER, "jurisdiction_id": world.street, **change})
    assert r.status_code == 400
    assert f'id="e-{field}"' in r.text
    assert await _count(pool, "select count(*) from organisations") == before
    assert await _count(pool, "select count(*) from memberships where user_id = $1", world["resident"].user_id) == 0


async def test_an_already_registered_code_is_refused(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await post_form(client, "/organisations/new", {**VALID_PROVIDER, "jurisdiction_id": world.street,
                                                       "credit_code": code("52", 3)})
    assert r.status_code == 400 and "e-credit_code" in r.text


async def test_a_buyer_must_sit_at_its_level_of_government(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await post_form(client, "/organisations/new", {"kind": "buyer", "subtype": "street_office", "name_zh": "某街道办",
                                                       "credit_code": code("11", 91), "jurisdiction_id": world.community})
    assert r.status_code == 400 and "e-jurisdiction_id" in r.text


async def test_an_individual_donor_needs_no_code(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await client.post("/api/organisations", headers=api_headers(client), json={
        "kind": "funder", "subtype": "individual", "name_zh": "爱心人士 刘女士", "jurisdiction_id": world.district})
    assert r.status_code == 201 and r.json()["status"] == "pending"


@pytest.mark.parametrize("source", workflow.ORGANISATION.statuses)
@pytest.mark.parametrize("action", workflow.ORGANISATION.actions)
async def test_every_status_change_allowed_or_refused(pool, settings, world, source, action):
    org = world.orgs["other_provider"]
    async with pool.acquire() as conn:
        await conn.execute("update organisations set status = $1 where id = $2", source, org)
    step = workflow.ORGANISATION.find(action, source)
    person = world["other_provider_admin"] if step and "organisation_admin" in step.who else world["platform_admin"]
    who = await identity_of(pool, settings, person.user_id, person.org_id)
    async with pool.acquire() as conn:
        async with conn.transaction():
            if step is None:
                with pytest.raises(Conflict):
                    await organisations.change_status(conn, who, org, action, StatusChange(reason="理由"))
            else:
                assert await organisations.change_status(conn, who, org, action, StatusChange(reason="理由")) == step.target
        status = await conn.fetchval("select status from organisations where id = $1", org)
        events = await conn.fetchval("select count(*) from audit_events where object_id = $1 and object_type = 'organisation'",
                                     str(org))
    assert status == (step.target if step else source)
    assert events == (1 if step else 0)


@pytest.mark.parametrize("action,source", [(t.action, t.source) for t in workflow.ORGANISATION.transitions
                                           if t.who == {"platform_admin"}])
async def test_only_the_platform_takes_platform_decisions(pool, settings, world, action, source):
    org = world.orgs["other_provider"]
    async with pool.acquire() as conn:
        await conn.execute("update organisations set status = $1 where id = $2", source, org)
    for name in ("other_provider_admin", "buyer_admin", "evaluator"):
        person = world[name]
        who = await identity_of(pool, settings, person.user_id, person.org_id)
        async with pool.acquire() as conn, conn.transaction():
            with pytest.raises(Forbidden):
                await organisations.change_status(conn, who, org, action, StatusChange(reason="理由"))


async def test_reject_needs_a_reason_the_organisation_then_sees(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["platform_admin"].user_id)
    org = world.orgs["pending_provider"]
    r = await post_form(client, f"/admin/organisations/{org}/reject", {"reason": ""})
    assert r.status_code == 400 and await _count(pool, "select status from organisations where id = $1", org) == "pending"
    r = await post_form(client, f"/admin/organisations/{org}/reject", {"reason": "登记证书照片无法辨认"})
    assert r.status_code == 303
    await act_as(client, pool, client.app.state.settings, world["pending_admin"].user_id)
    page = await client.get(f"/organisations/{org}")
    assert "登记证书照片无法辨认" in page.text
    # and its people are told, with why, without having to look for it
    (told,) = (await client.get("/api/inbox")).json()["items"]
    assert told["link"] == f"/organisations/{org}" and "登记证书照片无法辨认" in told["text"] and "未通过" in told["text"]


async def test_an_organisation_verified_is_told_so(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["platform_admin"].user_id)
    org = world.orgs["pending_provider"]
    r = await post_form(client, f"/admin/organisations/{org}/verify", {"confirmed-verify": "yes"})
    assert r.status_code == 303
    await act_as(client, pool, client.app.state.settings, world["pending_admin"].user_id)
    (told,) = (await client.get("/api/inbox?lang=en")).json()["items"]
    assert told["link"] == f"/organisations/{org}" and told["text"] == "The platform has verified Test pending_provider: it may now act on the platform."


async def test_unverified_organisation_cannot_act(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["pending_admin"].user_id)
    me = (await client.get("/api/me")).json()
    assert me["organisation_status"] == "pending"
    page = await client.get("/dashboard")
    assert page.status_code == 200 and 'class="alert warning"' in page.text


async def test_private_contact_details_are_for_members_only(client, pool, world):
    settings = client.app.state.settings
    org = world.orgs["provider"]
    public = (await client.get(f"/api/organisations/{org}")).json()
    assert public["private"] is None and "contact_phone" not in public["org"] and public["documents"] == []
    assert "私密地址" not in (await client.get(f"/organisations/{org}")).text
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    assert (await client.get(f"/api/organisations/{org}")).json()["private"] is None
    await act_as(client, pool, settings, world["provider_staff"].user_id)
    assert (await client.get(f"/api/organisations/{org}")).json()["private"]["address"] == "私密地址"


@pytest.mark.parametrize("attacker", ["other_provider_admin", "buyer_admin", "provider_staff", "resident"])
async def test_editing_another_organisations_id_in_the_url_is_refused(client, pool, world, attacker):
    settings = client.app.state.settings
    org = world.orgs["provider"]
    await act_as(client, pool, settings, world[attacker].user_id)
    snapshot = await _count(pool, "select row(o.*)::text from organisations o where id = $1", org)
    members = await _count(pool, "select count(*) from memberships where organisation_id = $1", org)
    expected = 403 if attacker == "provider_staff" else 404
    for method, url, kw in [
        ("get", f"/organisations/{org}/edit", {}),
        ("post", f"/organisations/{org}/edit", {"data": {"name_zh": "被篡改的名称"}}),
        ("get", f"/organisations/{org}/members", {}),
        ("post", f"/organisations/{org}/members", {"data": {"email": world["resident"].email, "role": "admin"}}),
        ("post", f"/organisations/{org}/members/{world['provider_admin'].user_id}/remove", {}),
        ("get", f"/api/organisations/{org}/members", {}),
        ("post", f"/api/organisations/{org}/members", {"json": {"email": world["resident"].email, "role": "admin"}}),
        ("put", f"/api/organisations/{org}", {"json": {"kind": "provider", "subtype": "social_service_agency",
                                                        "name_zh": "被篡改的名称", "jurisdiction_id": world.district}}),
    ]:
        if "data" in kw:
            kw = {"data": {"_csrf_token": client.cookies.get("market_csrf"), **kw["data"]}}
        r = await getattr(client, method)(url, headers=api_headers(client), **kw)
        assert r.status_code == expected, (method, url, r.status_code)
    assert await _count(pool, "select row(o.*)::text from organisations o where id = $1", org) == snapshot
    assert await _count(pool, "select count(*) from memberships where organisation_id = $1", org) == members


async def test_organisation_admin_manages_members(client, pool, world):
    settings = client.app.state.settings
    org = world.orgs["provider"]
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    r = await post_form(client, f"/organisations/{org}/members", {"email": world["resident"].email, "role": "finance"})
    assert landed(r, "member_added") == f"/organisations/{org}/members"
    assert "成员已添加" in (await client.get(r.headers["location"])).text
    # the person added is told, with the way to act for it
    await act_as(client, pool, settings, world["resident"].user_id)
    (told,) = [n for n in (await client.get("/api/inbox")).json()["items"] if n["link"] == f"/account?for={org}"]
    assert "测试provider" in told["text"]
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    r = await post_form(client, f"/organisations/{org}/members", {"email": "not an address", "role": "staff"})
    assert r.status_code == 400 and "e-email" in r.text
    # an address no account uses is invited (tests/accounts/test_invitations.py)
    r = await post_form(client, f"/organisations/{org}/members", {"email": "ghost@people.test", "role": "staff"})
    landed(r, "member_invited")
    r = await post_form(client, f"/organisations/{org}/members/{world['provider_admin'].user_id}/remove")
    assert r.status_code == 409  # the last administrator stays
    assert await _count(pool, "select role from memberships where user_id = $1 and organisation_id = $2",
                        world["provider_admin"].user_id, org) == "admin"


async def test_directory_lists_verified_organisations_only(client, world):
    directory = (await client.get("/api/organisations?kind=provider")).json()
    names = [o["name_zh"] for o in directory["organisations"]]
    assert directory["total"] == len(names) == 2 and directory["kind"] == "provider"
    assert "测试provider" in names and "测试pending_provider" not in names
    page = await client.get("/organisations?q=other")
    assert "测试other_provider" in page.text and "测试funder" not in page.text


async def test_a_form_shows_every_problem_at_once(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await post_form(client, "/organisations/new", {"kind": "provider", "subtype": "social_group",
                                                       "rating": "9", "registration_date": "someday"})
    assert r.status_code == 400
    for field in ("name_zh", "jurisdiction_id", "rating", "registration_date"):
        assert f'id="e-{field}"' in r.text, field


async def test_the_platform_sees_a_pending_organisations_documents_when_verifying(client, pool, world):
    from market.storage import services as storage
    app = client.app
    pending = world["pending_admin"]
    who = await identity_of(pool, app.state.settings, pending.user_id, pending.org_id)
    async with pool.acquire() as conn, conn.transaction():
        await storage.store(conn, app.state.storage, app.state.settings, who, b"%PDF-1.4\n%%EOF\n", "登记证书.pdf")
    await act_as(client, pool, app.state.settings, world["platform_admin"].user_id)
    assert "登记证书.pdf" in (await client.get(f"/organisations/{pending.org_id}")).text
    await act_as(client, pool, app.state.settings, world["provider_admin"].user_id)
    assert (await client.get(f"/organisations/{pending.org_id}")).status_code == 404


async def test_the_verification_queue_twin_is_the_pages_view_and_the_platforms_alone(client, pool, world):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.get("/api/admin/organisations")).status_code == 403
    assert (await client.get("/admin/organisations")).status_code == 403
    await act_as(client, pool, settings, world["platform_admin"].user_id)
    queue = (await client.get("/api/admin/organisations")).json()
    assert [o["id"] for o in queue["organisations"]] == [world.orgs["pending_provider"]]
    assert queue["places"][str(world.district)]["level"] == "district"
    assert "测试pending_provider" in (await client.get("/admin/organisations")).text
    profile = (await client.get(f"/api/organisations/{world.orgs['pending_provider']}")).json()
    assert profile["actions"] == ["verify", "reject"] and profile["private"]["address"] == "私密地址"


async def test_the_members_twin_is_the_pages_view(client, pool, world):
    org = world.orgs["provider"]
    await act_as(client, pool, client.app.state.settings, world["provider_staff"].user_id)
    assert (await client.get(f"/api/organisations/{org}/members")).status_code == 403
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    view = (await client.get(f"/api/organisations/{org}/members")).json()
    assert view["org"]["id"] == org and {m["display_name"] for m in view["members"]} >= {"provider_admin",
                                                                                         "provider_staff"}
    assert "provider_staff" in (await client.get(f"/organisations/{org}/members")).text


async def test_a_late_matter_escalates_to_the_nearest_buyer_above(pool, world):
    async with pool.acquire() as conn:
        office = await make_org(conn, world, "office", "buyer", "street_office", 81, world.street)
        committee = await make_org(conn, world, "committee", "buyer", "community", 82, world.community)
        await make_org(conn, world, "pending_office", "buyer", "street_office", 83, world.street, status="pending")
        assert await organisations.overseer_of(conn, committee) == office
        assert await organisations.overseer_of(conn, office) == world.orgs["bureau"]
        assert await organisations.overseer_of(conn, world.orgs["bureau"]) is None  # the top of the district
        # a provider placed in the community answers to the nearest buyer at or above it
        ngo = await make_org(conn, world, "ngo", "provider", "social_group", 84, world.community,
                             registered=date(2020, 1, 1))
        assert await organisations.overseer_of(conn, ngo) == committee
        assert await organisations.overseer_of(conn, world.orgs["provider"]) == world.orgs["bureau"]
