"""Complaints: dispatch by category with deadlines in working days, the life cycle and its guards,
escalation through two levels on the clock (once, however many processes run the clock), the
private tracking link, and what the public never sees."""

import asyncio
import re
from datetime import date, timedelta

import pytest

from market.complaints import days, jobs
from market.complaints import services as complaints
from market.complaints.models import AnswerInput, CategoryInput, ComplaintInput, RatingInput, ReopenInput
from market.core import clock
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.storage import images
from market.storage.services import storage_from_settings
from tests.conftest import act_as, identity_of, post_form
from tests.serve import serving
from tests.factories import PNG, do, make_org, make_person, photo_with_gps, travel, walk_pages, who

BODY = "助餐点的饭菜连续三天送到时已经凉了，老人吃了胃不舒服。"
NAME, PHONE = "王阿姨", "13800138000"


@pytest.fixture
async def places(pool, world):
    """A residents' committee in the community, under a street office, under the district's bureau;
    each with an administrator (the office's reads English)."""
    async with pool.acquire() as conn, conn.transaction():
        await make_org(conn, world, "office", "buyer", "street_office", 81, world.street)
        await make_org(conn, world, "committee", "buyer", "community", 82, world.community)
        people = {"office": await make_person(conn, world, "office_admin", "office"),
                  "committee": await make_person(conn, world, "committee_admin", "committee")}
    return people


async def category(pool, code: str) -> int:
    return await pool.fetchval("select id from complaint_categories where code = $1", code)


async def lodge(pool, settings, world, code="community_affairs", identity=None, photos=(), **change):
    data = {"category_id": await category(pool, code), "community_id": world.community, "body": BODY,
            "contact_name": NAME, "contact_phone": PHONE, **change}
    return await do(pool, complaints.lodge, storage_from_settings(settings), settings, identity,
                    ComplaintInput(**data), list(photos))


def token_of(lodged) -> str:
    return lodged.tracking_link.rsplit("/", 1)[1]


async def handler(pool, settings, world, places, key):
    return await identity_of(pool, settings, places[key], world.orgs[key])


async def row(pool, complaint_id):
    return await pool.fetchrow("select * from complaints where id = $1", complaint_id)


def test_working_days_follow_the_official_calendar_with_its_make_up_days():
    assert not days.is_working_day(date(2025, 10, 1))  # National Day
    assert days.is_working_day(date(2025, 9, 28))  # a Sunday worked to make up for it (调休)
    assert not days.is_working_day(date(2027, 1, 2)) and days.is_working_day(date(2027, 1, 4))  # weekends only
    # Lodged on 30 September 2025: the National Day week off, then 9 October is the first working day.
    assert days.add_days(date(2025, 9, 30), 1, "working") == date(2025, 10, 9)
    assert days.add_days(date(2025, 9, 30), 1, "calendar") == date(2025, 10, 1)


async def test_each_category_is_dispatched_to_its_organisation_with_its_deadlines(pool, settings, world, places):
    today = clock.today()
    lodged = await lodge(pool, settings, world)  # community affairs: the residents' committee
    r = await row(pool, lodged.id)
    assert r["responsible_id"] == world.orgs["committee"] and r["status"] == "dispatched"
    assert r["acknowledge_by"] == days.add_days(today, 1, "working") == r["due_on"]
    assert r["answer_by"] == days.add_days(today, 7, "working")
    provider = await lodge(pool, settings, world, "service_quality", provider_id=world.orgs["provider"])
    assert (await row(pool, provider.id))["responsible_id"] == world.orgs["provider"]
    # an NGO lodges as itself, about the district's procurement
    ngo = await who(pool, settings, world, "other_provider_admin")
    district = await lodge(pool, settings, world, "procurement_conduct", identity=ngo)
    r = await row(pool, district.id)
    assert r["responsible_id"] == world.orgs["bureau"]
    assert (r["lodged_by_kind"], r["complainant_org_id"], r["user_id"]) == ("ngo", ngo.org_id, ngo.user_id)
    # a provider's category with no provider named falls to the community's committee
    nobody = await lodge(pool, settings, world, "safety")
    r = await row(pool, nobody.id)
    assert r["responsible_id"] == world.orgs["committee"] and r["answer_by"] == today + timedelta(days=3)
    # and the committee is told, in its inbox
    assert await pool.fetchval("select count(*) from notifications where user_id = $1 and kind = "
                               "'complaint_dispatched'", places["committee"]) == 2


