from datetime import UTC, date, datetime, timedelta

import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields
from market.procurement.awards import panels
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.calls import workflow as calls_workflow
from market.procurement.calls.forms import form_of
from market.procurement.calls.models import REVISION_FIELDS, CriterionInput
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput
from market.procurement.days import add_days
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import bid_input, call_input, do, make_project, pass_deadline, who
from tests.world import PASSWORD


async def _meals_project(pool, bureau, world, published) -> int:
    """A project of 助餐服务 (01.01.01), an item that social groups and social service agencies both provide."""
    async with pool.acquire() as conn, conn.transaction():
        return await needs.create_project(conn, bureau, ProjectInput(
            title_zh="湖滨街道老年助餐项目", description="为老人提供助餐服务一年。", catalogue_entry_id=published["01.01.01"],
            budget_fen=200_000_00, budget_line="民政专项", jurisdiction_id=world.street))


async def _create(pool, identity, data):
    async with pool.acquire() as conn, conn.transaction():
        return await calls.create_call(conn, identity, data)


async def _publish(pool, identity, call_id):
    async with pool.acquire() as conn, conn.transaction():
        return await calls.publish_call(conn, identity, call_id)


def fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


def test_working_days_skip_weekends():
    friday = datetime(2026, 11, 20, 9, tzinfo=UTC)  # 17:00 Friday in Shanghai
    assert add_days(friday, 1, "working").weekday() == 0  # Monday
    assert add_days(friday, 5, "working").date().isoformat() == "2026-11-27"
    assert add_days(friday, 5, "calendar").date().isoformat() == "2026-11-25"
    assert add_days(add_days(friday, 3, "working"), -3, "working").date() == friday.astimezone(
        add_days(friday, 0, "working").tzinfo).date()


async def test_a_draft_gets_its_eligibility_from_the_catalogue_item(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    async with pool.acquire() as conn:
        call = await calls.get_call(conn, bureau, call_id)
    assert call.status == "draft" and call.provider_types == ["social_service_agency"]
    assert call.cross_district is True  # the item's scope is "any"
    assert [c.weight for c in call.criteria] == [40, 30, 30]


@pytest.mark.parametrize("change,field", [
    ({"budget_ceiling_fen": 200_000_01}, "budget_ceiling_fen"),
    ({"provider_types": ["social_group"]}, "provider_types"),
    ({"criteria": [CriterionInput(name_zh="设计", weight=50), CriterionInput(name_zh="团队", weight=40)]}, "criteria"),
    ({"criteria": [CriterionInput(name_zh="价格", weight=50, is_price=True),
                   CriterionInput(name_zh="报价", weight=50, is_price=True)]}, "criteria"),
    ({"procedure_type": "single_source", "justification": "太短"}, "justification"),
    ({"deadline_at": None}, "deadline_at"),
])
async def test_a_bad_call_is_refused(pool, settings, world, project, change, field):
    bureau = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(InvalidFields) as exc:
        await _create(pool, bureau, call_input(project, **change))
    assert field in fields(exc)
    assert await pool.fetchval("select count(*) from calls") == 0


async def test_a_call_may_tighten_but_not_loosen_the_catalogue(pool, settings, world, published):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        station = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="街道社工站运营项目", description="运营湖滨街道社工站一年。", catalogue_entry_id=published["08.01.01"],
            budget_fen=300_000_00, budget_line="民政专项", jurisdiction_id=world.street))
        meals = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="社区老年助餐项目", description="为老人提供助餐服务一年。", catalogue_entry_id=published["01.01.01"],
            budget_fen=100_000_00, budget_line="民政专项", jurisdiction_id=world.street))
    with pytest.raises(InvalidFields) as exc:
        await _create(pool, bureau, call_input(station, budget_ceiling_fen=100, min_rating=3, min_years=1))
    assert fields(exc) == {"min_rating", "min_years"}
    with pytest.raises(InvalidFields) as exc:
        await _create(pool, bureau, call_input(meals, budget_ceiling_fen=100, cross_district=True))
    assert fields(exc) == {"cross_district"}
    assert await _create(pool, bureau, call_input(station, budget_ceiling_fen=100, min_rating=5, min_years=4))


