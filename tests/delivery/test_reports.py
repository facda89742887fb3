"""Provider reports: filed, returned, resubmitted and accepted, every version kept; the spending
check, lateness, a report never filed counted as a failed stage, reminders sent once across
processes, evidence photos without their location, and who may read the evidence."""

import asyncio
import io
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.datastructures import State
from PIL import Image

from market.core import clock
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.delivery import outcomes as evaluated
from market.delivery import services as delivery
from market.delivery.domain import DOMAIN
from market.delivery.reports import jobs
from market.delivery.reports import services as reports
from market.delivery.reports.models import (
    NOT_FILED,
    REPORT_STATUSES,
    ReportInput,
    ReturnInput,
    SpendingInput,
    TargetInput,
)
from market.delivery.reports.workflow import REPORT
from market.evaluation import services as engine
from market.evaluation.models import AddMember, Candidate, Criterion
from market.storage import images
from market.storage.services import storage_from_settings
from tests.conftest import act_as, landed, post_form
from tests.factories import PNG, do, photo_with_gps, travel, who

MIDTERM, FINAL = 2, 5  # the standard contract's report milestones
GRACE = 15

EXPECTED_STEPS = {  # action → {from: to}
    "save": {"draft": "draft", "returned": "returned"},
    "submit": {"draft": "submitted"},
    "return": {"submitted": "returned", "resubmitted": "returned"},
    "resubmit": {"returned": "resubmitted"},
    "accept": {"submitted": "accepted", "resubmitted": "accepted"},
}


def test_every_report_step_allowed_and_refused():
    for action, moves in EXPECTED_STEPS.items():
        for status in REPORT_STATUSES:
            if status in moves:
                assert REPORT.find(action, status).target == moves[status]
            else:
                with pytest.raises(Conflict):
                    REPORT.check(action, status, {"provider", "buyer"})
    assert set(EXPECTED_STEPS) == set(REPORT.actions)
    assert {t.action for t in REPORT.transitions if t.who == {"provider"}} == {"save", "submit", "resubmit"}
    assert {t.action for t in REPORT.transitions if t.who == {"buyer"}} == {"return", "accept"}


def complete(spent_fen=10_000_00, achieved=120.0) -> ReportInput:
    return ReportInput(activities="上半年开展上门助浴120人次，覆盖独居失能老人40名。",
                       narrative="服务按计划推进，老人满意度高；雨季上门次数略少，下半年补足。",
                       targets=[TargetInput(position=1, achieved=achieved, note="含复访")],
                       spending=[SpendingInput(position=1, spent_fen=spent_fen), SpendingInput(position=2)])


async def first_payment(pool, settings, world, contract_id):
    """Travel to the first payment's due date and accept it: 40 % paid to the provider."""
    due = await pool.fetchval("select due_date from contract_milestones where contract_id = $1 and position = 1",
                              contract_id)
    await travel(pool, days=(due - clock.today()).days)
    return await do(pool, delivery.accept_milestone, await who(pool, settings, world, "buyer_admin"), contract_id, 1)


async def travel_to(pool, contract_id, position, days_after_due=0):
    due = await pool.fetchval("select due_date from contract_milestones where contract_id = $1 and position = $2",
                              contract_id, position)
    await travel(pool, days=(due - clock.today()).days + days_after_due)


async def notices(pool, kind):
    return await pool.fetch("select user_id, link, params from notifications where kind = $1 order by id", kind)


async def test_the_standard_contract_names_the_stage_of_each_report(pool, signed):
    rows = await pool.fetch("select position, kind, stage from contract_milestones where contract_id = $1 "
                            "order by position", signed)
    assert {r["position"]: r["stage"] for r in rows if r["kind"] == "report"} == {MIDTERM: "midterm", FINAL: "final"}
    assert all(r["stage"] is None for r in rows if r["kind"] != "report")