async def test_lodging_is_refused_next_to_the_field_and_keeps_nothing(pool, settings, world, places):
    with pytest.raises(InvalidFields) as refused:
        await lodge(pool, settings, world, community_id=world.street, provider_id=world.orgs["bureau"],
                    photos=[(b"%PDF-1.4 not a photo", "a.pdf")])
    assert {e.field for e in refused.value.errors} == {"community_id", "provider_id", "photos"}
    assert await pool.fetchval("select count(*) from complaints") == 0


async def test_a_resident_without_an_account_follows_rates_and_reopens_once_by_the_link(pool, settings, world,
                                                                                        places):
    lodged = await lodge(pool, settings, world, photos=[(photo_with_gps(), "现场.jpg")])
    token = token_of(lodged)
    key = await pool.fetchval("select f.storage_key from complaint_photos p join files f on f.id = p.file_id "
                              "where p.complaint_id = $1", lodged.id)
    assert not images.has_location(storage_from_settings(settings).get(key))
    committee = await handler(pool, settings, world, places, "committee")
    view = await do(pool, complaints.complaint_view, settings, committee, lodged.id)
    assert (view.contact_name, view.contact_phone) == (NAME, PHONE) and view.actions == ["acknowledge", "answer"]
    assert view.photos and "grant=1" in view.photos[0].link
    mine = await do(pool, complaints.complaint_view, settings, None, lodged.id, token)
    assert mine.contact_name is None and mine.actions == [] and mine.photos[0].link.startswith(lodged.tracking_link)

    await do(pool, complaints.acknowledge, committee, lodged.id)
    await do(pool, complaints.answer, committee, lodged.id, AnswerInput(answer="已约谈助餐点，更换保温餐箱。", upheld=True))
    mine = await do(pool, complaints.complaint_view, settings, None, lodged.id, token)
    assert mine.status == "answered" and set(mine.actions) == {"rate", "reopen"}
    await do(pool, complaints.rate, None, lodged.id, RatingInput(rating=2), token)
    assert (await row(pool, lodged.id))["status"] == "closed"
    await do(pool, complaints.reopen, None, lodged.id, ReopenInput(reason="饭菜还是凉的。"), token)
    r = await row(pool, lodged.id)
    assert r["status"] == "reopened" and r["closed_at"] is None and r["due_on"] > clock.today()
    await do(pool, complaints.answer, committee, lodged.id, AnswerInput(answer="已更换供餐单位。", upheld=True))
    assert "reopen" not in (await do(pool, complaints.complaint_view, settings, None, lodged.id, token)).actions
    with pytest.raises(Forbidden):
        await do(pool, complaints.reopen, None, lodged.id, ReopenInput(reason="还是不行。"), token)
    await do(pool, complaints.rate, None, lodged.id, RatingInput(rating=4), token)
    verbs = [r["verb"] for r in await pool.fetch("select verb from audit_events where object_type = 'complaint' "
                                                 "and object_id = $1 order by id", str(lodged.id))]
    assert verbs == ["complaint.lodge", "complaint.acknowledge", "complaint.answer", "complaint.rate",
                     "complaint.reopen", "complaint.answer", "complaint.rate"]