async def test_only_the_projects_buyer_drafts_a_call(pool, settings, world, project):
    for name, error in (("provider_admin", Forbidden), ("buyer_staff", None)):
        identity = await who(pool, settings, world, name)
        if error:
            with pytest.raises(error):
                await _create(pool, identity, call_input(project))
        else:
            assert await _create(pool, identity, call_input(project))
    with pytest.raises(Conflict):  # one live call per project
        await _create(pool, await who(pool, settings, world, "buyer_admin"), call_input(project))


async def test_publishing_twice_is_harmless_and_needs_the_minimum_tender_period(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    short = await _create(pool, bureau, call_input(project, deadline_at=datetime.now(UTC) + timedelta(days=5)))
    with pytest.raises(InvalidFields) as exc:
        await _publish(pool, bureau, short)
    assert fields(exc) == {"deadline_at"}
    async with pool.acquire() as conn, conn.transaction():
        await calls.cancel_call(conn, bureau, short, "期限设置错误，重新发布")
    call_id = await _create(pool, bureau, call_input(project))
    first = await _publish(pool, bureau, call_id)
    second = await _publish(pool, bureau, call_id)
    assert first.status == second.status == "open" and first.published_at == second.published_at
    assert first.questions_close_at == first.deadline_at - timedelta(days=3)
    assert await pool.fetchval("select count(*) from audit_events where verb = 'call.publish'") == 1


async def test_status_is_computed_from_timestamps(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    await _publish(pool, bureau, call_id)
    await pass_deadline(pool, call_id)
    async with pool.acquire() as conn:
        assert (await calls.get_call(conn, None, call_id)).status == "closed"


@pytest.mark.parametrize("status", calls_workflow.CALL_STATUSES)
@pytest.mark.parametrize("action", [a for a in calls_workflow.CALLS.actions if a != "award"])
async def test_every_call_action_allowed_or_refused(pool, settings, world, project, status, action):
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    if status != "draft":
        await _publish(pool, bureau, call_id)
    if status in ("closed", "notice", "awarded"):
        await pass_deadline(pool, call_id)
    if status in ("notice", "awarded"):
        await pool.execute("update calls set awarded_at = now(), notice_ends_at = now() + $2::interval where id = $1",
                           call_id, timedelta(days=5) if status == "notice" else timedelta(seconds=-1))
    if status == "cancelled":
        await pool.execute("update calls set cancelled_at = now() where id = $1", call_id)
    if status == "failed":
        await pool.execute("update calls set failed_at = now(), deadline_at = now() - interval '1 minute', "
                           "questions_close_at = now() - interval '2 days' where id = $1", call_id)
    allowed = calls_workflow.CALLS.allowed(action, status)
    async with pool.acquire() as conn:
        async def act():
            async with conn.transaction():
                if action == "publish":
                    await calls.publish_call(conn, bureau, call_id)
                elif action == "edit":
                    await calls.update_call(conn, bureau, call_id, call_input(project, title_zh="修改后的采购标题"))
                elif action == "fail":
                    await panels.declare_failed(conn, bureau, call_id)
                else:
                    await calls.cancel_call(conn, bureau, call_id, "预算调整，取消本次采购")
        if allowed or (action == "publish" and status not in ("draft", "cancelled")):  # re-publishing is a no-op
            await act()
        else:
            with pytest.raises(Conflict):
                await act()
        row = await conn.fetchrow("select * from calls where id = $1", call_id)
    moved = {"publish": "open", "cancel": "cancelled", "fail": "failed"}
    assert calls.status_of(row) == (moved.get(action, status) if allowed else status)


async def test_edits_after_publication_are_kept_and_move_a_near_deadline(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    published = await _publish(pool, bureau, call_id)
    # a day before the deadline
    soon = datetime.now(UTC) + timedelta(days=1)
    await pool.execute("update calls set deadline_at = $2, questions_close_at = $2::timestamptz - interval '3 days' where id = $1",
                       call_id, soon)
    async with pool.acquire() as conn:
        async with conn.transaction():
            revision = await calls.update_call(conn, bureau, call_id, call_input(
                project, budget_ceiling_fen=120_000_00, deadline_at=soon))
        call = await calls.get_call(conn, None, call_id)
        (change,) = await calls.revisions(conn, call_id)
    assert revision == 2 and call.revision == 2
    assert call.deadline_at >= datetime.now(UTC) + timedelta(days=3) - timedelta(minutes=1)
    assert change.changes["budget_ceiling_fen"] == [150_000_00, 120_000_00]
    assert change.deadline_moved_to == call.deadline_at
    assert published.revision == 1


def test_every_field_a_revision_records_has_a_name_on_the_page():
    assert {*calls._COMPARED, "criteria"} == set(REVISION_FIELDS)


@pytest.mark.parametrize(("lang", "lines"), [
    ("zh_Hans", ("最高限价：¥150,000.00 → ¥120,000.00", "服务开始日期：", "项目设计 40%、团队能力 30%、价格 30% → 项目设计 50%、团队能力 20%、价格 30%",
                 "服务内容：已修改", "投标资格：社会团体、社会服务机构 → 社会团体")),
    ("en", ("Budget ceiling: ¥150,000.00 → ¥120,000.00", "Service starts: ",
            "项目设计 40%, 团队能力 30%, 价格 30% → 项目设计 50%, 团队能力 20%, 价格 30%",
            "What is to be done: changed", "Who may bid: Social group, Social service agency → Social group")),
])
async def test_a_call_page_tells_what_each_revision_changed_in_the_readers_words(client, pool, world, published, lang,
                                                                                  lines):
    """A revision listed the columns it changed ("budget_ceiling_fen, criteria"): a provider could not
    tell what had moved. Now each field has the edit form's name and, where short, its two values."""
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    project = await _meals_project(pool, bureau, world, published)
    call_id = await _create(pool, bureau, call_input(project))
    await _publish(pool, bureau, call_id)
    async with pool.acquire() as conn, conn.transaction():
        await calls.update_call(conn, bureau, call_id, call_input(
            project, budget_ceiling_fen=120_000_00, description="征集社会组织为辖区失能老人提供每月两次上门助浴服务。",
            service_start=date(2027, 2, 1), provider_types=["social_group"],
            criteria=[CriterionInput(name_zh="项目设计", weight=50, min_score=60), CriterionInput(name_zh="团队能力", weight=20),
                      CriterionInput(name_zh="价格", weight=30, is_price=True)]))
    page = (await client.get(f"/calls/{call_id}?lang={lang}")).text
    changes = " ".join(page.split('<ul class="revisions">', 1)[1].split("</ul>\n")[0].split())
    for line in lines:
        assert line.replace(" ", "") in changes.replace(" ", ""), (line, changes)
    assert "budget_ceiling_fen" not in page and "provider_types" not in page
    twin = (await client.get(f"/api/calls/{call_id}/revisions")).json()
    assert twin[0]["changes"]["budget_ceiling_fen"] == [150_000_00, 120_000_00]
    assert twin[0]["changes"]["service_start"] == ["2027-01-01", "2027-02-01"]


async def test_a_published_deadline_is_never_brought_forward(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    call = await _publish(pool, bureau, call_id)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(InvalidFields):
            await calls.update_call(conn, bureau, call_id, call_input(project, deadline_at=call.deadline_at - timedelta(days=1)))


async def test_drafts_are_private_published_calls_public(client, pool, world, project):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    for url in (f"/calls/{call_id}", f"/api/calls/{call_id}"):
        assert (await client.get(url)).status_code == 404
    assert (await client.get("/api/calls")).json()["items"] == []
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    assert (await client.get(f"/api/calls/{call_id}")).status_code == 404
    await _publish(pool, bureau, call_id)
    client.cookies.delete("market_session")
    page = await client.get(f"/calls/{call_id}")
    assert page.status_code == 200 and "东坡路社区上门助浴服务采购" in page.text and "¥150,000.00" in page.text
    listed = (await client.get("/api/calls")).json()["items"]
    assert [c["id"] for c in listed] == [call_id] and listed[0]["status"] == "open"
    assert [c["name_zh"] for c in listed[0]["criteria"]] == [c.name_zh for c in call_input(project).criteria]


async def test_the_call_view_is_the_whole_page(client, pool, world, project):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _create(pool, bureau, call_input(project))
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    view = (await client.get(f"/api/calls/{call_id}")).json()
    assert view["owner"] and view["actions"] == ["publish", "edit", "cancel"] and view["status"] == "draft"
    assert view["project"]["id"] == project and view["entry"]["code"] and view["bid_count"] is None
    assert view["batches"] is None and view["origin"] is None and view["questions"] == []
    await _publish(pool, bureau, call_id)
    client.cookies.delete("market_session")
    view = (await client.get(f"/api/calls/{call_id}")).json()
    assert not view["owner"] and view["actions"] == [] and view["my_bid"] is None and not view["can_ask"]
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    assert (await client.get(f"/api/calls/{call_id}")).json()["can_ask"]


async def test_the_call_form_round_trip(client, pool, world, project):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    form = await client.get(f"/projects/{project}/calls/new")
    assert form.status_code == 200
    deadline = (datetime.now() + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    data = {"_csrf_token": client.cookies["market_csrf"], "procedure_type": "open_competition",
            "title_zh": "上门助浴服务公开征集", "description": "为失能老人提供上门助浴服务。", "budget_ceiling_yuan": "150000",
            "service_start": "2027-01-01", "service_end": "2027-12-31", "service_place": "东坡路社区",
            "deadline_at": deadline,
            "criteria-0-name_zh": "项目设计", "criteria-0-weight": "60", "criteria-0-min_score": "50",
            "criteria-1-name_zh": "价格", "criteria-1-weight": "30", "criteria-1-is_price": "on"}
    r = await client.post(f"/projects/{project}/calls/new", data=data)
    assert r.status_code == 400 and "100" in r.text  # weights add up to 90
    data["criteria-1-weight"] = "40"
    r = await client.post(f"/projects/{project}/calls/new", data=data)
    call_url = landed(r, "call_drafted")
    call = (await client.get("/api" + call_url)).json()
    assert call["budget_ceiling_fen"] == 15_000_000 and [c["is_price"] for c in call["criteria"]] == [False, True]
    r = await client.post(call_url + "/publish", data={"_csrf_token": client.cookies["market_csrf"]})
    assert "采购公告已发布，可以投标的服务机构已收到通知。" in (await client.get(r.headers["location"])).text
    assert (await client.get("/api" + call_url)).json()["status"] == "open"
    r = await client.post("/api" + call_url + "/publish", headers=api_headers(client))
    assert r.status_code == 201 and r.json()["status"] == "open"


async def test_unknown_call_is_404(client):
    assert (await client.get("/calls/99999")).status_code == 404



async def test_saving_the_edit_form_unchanged_records_no_revision(client, pool, world, published):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    project = await _meals_project(pool, bureau, world, published)
    call_id = await _create(pool, bureau, call_input(project, criteria=[
        CriterionInput(name_zh="项目设计", name_en="Design", weight=60, min_score=50),
        CriterionInput(name_zh="价格", name_en="Price", weight=40, is_price=True)]))
    await _publish(pool, bureau, call_id)
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.get(f"/calls/{call_id}/edit")).status_code == 200
    async with pool.acquire() as conn:
        call = await calls.get_call(conn, bureau, call_id)
    fields = {k: ("on" if v is True else str(v)) for k, v in form_of(call, settings.timezone).items()
              if v is not None and v is not False and k != "provider_types"}
    # The form's boxes come back in the form's order, which need not be the order the call keeps.
    assert len(call.provider_types) > 1
    fields["provider_types"] = list(reversed(call.provider_types))
    fields["_csrf_token"] = client.cookies["market_csrf"]
    r = await client.post(f"/calls/{call_id}/edit", data=fields)
    assert r.status_code == 303, r.text[:2000]
    assert await pool.fetchval("select count(*) from call_revisions where call_id = $1", call_id) == 0
    assert await pool.fetchval("select name_en from call_criteria where call_id = $1 and position = 1", call_id) == "Design"


async def test_a_provider_lists_every_call_it_may_bid_on(client, pool, settings, world, open_call, published):
    """The workbench names the first twenty calls a provider may bid on; on a city that was 20 of 594,
    and its link led to every published call of the city. The calls list now takes `biddable`: the same
    calls, all of them, a page at a time, and only for a social organisation."""
    other = await make_project(pool, settings, world, published, "青年路社区助浴")
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        group_call = await calls.create_call(conn, bureau, call_input(other, title_zh="五星专场", budget_ceiling_fen=90_000_00,
                                                                      min_rating=5))
        await calls.publish_call(conn, bureau, group_call)
    provider = world["provider_admin"]
    await act_as(client, pool, settings, provider.user_id)
    page = (await client.get("/calls?lang=zh_Hans")).text
    assert "只看本机构可投标的公告" in page
    assert [c["id"] for c in (await client.get("/api/calls")).json()["items"]] == [group_call, open_call]
    assert [c["id"] for c in (await client.get("/api/calls?biddable=true")).json()["items"]] == [open_call]
    mine = (await client.get("/calls?biddable=true")).text
    assert f'href="/calls/{open_call}"' in mine and f'href="/calls/{group_call}"' not in mine
    assert 'name="biddable" value="true" checked' in mine
    dashboard = (await client.get("/api/dashboard")).json()
    assert next(x for x in dashboard["lists"] if x["kind"] == "calls_to_bid")["more_link"] == "/calls?biddable=true"
    # once it has bid, the call is no longer one to bid on
    await do(pool, bids.submit, await who(pool, settings, world, "provider_admin"), open_call, bid_input())
    assert (await client.get("/api/calls?biddable=true")).json()["items"] == []
    # nobody else may ask for it, and the box is a social organisation's alone
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert "biddable" not in (await client.get("/calls")).text
    assert (await client.get("/api/calls?biddable=true")).status_code == 403
    await act_as(client, pool, settings, None)
    assert (await client.get("/api/calls?biddable=true")).status_code == 403


@pytest.mark.parametrize(("lang", "words"), [("zh_Hans", ("如何投标", "登录后投标", "登记本机构")),
                                             ("en", ("How to bid", "Log in to bid", "Register your organisation"))])
async def test_a_visitor_on_an_open_call_is_shown_how_to_bid(client, pool, settings, world, open_call, lang, words):
    """A social organisation arriving from a shared link, not logged in, found the call with no word on
    how to bid on it: the page now says who may, and leads through the log-in back to the call."""
    page = (await client.get(f"/calls/{open_call}?lang={lang}")).text
    assert all(w in page for w in words)
    assert f'href="/login?next=/calls/{open_call}"' in page and 'href="/organisations/new?kind=provider"' in page
    r = await post_form(client, f"/login?next=/calls/{open_call}",
                        {"email": world["provider_admin"].email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == f"/calls/{open_call}"
    page = (await client.get(f"/calls/{open_call}?lang={lang}")).text
    assert words[0] not in page and f'href="/calls/{open_call}/bid"' in page
    # A buyer logged in, and a visitor once the call has closed, are not told how to bid.
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert words[0] not in (await client.get(f"/calls/{open_call}?lang={lang}")).text
    client.cookies.delete("market_session")
    await pass_deadline(pool, open_call)
    assert words[0] not in (await client.get(f"/calls/{open_call}?lang={lang}")).text