async def test_filed_returned_resubmitted_accepted_with_every_version_kept(pool, settings, world, signed):
    await first_payment(pool, settings, world, signed)
    provider = await who(pool, settings, world, "provider_staff")
    buyer = await who(pool, settings, world, "buyer_staff")

    view = await do(pool, reports.report_view, settings, provider, signed, MIDTERM)
    assert view.status == "draft" and view.stage == "midterm" and view.may == ["save", "submit"]
    assert [(t.name, t.target) for t in view.draft.targets] == [("服务人次", "480")]  # from the winning bid
    assert [s.item for s in view.draft.spending] == ["人员", "耗材"]

    assert await do(pool, reports.save, provider, signed, MIDTERM, complete()) == 1
    assert await do(pool, reports.submit, provider, signed, MIDTERM) == "submitted"
    assert [n["user_id"] for n in await notices(pool, "report_submitted")] == sorted(
        [world["buyer_admin"].user_id, world["buyer_staff"].user_id])

    view = await do(pool, reports.report_view, settings, buyer, signed, MIDTERM)
    assert view.may == ["return", "accept"] and view.draft is None and [v.version for v in view.versions] == [1]

    async def statements() -> int:  # the page reads every version, however often it was sent back
        sent: list[str] = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: sent.append(record.query))
            await reports.report_view(conn, settings, buyer, signed, MIDTERM)
        return len(sent)
    one_version = await statements()
    await do(pool, reports.return_report, buyer, signed, MIDTERM, ReturnInput(comment="请补充签到表，并说明人次口径。"))
    assert len(await notices(pool, "report_returned")) == 2

    # The correction starts from the returned version, which stays as it was, with its comment.
    view = await do(pool, reports.report_view, settings, provider, signed, MIDTERM)
    assert view.status == "returned" and view.may == ["save", "resubmit"] and view.draft.version == 2
    assert view.draft.activities == complete().activities
    assert await do(pool, reports.save, provider, signed, MIDTERM, complete(achieved=130)) == 2
    assert await do(pool, reports.submit, provider, signed, MIDTERM) == "resubmitted"
    assert len(await notices(pool, "report_resubmitted")) == 2
    await do(pool, reports.accept, buyer, signed, MIDTERM)
    assert len(await notices(pool, "report_accepted")) == 2

    view = await do(pool, reports.report_view, settings, provider, signed, MIDTERM)
    assert view.status == "accepted" and view.may == [] and view.draft is None and not view.late
    second, first = view.versions
    assert (first.version, first.comment, first.targets[0].achieved) == (1, "请补充签到表，并说明人次口径。", 120)
    assert await statements() == one_version
    assert (second.version, second.comment, second.targets[0].achieved) == (2, "", 130)
    assert first.returned_by == "buyer_staff" and second.submitted_by == "provider_staff"
    verbs = [r["verb"] for r in await pool.fetch(
        "select verb from audit_events where object_type = 'delivery_report' order by id")]
    assert verbs == ["report.save", "report.submit", "report.return", "report.save", "report.resubmit",
                     "report.accept"]


async def send_back(conn, identity, contract_id, position):
    await reports.return_report(conn, identity, contract_id, position, ReturnInput(comment="请补充材料。"))