async def test_each_step_is_refused_to_the_wrong_party_and_in_the_wrong_status(pool, settings, world, places):
    resident = await who(pool, settings, world, "resident")
    lodged = await lodge(pool, settings, world, identity=resident)
    committee = await handler(pool, settings, world, places, "committee")
    office = await handler(pool, settings, world, places, "office")
    stranger = await who(pool, settings, world, "other_provider_admin")
    with pytest.raises(NotFound):  # neither responsible nor escalated to (yet): it cannot even read it
        await do(pool, complaints.acknowledge, office, lodged.id)
    with pytest.raises(NotFound):
        await do(pool, complaints.complaint_view, settings, stranger, lodged.id)
    with pytest.raises(NotFound):
        await do(pool, complaints.complaint_view, settings, None, lodged.id, "not-the-token")
    with pytest.raises(Forbidden):  # the complainant does not answer their own complaint
        await do(pool, complaints.answer, resident, lodged.id, AnswerInput(answer="我自己来答复一下。", upheld=False))
    with pytest.raises(Conflict):  # nothing to rate or reopen before an answer
        await do(pool, complaints.rate, resident, lodged.id, RatingInput(rating=5))
    with pytest.raises(Conflict):
        await do(pool, complaints.reopen, resident, lodged.id, ReopenInput(reason="再看看。"))
    await do(pool, complaints.answer, committee, lodged.id, AnswerInput(answer="情况不属实，已回访说明。", upheld=False))
    with pytest.raises(Conflict):
        await do(pool, complaints.acknowledge, committee, lodged.id)
    with pytest.raises(Forbidden):  # only the complainant rates
        await do(pool, complaints.rate, committee, lodged.id, RatingInput(rating=5))
    await do(pool, complaints.rate, resident, lodged.id, RatingInput(rating=3))
    with pytest.raises(Conflict):
        await do(pool, complaints.rate, resident, lodged.id, RatingInput(rating=5))
    with pytest.raises(Conflict):
        await do(pool, complaints.answer, committee, lodged.id, AnswerInput(answer="再补充一些说明。", upheld=False))
    # the platform reads it, without the contact details, and may do nothing on it
    admin = await who(pool, settings, world, "platform_admin")
    view = await do(pool, complaints.complaint_view, settings, admin, lodged.id)
    assert view.contact_phone is None and view.actions == []


async def test_a_late_complaint_escalates_two_levels_once_each_with_two_clocks_running(pool, settings, world,
                                                                                       places):
    lodged = await lodge(pool, settings, world)
    assert await jobs.run(pool) == jobs.Done()  # not late yet
    await travel(pool, days=5)  # past the working day to acknowledge it, whatever the weekday
    first = await asyncio.gather(jobs.run(pool), jobs.run(pool))
    assert sum(d.escalated for d in first) == 1
    r = await row(pool, lodged.id)
    assert r["escalation_level"] == 1 and r["due_on"] > clock.today()
    sent = "select count(*) from notifications where user_id = $1 and kind = $2"
    assert await pool.fetchval(sent, places["office"], "complaint_escalated") == 1
    assert await pool.fetchval(sent, places["committee"], "complaint_late") == 1
    office = await handler(pool, settings, world, places, "office")
    view = await do(pool, complaints.complaint_view, settings, office, lodged.id)
    assert view.contact_phone == PHONE and view.escalations[0].organisation.id == world.orgs["office"]
    assert view.late is False and "answer" in view.actions

    await travel(pool, days=14)
    second = await asyncio.gather(jobs.run(pool), jobs.run(pool))
    assert sum(d.escalated for d in second) == 1
    assert (await row(pool, lodged.id))["escalation_level"] == 2
    bureau = world["buyer_admin"].user_id
    assert await pool.fetchval(sent, bureau, "complaint_escalated") == 1
    assert await pool.fetchval(sent, places["office"], "complaint_escalated") == 1
    await travel(pool, days=30)
    assert sum(d.escalated for d in await asyncio.gather(jobs.run(pool), jobs.run(pool))) == 0  # two levels only
    assert [r["verb"] for r in await pool.fetch(
        "select verb from audit_events where object_type = 'complaint' and verb = 'complaint.escalate'")] == \
        ["complaint.escalate"] * 2
    # the bureau, escalated to, answers it; the workbench of each shows what it owes
    bureau_id = await who(pool, settings, world, "buyer_admin")
    bench = dict(await do(pool, complaints.workbench_lists, bureau_id))
    assert [t["link"] for t in bench["complaints_escalated"].rows] == [f"/complaints/{lodged.id}"]
    committee = await handler(pool, settings, world, places, "committee")
    owed = dict(await do(pool, complaints.workbench_lists, committee))["complaints_to_acknowledge"]
    assert owed.rows[0]["state"] == "overdue" and owed.total == 1
    await do(pool, complaints.answer, bureau_id, lodged.id, AnswerInput(answer="区局督办：已责成整改。", upheld=True))
    assert (await row(pool, lodged.id))["answered_by_org"] == world.orgs["bureau"]


