"""The workbench (/dashboard and GET /api/dashboard): per role, what waits for the reader, oldest date
first, each item with the link where it is done; never another organisation's items; the activity
feed in sentences; and a number of SQL statements that does not grow with the number of items."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from market.audit.models import AuditEvent, Verb
from market.core import clock
from market.core.i18n import use_locale
from market.dashboard import activity, services
from market.delivery import services as delivery
from market.evaluation import services as engine
from market.evaluation.models import Declaration, ScoreInput
from market.funding.pledges import services as pledges
from market.funding.pledges.models import PledgeInput
from market.matching.fairs import services as fairs
from market.matching.fairs.models import ItemInput
from market.matching.scoring.weights import Weights
from market.places.services import insert_jurisdiction
from market.procurement.awards import services as awards
from market.procurement.bids import services as bids
from market.procurement.calls import questions
from market.procurement.calls import services as calls
from market.procurement.contracts import services as contracts
from market.procurement.needs import services as needs
from market.procurement.needs.models import NeedInput, ProjectInput
from market.rectification import services as rectification
from market.surveys import services as surveys
from tests.conftest import act_as, api_headers
from tests.factories import (bid_input, call_input, do, fair_input, panel_of, second_funder, stage_reports_accepted,
                             transfer, travel, who)


async def bench(pool, settings, world, name):
    identity = await who(pool, settings, world, name)
    return await do(pool, services.workbench, identity)


def lists(view) -> dict[str, object]:
    return {x.kind: x for x in view.lists}


def links(view, kind: str) -> list[str]:
    found = lists(view).get(kind)
    return [t.link for t in found.items] if found else []


async def _need(pool, settings, world, title: str, days_ago: int) -> int:
    resident = await who(pool, settings, world, "resident")
    need_id = await do(pool, needs.raise_need, resident, NeedInput(
        title=title, description="社区里有老人需要这项服务。", community_id=world.community, beneficiaries="独居老人"))
    await pool.execute("update needs set created_at = now() - make_interval(days => $2) where id = $1", need_id,
                       days_ago)
    return need_id


async def make_project(pool, settings, world, published, title: str) -> int:
    bureau = await who(pool, settings, world, "buyer_admin")
    return await do(pool, needs.create_project, bureau, ProjectInput(
        title_zh=title, description="为社区居民提供服务一年。", catalogue_entry_id=published["01.01.02"],
        budget_fen=200_000_00, budget_line="福彩公益金", jurisdiction_id=world.street))


async def _draft(pool, settings, world, published, title: str) -> int:
    project = await make_project(pool, settings, world, published, title)
    return await do(pool, calls.create_call, await who(pool, settings, world, "buyer_admin"),
                     call_input(project, title_zh=title))


async def _score_all(pool, settings, world, panel_id, people=("evaluator", "buyer_staff")):
    for c in await do(pool, engine.candidates_of, panel_id):
        for name in people:
            person = await who(pool, settings, world, name)
            await do(pool, engine.declare, person, panel_id, Declaration(candidate_id=c.candidate_id, conflicted=False))
            for position in (1, 2):
                await do(pool, engine.score, person, panel_id,
                          ScoreInput(candidate_id=c.candidate_id, position=position, score=70))


async def test_the_buyer_sees_needs_and_drafts_oldest_first_with_their_links(pool, settings, world, published):
    late = await _need(pool, settings, world, "楼道照明需要修理", 1)
    early = await _need(pool, settings, world, "独居老人午餐没人做", 9)
    middle = await _need(pool, settings, world, "儿童放学后无人看护", 4)
    draft = await _draft(pool, settings, world, published, "东坡路社区助餐服务采购")
    view = await bench(pool, settings, world, "buyer_admin")
    assert links(view, "needs_to_decide") == [f"/needs/{early}", f"/needs/{middle}", f"/needs/{late}"]
    listed = lists(view)["needs_to_decide"]
    assert [t.at for t in listed.items] == sorted(t.at for t in listed.items)
    assert listed.total == 3 and listed.more_link == f"/needs?status=open&place={world.district}"
    # A buyer sees the needs of its own area only: a street office its street's, a committee its
    # community's; a need in another street of the district is the bureau's alone.
    async with pool.acquire() as conn:
        street = await insert_jurisdiction(conn, parent_id=world.district, level="street", code="t-north",
                                           name_zh="北街道", name_en="North Street")
        north = await insert_jurisdiction(conn, parent_id=street, level="community", code="t-north-1",
                                          name_zh="北社区", name_en="North Community")
    elsewhere = await do(pool, needs.raise_need, await who(pool, settings, world, "resident"), NeedInput(
        title="北社区路灯不亮", description="小区北门的路灯坏了，晚上出门看不见路。", community_id=north, beneficiaries="居民"))
    for place, shown in ((world.district, [early, middle, late, elsewhere]), (world.street, [early, middle, late]),
                         (world.community, [early, middle, late]), (north, [elsewhere]), (street, [elsewhere])):
        await pool.execute("update organisations set jurisdiction_id = $1 where id = $2", place, world.orgs["bureau"])
        listed = lists(await bench(pool, settings, world, "buyer_admin"))["needs_to_decide"]
        assert [t.link for t in listed.items] == [f"/needs/{n}" for n in shown], place
        assert listed.total == len(shown) and listed.more_link == f"/needs?status=open&place={place}"
    await pool.execute("update organisations set jurisdiction_id = $1 where id = $2", world.district,
                       world.orgs["bureau"])
    assert links(view, "calls_to_publish") == [f"/calls/{draft}"]
    # A published call is no longer a draft to publish.
    await do(pool, calls.publish_call, await who(pool, settings, world, "buyer_admin"), draft)
    assert links(await bench(pool, settings, world, "buyer_admin"), "calls_to_publish") == []
    # The buyer's finance staff confirm transfers and accept milestones; deciding needs is not theirs.
    async with pool.acquire() as conn:
        await conn.execute("update memberships set role = 'finance' where user_id = $1",
                           world["buyer_staff"].user_id)
    finance = lists(await bench(pool, settings, world, "buyer_staff"))
    assert "needs_to_decide" not in finance and "transfers_to_confirm" in finance and "milestones_due" in finance


async def test_a_call_moves_through_the_buyers_lists_to_the_contract(pool, settings, world, closed_call):
    call = closed_call
    view = await bench(pool, settings, world, "buyer_admin")
    assert links(view, "panels_to_form") == [f"/calls/{call}"]
    assert lists(view)["panels_to_form"].items[0].state == "no_panel"
    panel_id = await panel_of(pool, settings, world, call)
    view = await bench(pool, settings, world, "buyer_admin")
    assert links(view, "panels_to_form") == [] and links(view, "awards_to_make") == []
    await _score_all(pool, settings, world, panel_id)
    chair = await who(pool, settings, world, "evaluator")
    for c in await do(pool, engine.candidates_of, panel_id):
        for position in (1, 2):
            await do(pool, engine.record_consensus, chair, panel_id,
                      ScoreInput(candidate_id=c.candidate_id, position=position, score=75 if c.label == "测试provider" else 65))
    assert links(await bench(pool, settings, world, "buyer_admin"), "awards_to_make") == [f"/calls/{call}"]
    buyer = await who(pool, settings, world, "buyer_admin")
    await do(pool, awards.award, buyer, call)
    objection = await do(pool, awards.object_to, await who(pool, settings, world, "other_provider_admin"), call,
                          "请说明评分依据，谢谢。")
    view = await bench(pool, settings, world, "buyer_admin")
    assert links(view, "awards_to_make") == [] and links(view, "objections_to_answer") == [f"/calls/{call}#award"]
    await pool.execute("update calls set notice_ends_at = now() - interval '1 second' where id = $1", call)
    await pool.execute("update awards set notice_ends_at = now() - interval '1 second' where call_id = $1", call)
    # The contract waits for the objection's answer.
    assert links(await bench(pool, settings, world, "buyer_admin"), "contracts_to_prepare") == []
    await do(pool, awards.answer_objection, buyer, objection, "reject", "评分依据已公布，排序无误。")
    view = await bench(pool, settings, world, "buyer_admin")
    assert links(view, "objections_to_answer") == [] and links(view, "contracts_to_prepare") == [f"/calls/{call}"]
    contract_id = await do(pool, contracts.generate, buyer, call)
    view = await bench(pool, settings, world, "buyer_admin")
    assert links(view, "contracts_to_prepare") == [] and links(view, "contracts_to_sign") == [f"/contracts/{contract_id}"]
    provider_view = await bench(pool, settings, world, "provider_admin")
    assert links(provider_view, "contracts_to_sign") == [f"/contracts/{contract_id}"]
    assert links(await bench(pool, settings, world, "other_provider_admin"), "contracts_to_sign") == []
    await do(pool, contracts.sign, buyer, contract_id)
    assert links(await bench(pool, settings, world, "buyer_admin"), "contracts_to_sign") == []
    await do(pool, contracts.sign, await who(pool, settings, world, "provider_admin"), contract_id)
    # Milestones fall due. The provider sees those due within the notice days, the overdue first; the
    # buyer, who accepts them in their order, each contract's next one once it may be accepted.
    today = clock.today()
    await pool.execute("update contract_milestones set due_date = $2::date + position * 10 - 25 where contract_id = $1",
                       contract_id, today)
    due = lists(await bench(pool, settings, world, "provider_admin"))["milestones_due"]
    assert [t.due_date for t in due.items] == [today - timedelta(days=15), today - timedelta(days=5),
                                             today + timedelta(days=5)]
    assert {t.link for t in due.items} == {f"/contracts/{contract_id}#milestones"}
    # Each named as the contract's page names it: a standard milestone in the page's language.
    assert due.items[1].detail == "中期报告及中期评估"
    with use_locale("en"):
        english = lists(await bench(pool, settings, world, "provider_admin"))["milestones_due"]
    assert english.items[1].detail == "Mid-term report and evaluation"
    first, second = (await pool.fetch("select position, due_date from contract_milestones where contract_id = $1 "
                                      "order by position limit 2", contract_id))
    buyer_due = lists(await bench(pool, settings, world, "buyer_admin"))["milestones_due"]
    assert [t.due_date for t in buyer_due.items] == [first["due_date"]]
    await do(pool, delivery.accept_milestone, buyer, contract_id, first["position"])
    buyer_due = lists(await bench(pool, settings, world, "buyer_admin"))["milestones_due"]
    assert [t.due_date for t in buyer_due.items] == [second["due_date"]]
    # The provider's bid won; the other's did not.
    assert [t.state for t in lists(provider_view)["bids"].items] == ["awarded"]
    other = lists(await bench(pool, settings, world, "other_provider_admin"))["bids"]
    assert [t.state for t in other.items] == ["not_awarded"]


async def test_the_provider_sees_the_calls_it_may_bid_on_and_its_own_bids_only(pool, settings, world, published,
                                                                              open_call):
    bureau = await who(pool, settings, world, "buyer_admin")
    strict = await _draft(pool, settings, world, published, "需要五星级机构的服务采购")
    await do(pool, calls.update_call, bureau, strict, call_input(
        await pool.fetchval("select project_id from calls where id = $1", strict), title_zh="需要五星级机构的服务采购",
        min_rating=5))
    await do(pool, calls.publish_call, bureau, strict)
    view = await bench(pool, settings, world, "provider_admin")
    assert links(view, "calls_to_bid") == [f"/calls/{open_call}"]  # the 5A call is not for a 4A organisation
    assert lists(view)["calls_to_bid"].items[0].at is not None and lists(view)["calls_to_bid"].more_link == "/calls?biddable=true"
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, bids.submit, provider, open_call, bid_input())
    question = await do(pool, questions.ask, provider, open_call, "是否可以分期交付？")
    await do(pool, questions.answer, bureau, question, "可以。")
    view = await bench(pool, settings, world, "provider_admin")
    assert links(view, "calls_to_bid") == []
    assert [(t.link, t.state) for t in lists(view)["bids"].items] == [(f"/calls/{open_call}#bid", "pending")]
    assert links(view, "questions_answered") == [f"/calls/{open_call}#questions"]
    other = await bench(pool, settings, world, "other_provider_admin")
    assert links(other, "bids") == [] and links(other, "questions_answered") == []
    # The list follows the bidding rules themselves, for both calls and both organisations.
    for name, org in (("provider_admin", "provider"), ("other_provider_admin", "other_provider")):
        fresh = await bench(pool, settings, world, name)
        for call_id in (open_call, strict):
            row = await pool.fetchrow("select * from calls where id = $1", call_id)
            async with pool.acquire() as conn:
                problems = await bids.eligibility_problems(conn, world.orgs[org], row)
                has_bid = await conn.fetchval("select 1 from bids where call_id = $1 and provider_id = $2", call_id,
                                              world.orgs[org])
            assert (f"/calls/{call_id}" in links(fresh, "calls_to_bid")) == (not problems and not has_bid), (name, call_id)
    # An organisation not yet verified has nothing to act on.
    assert (await bench(pool, settings, world, "pending_admin")).lists == []


async def test_the_funder_sees_its_own_pledges_to_pay_and_the_fairs(pool, settings, world, project):
    funder = await who(pool, settings, world, "funder_admin")
    first = await do(pool, pledges.create, funder, PledgeInput(target_type="project", target_id=project,
                                                                amount_fen=5_000_00))
    second = await do(pool, pledges.create, funder, PledgeInput(target_type="project", target_id=project,
                                                                 amount_fen=7_000_00))
    # made two days earlier, so to be paid two days sooner: first on the list
    await pool.execute("update pledges set created_at = now() - interval '2 days', pay_by = pay_by - 2 where id = $1",
                       second)
    org_id, user_id = await second_funder(pool, world)
    from tests.conftest import identity_of
    stranger = await identity_of(pool, settings, user_id, org_id)
    theirs = await do(pool, pledges.create, stranger, PledgeInput(target_type="project", target_id=project,
                                                                   amount_fen=9_000_00))
    view = await bench(pool, settings, world, "funder_admin")
    assert links(view, "pledges_to_pay") == [f"/pledges/{second}", f"/pledges/{first}"]
    assert lists(view)["pledges_to_pay"].more_link == "/pledges?status=pledged"  # the rest, a click away
    assert [t.amount_fen for t in lists(view)["pledges_to_pay"].items] == [7_000_00, 5_000_00]
    assert [t.due_date for t in lists(view)["pledges_to_pay"].items] == [
        clock.today() + timedelta(days=28), clock.today() + timedelta(days=30)]
    assert f"/pledges/{theirs}" not in str(msgspec.to_builtins(view))
    # Once a transfer is recorded, the receiver has to act, not the funder; the buyer sees it.
    await do(pool, pledges.record_offline, funder, first, transfer())
    assert links(await bench(pool, settings, world, "funder_admin"), "pledges_to_pay") == [f"/pledges/{second}"]
    assert lists(await bench(pool, settings, world, "buyer_admin"))["transfers_to_confirm"].total == 1
    # A fair open for registration, then the funder registered.
    bureau = await who(pool, settings, world, "buyer_admin")
    fair_id = await do(pool, fairs.create, bureau, fair_input())
    await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=project, target_fen=100_000_00), Weights())
    assert links(await bench(pool, settings, world, "funder_admin"), "fairs") == []  # a draft is the organiser's
    await do(pool, fairs.move, bureau, fair_id, "open")
    assert [(t.link, t.state) for t in lists(await bench(pool, settings, world, "funder_admin"))["fairs"].items] == [
        (f"/fairs/{fair_id}", "open")]
    await do(pool, fairs.register, funder, fair_id)
    await do(pool, fairs.move, bureau, fair_id, "go_live")
    assert [(t.link, t.state) for t in lists(await bench(pool, settings, world, "funder_admin"))["fairs"].items] == [
        (f"/fairs/{fair_id}/paddle", "live")]
    assert (await bench(pool, settings, world, "funder_admin")).giving is not None


async def test_the_evaluator_sees_what_is_left_to_declare_score_and_record(pool, settings, world, closed_call):
    panel_id = await panel_of(pool, settings, world, closed_call)
    view = await bench(pool, settings, world, "evaluator")
    (task,) = lists(view)["panels_to_score"].items
    assert task.link == f"/panels/{panel_id}" and task.state == "chair"
    assert task.counts == {"to_declare": 2, "to_score": 0, "to_consensus": 0, "to_submit": 0}
    evaluator = await who(pool, settings, world, "evaluator")
    for c in await do(pool, engine.candidates_of, panel_id):
        await do(pool, engine.declare, evaluator, panel_id, Declaration(candidate_id=c.candidate_id, conflicted=False))
    (task,) = lists(await bench(pool, settings, world, "evaluator"))["panels_to_score"].items
    assert task.counts == {"to_declare": 0, "to_score": 4, "to_consensus": 0, "to_submit": 0}
    await _score_all(pool, settings, world, panel_id)
    (task,) = lists(await bench(pool, settings, world, "evaluator"))["panels_to_score"].items
    assert task.counts == {"to_declare": 0, "to_score": 0, "to_consensus": 4, "to_submit": 0}
    # The member has nothing left: the panel leaves the member's workbench.
    assert links(await bench(pool, settings, world, "buyer_staff"), "panels_to_score") == []
    assert links(await bench(pool, settings, world, "provider_admin"), "panels_to_score") == []


async def test_the_platform_sees_the_organisations_to_verify(pool, settings, world):
    view = await bench(pool, settings, world, "platform_admin")
    (listed,) = view.lists
    assert listed.kind == "organisations_to_verify" and listed.more_link == "/admin/organisations"
    assert [t.link for t in listed.items] == [f"/organisations/{world.orgs['pending_provider']}"]


async def test_the_json_twin_is_the_pages_content_and_the_feed_speaks_in_sentences(client, pool, settings, world,
                                                                                   published):
    await _need(pool, settings, world, "独居老人午餐没人做", 3)
    await _draft(pool, settings, world, published, "东坡路社区助餐服务采购")
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    for lang in ("zh_Hans", "en"):
        twin = (await client.get(f"/api/dashboard?lang={lang}")).json()
        html = (await client.get(f"/dashboard?lang={lang}")).text
        with use_locale(lang):
            expected = msgspec.to_builtins(await bench(pool, settings, world, "buyer_admin"))
        assert twin == expected
        shown = [x for x in twin["lists"] if x["total"]]
        assert {x["kind"] for x in shown} == {"needs_to_decide", "calls_to_publish"}
        for x in shown:
            assert f'data-kind="{x["kind"]}"' in html
            for t in x["items"]:
                assert f'href="{t["link"]}"' in html and t["title_zh"] in html
        assert twin["activity"] and all(a["text"] in html for a in twin["activity"])
        feed = html[html.index('id="activity"'):]
        for raw in ("budget_fen", "need_ids", "catalogue_entry_id", "∅", "→", "project.create", "call.create"):
            assert raw not in feed, raw
    english = [a["text"] for a in twin["activity"]]
    assert "buyer_admin approved the project “东坡路社区助餐服务采购”" in english
    assert "buyer_admin drafted the call “东坡路社区助餐服务采购”" in english
    chinese = [a["text"] for a in (await client.get("/api/dashboard?lang=zh_Hans")).json()["activity"]]
    assert all("buyer_admin" in text and text not in english for text in chinese)
    assert sum("“东坡路社区助餐服务采购”" in text for text in chinese) == 2


async def test_the_feed_names_surveys_and_findings_tells_a_run_once_and_goes_by_the_moment(client, pool, settings,
                                                                                          world, signed):
    buyer = await who(pool, settings, world, "buyer_admin")
    await stage_reports_accepted(pool, settings, world, signed, "midterm")
    survey_id = await do(pool, surveys.ensure_for_contract, signed)
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, buyer, survey_id, "open")
    for _ in range(3):  # three batches of slips, one after another: one line
        async with pool.acquire() as conn, conn.transaction():
            await surveys.make_codes(conn, buyer, survey_id, 5)
    call = await pool.fetchval("select c.title_zh from contracts k join calls c on c.id = k.call_id "
                               "where k.id = $1", signed)
    finding = f"{call}（中期评估）：“服务记录完整性”共识得分 40，低于满分的 60%。"

    async def raise_finding(key: str) -> int:
        async with pool.acquire() as conn, conn.transaction():
            return await rectification.raise_item(
                conn, source="evaluation", source_id=signed, key=key, owner_id=world["provider_admin"].org_id,
                buyer_id=buyer.org_id, finding_zh=finding, finding_en="", evidence_required="",
                due=clock.today() + timedelta(days=30))
    item = await raise_finding("records")
    # A story told on a moved clock (the demo's months of history): recorded last, it happened first.
    await travel(pool, days=-40)
    await raise_finding("earlier")
    await travel(pool, days=40)

    with use_locale("zh_Hans"):
        feed = (await bench(pool, settings, world, "buyer_admin")).activity
    assert [a.at for a in feed] == sorted((a.at for a in feed), reverse=True)
    # Raised by the system when the panel closed: told as the buyer's organisation.
    assert feed[0].text == f"{buyer.org_name_zh} 下达了整改事项：{finding}" and feed[0].link == f"/rectification/{item}"
    assert (feed[1].text, feed[1].link, feed[1].times) == (
        f"buyer_admin为“{call}”的居民满意度调查生成了答卷码", f"/surveys/{survey_id}", 3)
    assert feed[2].text == f"buyer_admin开放了“{call}”的居民满意度调查" and feed[2].times == 1
    assert sum("答卷码" in a.text for a in feed) == 1
    # A report is read on its contract's page of reports, by its position.
    (accepted,) = [a for a in feed if a.verb == "report.accept"]
    position = await pool.fetchval("select position from delivery_reports where contract_id = $1", signed)
    assert accepted.link == f"/contracts/{signed}/reports/{position}"
    await act_as(client, pool, client.app.state.settings, buyer.user_id)
    html = (await client.get("/dashboard?lang=zh_Hans")).text
    assert "（3 次）" in html[html.index('id="activity"'):]


def test_every_verb_has_a_sentence_and_an_unknown_one_falls_back():
    assert set(Verb) == set(activity.SENTENCES)
    event = AuditEvent(id=1, at=clock.now(), actor_user_id=None, organisation_id=None, verb="thing.frob",
                       object_type="thing", object_id="7", diff={"secret_field": [1, 2]}, prev_hash="", hash="")
    with use_locale("en"):
        assert activity.sentence(event, "王芳", "#7") == "王芳: thing.frob, “#7”"
        pledge = msgspec.structs.replace(event, verb=Verb.PLEDGE_STATUS.value, diff={"status": ["pledged", "paid"]})
        assert activity.sentence(pledge, "王芳", "助餐") == "The pledge to “助餐” is now paid"


class Counting:
    """A connection that counts the statements sent through it."""

    SENDS = ("fetch", "fetchrow", "fetchval", "execute", "executemany", "cursor", "prepare")

    def __init__(self, conn) -> None:
        self._conn, self.statements = conn, []

    def __getattr__(self, name):
        attr = getattr(self._conn, name)
        if name not in self.SENDS:
            return attr

        def counted(query, *args, **kwargs):
            self.statements.append(query)
            return attr(query, *args, **kwargs)
        return counted


async def _statements(pool, identity) -> int:
    async with pool.acquire() as conn, conn.transaction():
        counting = Counting(conn)
        await services.workbench(counting, identity)
    return len(counting.statements)


@pytest.mark.parametrize("name", ["buyer_admin", "provider_admin", "funder_admin", "evaluator", "platform_admin",
                                  "resident"])
async def test_the_statements_do_not_grow_with_the_items(pool, settings, world, published, name):
    identity = await who(pool, settings, world, name)
    await _statements(pool, identity)  # a resident's first makes their community's survey
    before = await _statements(pool, identity)
    # Many of everything each role lists: needs, drafts, open calls, pledges and transfers, fairs,
    # panels, organisations waiting, and the audit events the feed reads.
    project = await make_project(pool, settings, world, published, "批量项目零号")
    bureau = await who(pool, settings, world, "buyer_admin")
    funder = await who(pool, settings, world, "funder_admin")
    for i in range(25):
        await _need(pool, settings, world, f"批量需求第{i}号", i)
        call_id = await _draft(pool, settings, world, published, f"批量采购公告第{i}号")
        await do(pool, calls.publish_call, bureau, call_id)
        pledge = await do(pool, pledges.create, funder, PledgeInput(target_type="project", target_id=project,
                                                                     amount_fen=1_000_00 + i))
        if i % 2:
            await do(pool, pledges.record_offline, funder, pledge, transfer())
        panel = await pool.fetchval("insert into panels (subject_type, subject_id, owner_id, created_by, status) "
                                    "values ('call', $1, $2, $3, 'scoring') returning id", call_id,
                                    world.orgs["bureau"], bureau.user_id)
        await pool.execute("insert into panel_members (panel_id, user_id, role) values ($1, $2, 'chair')", panel,
                           world["evaluator"].user_id)
        await pool.execute("insert into panel_candidates (panel_id, candidate_id, organisation_id, label, price_fen, "
                           "submitted_at) values ($1, 1, $2, '机构', 100, now())", panel, world.orgs["provider"])
        await pool.execute("insert into fairs (organiser_id, title_zh, place, starts_at, ends_at, status, created_by) "
                           "values ($1, $2, '市民中心', now() + make_interval(days => $3), now() + interval '40 days', "
                           "'open', $4)", world.orgs["bureau"], f"批量相亲会第{i}号", i, bureau.user_id)
    await pool.execute("update organisations set status = 'pending' where kind = 'provider' and id <> $1",
                       world.orgs["provider"])
    after = await _statements(pool, identity)
    assert after == before, (before, after)
    assert 1 <= before <= 19  # rectification, complaints and the buyer scorecard lists are one statement each
    view = await bench(pool, settings, world, name)
    assert all(len(x.items) <= services.LIMIT for x in view.lists)
    longest = {"buyer_admin": "needs_to_decide", "provider_admin": "calls_to_bid", "funder_admin": "fairs",
               "evaluator": "panels_to_score", "resident": "needs_raised"}.get(name)
    if longest:
        assert lists(view)[longest].total == 25 and len(lists(view)[longest].items) == 20


async def test_the_home_page_twin_counts_the_verified_organisations(client, world):
    home = (await client.get("/api/home")).json()
    assert home == {"by_kind": {"buyer": 1, "provider": 2, "funder": 1, "evaluator": 1}}
    assert (await client.get("/")).status_code == 200


async def test_a_person_in_two_organisations_switches_between_them_from_the_workbench(client, pool, world):
    """The switch names each organisation's kind; the workbench's own names for its lists once hid them (a
    city's bureau staff who also worked for a provider got an error page instead of their workbench)."""
    person = world["buyer_admin"]
    async with pool.acquire() as conn:
        await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                           person.user_id, world.orgs["provider"])
    await act_as(client, pool, client.app.state.settings, person.user_id, world.orgs["bureau"])
    for lang, bureau, provider in (("en", "Buyer", "Service provider"), ("zh_Hans", "采购方", "服务承接方")):
        r = await client.get(f"/dashboard?lang={lang}")
        assert r.status_code == 200
        switch = r.text[r.text.index('id="act-as"'):]
        switch = switch[:switch.index("</select>")]
        assert f"{bureau} ·" in switch and f"{provider} ·" in switch
    r = await client.post("/api/account/act-as", json={"organisation_id": None}, headers=api_headers(client))
    assert r.status_code == 204
    r = await client.get("/dashboard?lang=en")
    assert r.status_code == 200 and 'id="act-as"' in r.text