async def test_each_step_refused_to_the_wrong_party_and_in_the_wrong_status(pool, settings, world, signed):
    await first_payment(pool, settings, world, signed)
    provider = await who(pool, settings, world, "provider_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    stranger = await who(pool, settings, world, "other_provider_admin")
    evaluator = await who(pool, settings, world, "evaluator")

    for person in (stranger, evaluator):  # not a party, not on an evaluation of this contract
        with pytest.raises(NotFound):
            await do(pool, reports.report_view, settings, person, signed, MIDTERM)
        with pytest.raises(NotFound):
            await do(pool, reports.save, person, signed, MIDTERM, complete())
    for position in (1, 99, 40_000):  # a payment milestone has no report; these name no milestone
        with pytest.raises(NotFound):
            await do(pool, reports.report_view, settings, provider, signed, position)
    with pytest.raises(Forbidden):
        await do(pool, reports.save, buyer, signed, MIDTERM, complete())
    with pytest.raises(Conflict):  # nothing to review yet
        await do(pool, reports.accept, buyer, signed, MIDTERM)
    with pytest.raises(Conflict):
        await do(pool, reports.return_report, buyer, signed, MIDTERM, ReturnInput(comment="请补充材料。"))
    with pytest.raises(Conflict):  # nothing written yet
        await do(pool, reports.submit, provider, signed, MIDTERM)

    await do(pool, reports.save, provider, signed, MIDTERM, ReportInput(activities="开展了活动"))
    with pytest.raises(InvalidFields) as incomplete:
        await do(pool, reports.submit, provider, signed, MIDTERM)
    assert {e.field for e in incomplete.value.errors} == {"activities", "target-1", "narrative"}

    await do(pool, reports.save, provider, signed, MIDTERM, complete())
    await do(pool, reports.submit, provider, signed, MIDTERM)
    with pytest.raises(Conflict):  # a submitted version is frozen
        await do(pool, reports.save, provider, signed, MIDTERM, complete(achieved=1))
    with pytest.raises(Conflict):
        await do(pool, reports.submit, provider, signed, MIDTERM)
    for step in (reports.accept, send_back):
        with pytest.raises(Forbidden):
            await do(pool, step, provider, signed, MIDTERM)
    with pytest.raises(InvalidFields):
        await do(pool, reports.return_report, buyer, signed, MIDTERM, ReturnInput(comment="     "))
    await do(pool, reports.accept, buyer, signed, MIDTERM)
    for step in (reports.accept, send_back):
        with pytest.raises(Conflict):
            await do(pool, step, buyer, signed, MIDTERM)
    with pytest.raises(Conflict):
        await do(pool, reports.save, provider, signed, MIDTERM, complete())


async def test_reports_wait_for_both_signatures(pool, settings, world, contract_id):
    provider = await who(pool, settings, world, "provider_admin")
    with pytest.raises(Conflict):
        await do(pool, reports.save, provider, contract_id, MIDTERM, complete())


async def test_spending_may_not_exceed_what_was_paid(pool, settings, world, signed):
    provider = await who(pool, settings, world, "provider_admin")
    with pytest.raises(InvalidFields) as refused:  # nothing paid yet
        await do(pool, reports.save, provider, signed, MIDTERM, complete(spent_fen=1))
    assert [e.field for e in refused.value.errors] == ["spending"]
    paid = await first_payment(pool, settings, world, signed)
    assert paid == 40_000_00
    with pytest.raises(InvalidFields):
        await do(pool, reports.save, provider, signed, MIDTERM, complete(spent_fen=paid + 1))
    await do(pool, reports.save, provider, signed, MIDTERM, complete(spent_fen=paid))
    view = await do(pool, reports.report_view, settings, provider, signed, MIDTERM)
    assert view.paid_fen == paid and view.draft.spent_fen == paid
    with pytest.raises(InvalidFields):  # a line the bid does not have
        await do(pool, reports.save, provider, signed, MIDTERM,
                 ReportInput(spending=[SpendingInput(position=9, spent_fen=1)]))


async def test_a_report_submitted_after_its_due_date_is_late(pool, settings, world, signed):
    await first_payment(pool, settings, world, signed)
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, reports.save, provider, signed, MIDTERM, complete())
    await travel_to(pool, signed, MIDTERM)
    await do(pool, reports.submit, provider, signed, MIDTERM)
    assert not await pool.fetchval("select late from delivery_reports where position = $1", MIDTERM)

    await do(pool, reports.save, provider, signed, FINAL, complete())
    await travel_to(pool, signed, FINAL, days_after_due=1)
    await do(pool, reports.submit, provider, signed, FINAL)
    assert await pool.fetchval("select late from delivery_reports where position = $1", FINAL)
    assert (await do(pool, reports.report_view, settings, provider, signed, FINAL)).late


async def test_the_job_marks_an_unfiled_report_late_and_then_failed_once(pool, settings, world, signed):
    await travel_to(pool, signed, MIDTERM, days_after_due=1)
    first = await jobs.run(pool, GRACE)
    assert first.late == 1 and first.failed == 0
    assert (await jobs.run(pool, GRACE)).late == 0
    parties = {world[n].user_id for n in ("buyer_admin", "buyer_staff", "provider_admin", "provider_staff")}
    assert {n["user_id"] for n in await notices(pool, "report_overdue")} == parties
    assert len(await notices(pool, "report_overdue")) == len(parties)

    await travel(pool, days=GRACE - 1)  # the last day of the grace period: still not failed
    assert (await jobs.run(pool, GRACE)).failed == 0
    await travel(pool, days=1)
    results = await asyncio.gather(jobs.run(pool, GRACE), jobs.run(pool, GRACE))
    assert sorted(r.failed for r in results) == [0, 1]
    failure = await pool.fetchrow("select * from contract_stage_failures where contract_id = $1", signed)
    assert (failure["position"], failure["stage"], failure["reason"]) == (MIDTERM, "midterm", NOT_FILED)
    assert (await evaluated.stage_outcome(pool, signed, "midterm")).outcome == "failed"
    assert len(await notices(pool, "report_not_filed")) == len(parties)
    provider = await who(pool, settings, world, "provider_admin")
    view = await do(pool, reports.report_view, settings, provider, signed, MIDTERM)
    assert view.failed and view.late and view.status == "draft"
    assert await pool.fetchval("select count(*) from audit_events where verb = 'report.not_filed'") == 1