async def test_two_app_processes_escalate_through_two_levels_and_tell_each_step_once(pool, settings, world, places,
                                                                                      database, tmp_path):
    """`market serve` with two worker processes, each running the complaint clock every second."""
    lodged = await lodge(pool, settings, world)
    sent = "select count(*) from notifications where user_id = $1 and kind = $2"

    async def level_reached(level: int) -> None:
        for _ in range(100):
            if (await row(pool, lodged.id))["escalation_level"] == level:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # several more passes of both processes' clocks

    with serving(database, tmp_path, workers=2, MARKET_NOTIFY_SECONDS="1"):
        await travel(pool, days=5)
        await level_reached(1)
        assert await pool.fetchval(sent, places["office"], "complaint_escalated") == 1
        assert await pool.fetchval(sent, places["committee"], "complaint_late") == 1
        await travel(pool, days=14)
        await level_reached(2)
    assert await pool.fetchval(sent, world["buyer_admin"].user_id, "complaint_escalated") == 1
    assert await pool.fetchval(sent, places["office"], "complaint_escalated") == 1
    assert await pool.fetchval(sent, places["committee"], "complaint_late") == 2
    assert await pool.fetchval("select count(*) from complaint_escalations where complaint_id = $1", lodged.id) == 2


async def test_the_organisation_responsible_is_reminded_on_the_morning_of_each_deadline_once(pool, settings,
                                                                                            world, places):
    lodged = await lodge(pool, settings, world)
    sent = "select count(*) from notifications where user_id = $1 and kind = 'complaint_due_today'"
    assert (await jobs.run(pool)).reminded == 0  # due on the next working day: not yet
    await travel(pool, days=((await row(pool, lodged.id))["due_on"] - clock.today()).days)
    assert sum(d.reminded for d in await asyncio.gather(jobs.run(pool), jobs.run(pool))) == 1
    assert (await jobs.run(pool)).reminded == 0
    assert await pool.fetchval(sent, places["committee"]) == 1
    # late the next day: escalated, with a new deadline, which is reminded in its turn
    await travel(pool, days=1)
    assert (await jobs.run(pool)).escalated == 1
    await travel(pool, days=((await row(pool, lodged.id))["due_on"] - clock.today()).days)
    assert sum(d.reminded for d in await asyncio.gather(jobs.run(pool), jobs.run(pool))) == 1
    assert await pool.fetchval(sent, places["committee"]) == 2
    # an answered complaint owes nothing: no reminder
    other = await lodge(pool, settings, world)
    committee = await handler(pool, settings, world, places, "committee")
    await do(pool, complaints.answer, committee, other.id, AnswerInput(answer="已处理。", upheld=False))
    await travel(pool, days=((await row(pool, other.id))["due_on"] - clock.today()).days)
    assert (await jobs.run(pool)).reminded == 0


async def test_an_answer_nobody_rates_closes_after_a_week(pool, settings, world, places):
    lodged = await lodge(pool, settings, world)
    committee = await handler(pool, settings, world, places, "committee")
    await do(pool, complaints.answer, committee, lodged.id, AnswerInput(answer="已处理完毕，欢迎监督。", upheld=True))
    await travel(pool, days=6)
    assert (await jobs.run(pool)).closed == 0
    await travel(pool, days=2)
    done = await asyncio.gather(jobs.run(pool), jobs.run(pool))
    assert sum(d.closed for d in done) == 1
    r = await row(pool, lodged.id)
    assert r["status"] == "closed" and r["rating"] is None


async def test_the_public_never_sees_who_complained_or_what_they_wrote(client, pool, settings, world, places):
    await lodge(pool, settings, world, address="东坡路12号楼下")
    committee = await handler(pool, settings, world, places, "committee")
    answered = await lodge(pool, settings, world)
    await do(pool, complaints.answer, committee, answered.id, AnswerInput(answer="已回复王阿姨，正在整改。", upheld=True))
    await do(pool, complaints.rate, None, answered.id, RatingInput(rating=5), token_of(answered))
    pages = [await client.get(p) for p in ("/complaints", "/api/complaints", "/complaints/figures",
                                           "/api/complaints/figures", f"/complaints?organisation={world.orgs['committee']}",
                                           "/api/complaints?status=closed", "/complaints/categories")]
    for page in pages:
        assert page.status_code == 200, page.text
        for secret in (NAME, PHONE, BODY, "东坡路12号", "已回复王阿姨", answered.tracking_link):
            assert secret not in page.text
    listed = pages[1].json()
    assert listed["total"] == 2 and {c["status"] for c in listed["complaints"]} == {"dispatched", "closed"}
    assert pages[5].json()["total"] == 1
    elsewhere = await client.get(f"/complaints?place={world.other_community}&status=closed")
    assert 'aria-current="true">青年路社区</a>' in elsewhere.text and "没有符合条件的投诉" in elsewhere.text
    assert (await client.get(f"/api/complaints?place={world.street}")).json()["total"] == 2
    figures = pages[3].json()["organisations"][0]
    assert figures["organisation"]["id"] == world.orgs["committee"]
    assert (figures["lodged"], figures["closed"], figures["closure_rate"], figures["on_time_rate"],
            figures["satisfied_rate"]) == (2, 1, 0.5, 1.0, 1.0)


# What grouping every complaint gives: the figures the page published before they were kept (0069).
_GROUPED = """
    select responsible_id, y.year, count(*) as lodged, count(*) filter (where status = 'closed') as closed,
           count(answered_on) as answered, count(*) filter (where answered_on <= answer_by) as on_time,
           coalesce(sum(extract(epoch from closed_at - lodged_at)::bigint) filter (where status = 'closed'), 0)
               as close_seconds,
           count(rating) as rated, count(*) filter (where rating >= 4) as satisfied
      from complaints cross join unnest(array[extract(year from lodged_on)::int, 0]) y (year)
     group by 1, 2"""
_KEPT = """select organisation_id, year, lodged, closed, answered, on_time, close_seconds, rated, satisfied
             from complaint_figures"""