async def test_a_stage_failed_while_no_clock_ran_is_dated_when_its_grace_period_ended(pool, signed):
    # The clock first runs five days after the grace period: the failure dates from when the grace
    # period ended (the start of the next day where the deployment is), not from when it was noticed.
    await travel_to(pool, signed, MIDTERM, days_after_due=GRACE + 6)
    assert (await jobs.run(pool, GRACE, "Asia/Shanghai")).failed == 1
    due = await pool.fetchval("select due_date from contract_milestones where contract_id = $1 and position = $2",
                              signed, MIDTERM)
    at = await pool.fetchval("select at from contract_stage_failures where contract_id = $1", signed)
    assert at.astimezone(ZoneInfo("Asia/Shanghai")) == datetime.combine(
        due + timedelta(days=GRACE + 1), time(), ZoneInfo("Asia/Shanghai"))


async def test_an_ended_contract_is_owed_no_more_reports(pool, settings, world, signed):
    # Ended at the mid-term: its final report is neither reminded of, nor late, nor a failed stage, and
    # the provider cannot file it.
    await pool.execute("insert into contract_delivery (contract_id, status, decided_stage, ended_reason, ended_at) "
                       "values ($1, 'ended', 'midterm', '中期评估不合格', now())", signed)
    await travel_to(pool, signed, FINAL, days_after_due=-1)
    assert (await jobs.run(pool, GRACE)).reminded == 0
    await travel(pool, days=GRACE + 2)
    done = await jobs.run(pool, GRACE)
    assert (done.late, done.failed) == (0, 0)
    assert await pool.fetchval("select count(*) from contract_stage_failures where contract_id = $1", signed) == 0
    provider = await who(pool, settings, world, "provider_admin")
    with pytest.raises(Conflict):
        await do(pool, reports.save, provider, signed, FINAL, complete())


async def test_a_filed_report_is_neither_late_nor_failed(pool, settings, world, signed):
    await first_payment(pool, settings, world, signed)
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, reports.save, provider, signed, MIDTERM, complete())
    await do(pool, reports.submit, provider, signed, MIDTERM)
    await travel_to(pool, signed, MIDTERM, days_after_due=GRACE + 1)
    done = await jobs.run(pool, GRACE)
    assert (done.late, done.failed) == (0, 0)


async def test_reminders_go_once_a_week_and_a_day_before_across_processes(pool, settings, world, signed):
    await travel_to(pool, signed, MIDTERM, days_after_due=-8)
    assert (await jobs.run(pool, GRACE)).reminded == 0
    await travel(pool, days=1)  # 7 days before
    # As every app process runs it (the delivery domain's periodic job), two at once.
    job = next(iter(DOMAIN.jobs))
    state = State({"pool": pool, "settings": settings})
    await asyncio.gather(job(state), job(state))
    assert await pool.fetchval("select count(*) from report_reminders") == 1
    assert (await jobs.run(pool, GRACE)).reminded == 0
    providers = sorted(world[n].user_id for n in ("provider_admin", "provider_staff"))
    assert sorted(n["user_id"] for n in await notices(pool, "report_due")) == providers
    await travel(pool, days=6)  # the day before
    results = await asyncio.gather(jobs.run(pool, GRACE), jobs.run(pool, GRACE))
    assert sorted(r.reminded for r in results) == [0, 1]
    assert await pool.fetchval("select array_agg(days_before order by days_before) from report_reminders") == [1, 7]
    assert len(await notices(pool, "report_due")) == 2 * len(providers)


async def test_no_reminder_for_a_report_already_submitted(pool, settings, world, signed):
    await first_payment(pool, settings, world, signed)
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, reports.save, provider, signed, MIDTERM, complete())
    await do(pool, reports.submit, provider, signed, MIDTERM)
    await travel_to(pool, signed, MIDTERM, days_after_due=-1)
    assert (await jobs.run(pool, GRACE)).reminded == 0


async def test_an_evidence_photo_loses_its_location(pool, settings, world, signed):
    original = photo_with_gps()
    assert images.has_location(original)
    provider = await who(pool, settings, world, "provider_admin")
    storage = storage_from_settings(settings)
    file_id = await do(pool, reports.add_evidence, storage, settings, provider, signed, MIDTERM, original,
                       "活动现场.jpg", "photo")
    key = await pool.fetchval("select storage_key from files where id = $1", file_id)
    kept = storage.get(key)
    assert kept != original and not images.has_location(kept)
    assert Image.open(io.BytesIO(kept)).size == (64, 48)
    assert await pool.fetchval("select visibility from files where id = $1", file_id) == "private"
    with pytest.raises(Invalid):
        await do(pool, reports.add_evidence, storage, settings, provider, signed, MIDTERM, b"\xff\xd8\xff\xe0broken",
                 "坏图.jpg", "photo")
    with pytest.raises(Invalid):
        await do(pool, reports.add_evidence, storage, settings, provider, signed, MIDTERM, PNG, "a.png", "selfie")