async def test_the_figures_are_kept_by_year_as_complaints_change(client, pool, settings, world, places):
    """The published figures are counts kept as each complaint changes: through answers in time and
    late, ratings, a reopening, an escalation and the clock's closing, and into a new year, they stay
    what grouping every complaint gives, for the year each was lodged and for every year."""
    async def figures(**query):
        async with pool.acquire() as conn:
            return await complaints.figures(conn, **query)

    async def same() -> None:
        assert sorted(map(tuple, await pool.fetch(_KEPT))) == sorted(map(tuple, await pool.fetch(_GROUPED)))

    committee = await handler(pool, settings, world, places, "committee")
    bureau = await who(pool, settings, world, "buyer_admin")
    this_year = clock.today().year
    in_time = await lodge(pool, settings, world)
    late = await lodge(pool, settings, world)
    unrated = await lodge(pool, settings, world, code="procurement_conduct")
    await same()
    await do(pool, complaints.answer, committee, in_time.id, AnswerInput(answer="已更换保温餐箱。", upheld=True))
    await do(pool, complaints.rate, None, in_time.id, RatingInput(rating=5), token_of(in_time))
    await do(pool, complaints.answer, bureau, unrated.id, AnswerInput(answer="已核查评审记录。", upheld=False))
    await same()
    await travel(pool, days=((await row(pool, late.id))["answer_by"] - clock.today()).days + 1)
    ran = await jobs.run(pool)
    assert (ran.escalated, ran.closed) == (1, 1)  # the late one escalated (its counts unchanged), the unrated closed
    await do(pool, complaints.answer, committee, late.id, AnswerInput(answer="已约谈助餐点负责人。", upheld=True))
    await do(pool, complaints.rate, None, late.id, RatingInput(rating=2), token_of(late))
    await do(pool, complaints.reopen, None, late.id, ReopenInput(reason="饭菜还是凉的。"), token_of(late))
    await same()
    await do(pool, complaints.answer, committee, late.id, AnswerInput(answer="已更换供餐单位。", upheld=True))
    await travel(pool, days=(date(clock.today().year + 1, 1, 10) - clock.today()).days)
    next_year = await lodge(pool, settings, world)
    await same()

    this = await figures(year=this_year)
    assert [(o.organisation.id, o.lodged, o.closed, o.answered, o.on_time, o.rated, o.satisfied_rate)
            for o in this.organisations] == [(world.orgs["committee"], 2, 1, 2, 1, 2, 0.5),
                                             (world.orgs["bureau"], 1, 1, 1, 1, 0, None)]
    assert this.years == [this_year + 1, this_year] and this.total == 2
    assert [(o.organisation.id, o.lodged) for o in (await figures()).organisations] == [
        (world.orgs["committee"], 1)]  # this year's, by default: the new year's
    every = await figures(year=0, limit=1)
    second = await figures(year=0, limit=1, cursor=every.next_cursor)
    assert [o.organisation.id for o in every.organisations + second.organisations] == [
        world.orgs["committee"], world.orgs["bureau"]] and every.total == 2 and second.next_cursor is None
    assert every.organisations[0].lodged == 3 and next_year.id
    # of the organisations registered in a place and below it: the committee in its community, the
    # bureau in the district above
    assert [o.organisation.id for o in (await figures(year=0, place=world.community)).organisations] == [
        world.orgs["committee"]]
    assert [o.organisation.id for o in (await figures(year=0, place=world.district)).organisations] == [
        world.orgs["committee"], world.orgs["bureau"]]
    assert (await figures(year=0, place=world.other_community)).organisations == []

    page = await client.get(f"/complaints/figures?year={this_year}")
    assert page.status_code == 200
    assert re.search(rf'<a href="/complaints/figures\?year={this_year}" aria-current="page">{this_year}</a>', page.text)
    assert f'href="/complaints/figures?year={this_year + 1}"' in page.text and "历年合计" in page.text
    assert f"{this_year}年受理的投诉" in page.text and "50.0%" in page.text
    placed = await client.get(f"/complaints/figures?year=0&place={world.community}")
    assert "测试committee" in placed.text and "测试bureau" not in placed.text
    assert f'href="/complaints/figures?place={world.community}&amp;year={this_year}"' in placed.text  # the place kept
    api = (await client.get("/api/complaints/figures?year=0")).json()
    assert [o["lodged"] for o in api["organisations"]] == [3, 1] and api["year"] == 0
    assert (await client.get("/api/complaints/figures?year=-1")).status_code == 400

    # An organisation's figures for a year lead to its complaints of that year, as many as they count.
    assert f'href="/complaints?organisation={world.orgs["committee"]}&amp;year={this_year}"' in page.text
    async with pool.acquire() as conn:
        listed = await complaints.public_list(conn, organisation=world.orgs["committee"], year=this_year)
        assert [c.id for c in listed.complaints] == [late.id, in_time.id] and listed.total == 2
        assert [c.id for c in (await complaints.public_list(conn, year=this_year + 1)).complaints] == [next_year.id]
        assert len((await complaints.public_list(conn, year=0)).complaints) == 4
    shown = await client.get(f"/complaints?organisation={world.orgs['committee']}&year={this_year}")
    assert f'<option value="{this_year}" selected>{this_year}年投诉</option>' in shown.text
    assert [c["id"] for c in (await client.get(f"/api/complaints?year={this_year}")).json()["complaints"]] == [
        unrated.id, late.id, in_time.id]


async def test_the_public_list_pages_every_complaint_once_in_each_filter(pool, settings, world, places):
    """Paged on its newest-first key with only the filters given: each complaint of a filter once,
    newest first, while more are lodged."""
    lodged = [(await lodge(pool, settings, world, code="community_affairs" if n % 3 else "procurement_conduct",
                           community_id=world.other_community if n % 2 else world.community)).id
              for n in range(7)]

    async def walk(**filters):
        async def read(conn, cursor):
            page = await complaints.public_list(conn, **filters, cursor=cursor, limit=2)
            return [c.id for c in page.complaints], page.next_cursor
        seen = await walk_pages(pool, read, lambda: lodge(pool, settings, world))
        assert seen == sorted(seen, reverse=True)  # newest first
        return [i for i in seen if i in lodged]  # those lodged before the walk began
    assert await walk() == lodged[::-1]
    community = [i for n, i in enumerate(lodged) if n % 3]
    assert await walk(category="community_affairs") == community[::-1]
    assert await walk(organisation=world.orgs["committee"]) == [i for i in community[::-1] if i in lodged[::2]]
    # by place, a level at a time (migration 0070): a community, its street, its district
    assert await walk(place=world.other_community) == lodged[1::2][::-1]
    assert await walk(place=world.street) == await walk(place=world.district) == lodged[::-1]


async def test_a_resident_lodges_on_the_page_with_a_photo_and_rates_from_the_link(client, pool, settings, world,
                                                                                   places):
    form = await client.get(f"/complaints/new?community={world.community}")
    assert form.status_code == 200 and "multipart/form-data" in form.text
    data = {"category_id": str(await category(pool, "community_affairs")), "community_id": str(world.community),
            "body": BODY, "contact_phone": PHONE}
    forged = await client.post("/complaints/new", data=data)  # no CSRF token: another site's form
    assert forged.status_code == 403
    refused = await post_form(client, "/complaints/new", {**data, "body": "太短"})
    assert refused.status_code == 400 and 'id="e-body"' in refused.text
    r = await post_form(client, "/complaints/new", {**data, "_idem": "complaint-form-0001"},
                        files={"photos": ("现场.png", PNG, "image/png")})
    assert r.status_code == 303, r.text
    link = r.headers["location"].split("?")[0]
    assert re.fullmatch(r"/complaints/track/[\w-]{32}", link)
    again = await post_form(client, "/complaints/new", {**data, "_idem": "complaint-form-0001"},
                            files={"photos": ("现场.png", PNG, "image/png")})
    assert again.headers["location"] == r.headers["location"]  # a double submit lodges once
    assert await pool.fetchval("select count(*) from complaints") == 1
    page = await client.get(link)
    assert page.status_code == 200 and BODY in page.text and PHONE not in page.text
    photo = re.search(r'href="(/complaints/track/[^"]+/photos/[^"]+)"', page.text).group(1)
    assert (await client.get(photo)).content == PNG
    complaint_id = await pool.fetchval("select id from complaints")
    await act_as(client, pool, settings, places["committee"], world.orgs["committee"])
    r = await post_form(client, f"/complaints/{complaint_id}/answer", {"answer": "已与物业协调处理，明天起恢复正常。", "upheld": "yes"})
    assert r.status_code == 303, r.text
    await act_as(client, pool, settings, None)
    r = await post_form(client, f"{link}/rate", {"rating": "5"})
    assert r.status_code == 303 and (await row(pool, complaint_id))["rating"] == 5
    assert 'id="rating"' in (await client.get(link)).text


async def test_an_upheld_complaint_is_a_finding_for_its_organisation_and_the_buyer_above(pool, settings, world,
                                                                                          places):
    lodged = await lodge(pool, settings, world, "service_quality", provider_id=world.orgs["provider"])
    assert await do(pool, complaints.finding_of, lodged.id) is None
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, complaints.answer, provider, lodged.id, AnswerInput(answer="送餐车加装保温设备。", upheld=True))
    finding = await do(pool, complaints.finding_of, lodged.id)
    assert finding.organisation_id == world.orgs["provider"] and finding.verifier_id == world.orgs["bureau"]
    assert "送餐车加装保温设备" in finding.text_zh and finding.text_en.startswith(f"Complaint #{lodged.id}")
    # ... and so a rectification item: the provider puts it right, the bureau verifies (answering again
    # after a reopening does not raise a second one).
    items = await pool.fetch("select owner_id, buyer_id, finding_en from rectification_items "
                             "where source = 'complaint' and source_id = $1", lodged.id)
    assert [(r["owner_id"], r["buyer_id"], r["finding_en"]) for r in items] == [
        (world.orgs["provider"], world.orgs["bureau"], finding.text_en)]