async def test_the_buyer_reads_the_evidence_through_the_report_and_a_stranger_cannot(client, pool, settings, world,
                                                                                     signed):
    await first_payment(pool, settings, world, signed)
    provider = world["provider_admin"]
    await act_as(client, pool, settings, provider.user_id, provider.org_id)
    r = await client.post(f"/api/contracts/{signed}/reports/{MIDTERM}/evidence",
                          files={"file": ("签到表.png", PNG, "image/png")}, data={"kind": "sign_in_sheet"},
                          headers={"x-csrftoken": client.cookies.get("market_csrf")})
    assert r.status_code == 201, r.text
    evidence = r.json()["draft"]["evidence"][0]
    assert evidence["kind"] == "sign_in_sheet"
    file_id = evidence["file_id"]
    # A photo sent by mistake is taken out again on the report's page, which says so.
    r = await client.post(f"/api/contracts/{signed}/reports/{MIDTERM}/evidence",
                          files={"file": ("错的.png", PNG, "image/png")}, data={"kind": "photo"},
                          headers={"x-csrftoken": client.cookies.get("market_csrf")})
    wrong = r.json()["draft"]["evidence"][1]["file_id"]
    removed = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}/evidence/{wrong}/remove")
    assert landed(removed, "evidence_removed") == f"/contracts/{signed}/reports/{MIDTERM}"
    assert "该文件已从报告的佐证材料中移除" in (await client.get(removed.headers["location"])).text
    assert [e["file_id"] for e in (await client.get(f"/api/contracts/{signed}/reports/{MIDTERM}")).json()["draft"]
            ["evidence"]] == [file_id]
    r = await client.put(f"/api/contracts/{signed}/reports/{MIDTERM}", json={
        "activities": "上半年开展上门助浴120人次。", "narrative": "服务按计划推进，老人满意。",
        "targets": [{"position": 1, "achieved": 120}], "spending": [{"position": 1, "spent_fen": 30_000_00}]},
        headers={"x-csrftoken": client.cookies.get("market_csrf")})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/contracts/{signed}/reports/{MIDTERM}/submit",
                          headers={"x-csrftoken": client.cookies.get("market_csrf")})
    assert r.status_code == 201 and r.json()["status"] == "submitted"

    buyer = world["buyer_staff"]
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    assert (await client.get(f"/files/{file_id}")).status_code == 404  # not the buyer's file by itself
    view = (await client.get(f"/api/contracts/{signed}/reports/{MIDTERM}")).json()
    assert view["draft"] is None
    link = view["versions"][0]["evidence"][0]["link"]
    got = await client.get(link)
    assert got.status_code == 200 and got.content == PNG

    stranger = world["other_provider_admin"]
    await act_as(client, pool, settings, stranger.user_id, stranger.org_id)
    assert (await client.get(link)).status_code == 403  # made out to the buyer's staff member alone
    assert (await client.get(f"/api/contracts/{signed}/reports/{MIDTERM}")).status_code == 404
    assert (await client.get(f"/files/{file_id}")).status_code == 404
    forged = link.replace("grant=1&", "")
    assert (await client.get(forged)).status_code == 403
    await act_as(client, pool, settings, None)
    assert (await client.get(f"/files/{uuid.UUID(file_id)}")).status_code == 404