async def test_a_bureau_upholds_a_complaint_against_itself_and_the_platform_verifies_the_fix(client, pool, settings,
                                                                                               world, places):
    """Nobody is above a district's bureau: what it puts right of a complaint upheld against its own
    procurement is verified by the platform. Upholding one gave a 500 before (an item of the bureau's,
    verified by the bureau, which the database refuses); the bureau finds the item on its workbench,
    the platform the fix."""
    lodged = await lodge(pool, settings, world, "procurement_conduct")
    await act_as(client, pool, settings, world["buyer_admin"].user_id, world.orgs["bureau"])
    answered = await post_form(client, f"/complaints/{lodged.id}/answer",
                               {"answer": "评审专家确与中标机构有亲属关系，已重新组织评审。", "upheld": "yes"})
    assert answered.status_code == 303, answered.text[:500]
    item = await pool.fetchrow("select id, owner_id, buyer_id from rectification_items where source = 'complaint' "
                               "and source_id = $1", lodged.id)
    assert (item["owner_id"], item["buyer_id"]) == (world.orgs["bureau"], world.orgs["platform"])
    page = (await client.get("/dashboard")).text
    assert 'data-kind="rectification_to_fix"' in page and f'href="/rectification/{item["id"]}"' in page
    assert re.search(r'data-kind="rectification_to_fix".*?</a> · 测试platform</td>', page, re.S)  # who verifies it
    fixed = await post_form(client, f"/rectification/{item['id']}/fix", {"text": "已重新组织评审，评审专家回避，结果已公示。"},
                            files=[("evidence", ("公示.png", PNG, "image/png"))])
    assert fixed.status_code == 303, re.findall(r"class=\"error[^<]*<[^<]*", fixed.text)
    await act_as(client, pool, settings, world["platform_admin"].user_id, world.orgs["platform"])
    page = (await client.get("/dashboard")).text
    assert 'data-kind="rectification_to_verify"' in page and f'href="/rectification/{item["id"]}"' in page
    verified = await post_form(client, f"/rectification/{item['id']}/verify", {"confirmed-verify": "yes"})
    assert verified.status_code == 303, verified.text[:500]
    assert await pool.fetchval("select status from rectification_items where id = $1", item["id"]) == "verified"


async def test_the_platform_changes_a_categorys_time_limits(pool, settings, world):
    admin = await who(pool, settings, world, "platform_admin")
    bureau = await who(pool, settings, world, "buyer_admin")
    cid = await category(pool, "other")
    change = CategoryInput(responsible="district", acknowledge_days=2, answer_days=20, day_kind="calendar")
    with pytest.raises(Forbidden):
        await do(pool, complaints.update_category, bureau, cid, change)
    await do(pool, complaints.update_category, admin, cid, change)
    after = await pool.fetchrow("select * from complaint_categories where id = $1", cid)
    assert (after["responsible"], after["answer_days"], after["day_kind"]) == ("district", 20, "calendar")
    with pytest.raises(Invalid):
        await lodge(pool, settings, world, "other", community_id=999_999)


async def test_the_signed_in_complainant_and_the_organisation_find_it_on_their_workbench(client, pool, settings,
                                                                                         world, places):
    resident = await who(pool, settings, world, "resident")
    lodged = await lodge(pool, settings, world, identity=resident)
    await act_as(client, pool, settings, world["resident"].user_id)
    page = (await client.get("/dashboard")).text
    assert 'data-kind="complaints_mine"' in page and f'href="/complaints/{lodged.id}"' in page
    assert (await client.get(f"/api/complaints/{lodged.id}")).json()["as_complainant"] is True
    await act_as(client, pool, settings, places["committee"], world.orgs["committee"])
    page = (await client.get("/dashboard")).text
    assert 'data-kind="complaints_to_acknowledge"' in page and f'href="/complaints/{lodged.id}"' in page
    view = (await client.get(f"/api/complaints/{lodged.id}")).json()
    assert view["contact_phone"] == PHONE and view["actions"] == ["acknowledge", "answer"]
    # More than the workbench shows: it counts them all and goes on to the public list so filtered.
    others = [await lodge(pool, settings, world) for _ in range(2)]
    committee = await handler(pool, settings, world, places, "committee")
    (owed,) = [listed for kind, listed in await do(pool, complaints.workbench_lists, committee, 2)
               if kind == "complaints_to_acknowledge"]
    assert (len(owed.rows), owed.total) == (2, 3)
    assert owed.more_link == f"/complaints?organisation={world.orgs['committee']}&status=dispatched"
    listed = (await client.get(f"/api{owed.more_link}")).json()
    assert sorted(c["id"] for c in listed["complaints"]) == sorted([lodged.id, *(o.id for o in others)])