async def test_the_report_form_files_and_the_buyer_returns_and_accepts_on_the_page(client, pool, settings, world,
                                                                                    signed):
    await first_payment(pool, settings, world, signed)
    provider = world["provider_admin"]
    await act_as(client, pool, settings, provider.user_id, provider.org_id)
    page = await client.get(f"/contracts/{signed}")
    assert f"/contracts/{signed}/reports/{MIDTERM}" in page.text
    page = await client.get(f"/contracts/{signed}/reports/{MIDTERM}")
    assert page.status_code == 200 and "中期报告" in page.text and 'name="target-1-achieved"' in page.text
    form = {"activities": "上半年开展上门助浴120人次。", "narrative": "服务按计划推进，老人满意。",
            "target-1-achieved": "120", "target-1-note": "含复访", "line-1-yuan": "50,000", "line-2-yuan": "0",
            "evidence_kind": "photo", "then": "submit"}
    r = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}", form,
                        files={"evidence": ("现场.png", PNG, "image/png")})
    assert r.status_code == 400 and "¥40,000.00" in r.text  # more spent than was paid
    form["line-1-yuan"] = "30000"
    r = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}", form,
                        files={"evidence": ("现场.png", PNG, "image/png")})
    assert r.status_code == 303, r.text
    assert await pool.fetchval("select status from delivery_reports") == "submitted"
    assert await pool.fetchval("select count(*) from report_evidence") == 1

    buyer = world["buyer_admin"]
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    dashboard = await client.get("/dashboard")
    assert 'data-kind="reports_to_review"' in dashboard.text
    r = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}/return", {"comment": "请补充签到表。"})
    assert r.status_code == 303
    await act_as(client, pool, settings, provider.user_id, provider.org_id)
    dashboard = await client.get("/dashboard")
    assert 'data-kind="reports_due"' in dashboard.text and "请补充签到表。" not in dashboard.text
    page = await client.get(f"/contracts/{signed}/reports/{MIDTERM}")
    assert "请补充签到表。" in page.text and 'value="30000.00"' in page.text
    r = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}", {**form, "line-2-yuan": "1000"})
    assert r.status_code == 303
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    r = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}/accept", {})
    assert r.status_code == 400  # the box is not ticked
    r = await post_form(client, f"/contracts/{signed}/reports/{MIDTERM}/accept", {"confirmed-accept": "yes"})
    assert r.status_code == 303
    assert await pool.fetchval("select status from delivery_reports") == "accepted"
    page = await client.get(f"/contracts/{signed}/reports/{MIDTERM}?lang=en")
    assert page.status_code == 200 and "Mid-term report" in page.text and "accepted" in page.text


async def test_the_provider_sees_reports_due_and_the_buyer_reports_to_review(pool, settings, world, signed):
    from market.dashboard.services import workbench

    await first_payment(pool, settings, world, signed)
    await travel_to(pool, signed, MIDTERM, days_after_due=-10)
    provider = await who(pool, settings, world, "provider_admin")
    buyer = await who(pool, settings, world, "buyer_admin")

    async def items(identity, kind):
        bench = await do(pool, workbench, identity)
        return [(t.link, t.state) for lst in bench.lists if lst.kind == kind for t in lst.items]

    link = f"/contracts/{signed}/reports/{MIDTERM}"
    assert await items(provider, "reports_due") == [(link, "due")]
    await travel(pool, days=11)
    assert await items(provider, "reports_due") == [(link, "overdue")]
    assert await items(buyer, "reports_to_review") == []
    await do(pool, reports.save, provider, signed, MIDTERM, complete())
    await do(pool, reports.submit, provider, signed, MIDTERM)
    assert await items(provider, "reports_due") == []
    assert await items(buyer, "reports_to_review") == [(link, "submitted")]
    await do(pool, reports.return_report, buyer, signed, MIDTERM, ReturnInput(comment="请补充签到表。"))
    assert await items(provider, "reports_due") == [(link, "returned")]
    assert await items(buyer, "reports_to_review") == []


async def test_an_evaluator_of_the_contract_reads_the_report(pool, settings, world, signed):
    await first_payment(pool, settings, world, signed)
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, reports.save, provider, signed, MIDTERM, complete())
    await do(pool, reports.submit, provider, signed, MIDTERM)
    evaluator = await who(pool, settings, world, "evaluator")
    with pytest.raises(NotFound):
        await do(pool, reports.report_view, settings, evaluator, signed, MIDTERM)
    bureau = await who(pool, settings, world, "buyer_admin")
    panel = await do(pool, lambda conn: engine.create_panel(
        conn, bureau, subject_type="midterm", subject_id=signed,
        criteria=[Criterion(1, "服务交付", "Delivery", 100, None, False)],
        candidates=[Candidate(signed, world["provider_admin"].org_id, "合同", None, clock.now())]))
    await do(pool, engine.add_member, bureau, panel, AddMember(email=world["evaluator"].email, role="chair"))
    view = await do(pool, reports.report_view, settings, evaluator, signed, MIDTERM)
    assert view.may == [] and view.draft is None and len(view.versions) == 1
    assert timedelta(0) <= view.grace_ends - view.due_date == timedelta(days=settings.report_grace_days)
