"""The provider scorecard (every finished evaluation, with those a re-evaluation superseded; late and
unfiled reports; ended contracts; the summary) and the standing it writes, which bidding reads:
refused on the barred catalogue item with the date the bar ends, allowed on another item and once
the bar has run out."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from market.core import clock, i18n
from market.core.i18n import use_locale
from market.delivery import outcomes as evaluated
from market.delivery import ending, scorecard
from market.delivery.models import EndInput, RectifyInput, StageOutcome, StandingRule
from market.delivery.reports import jobs
from market.evaluation import services as engine
from market.evaluation.models import AddMember, Candidate, Criterion, Declaration, ScoreInput
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput
from tests.conftest import act_as
from tests.factories import (
    bid_input,
    call_input,
    do,
    evaluate_delivery,
    score_delivery_panel,
    travel,
    who,
)

MIDTERM = 2  # the standard contract's mid-term report milestone
GRACE = 15


async def _refresh(pool, world, rule: StandingRule | None = None):
    return await do(pool, scorecard.refresh_standing, world.orgs["provider"], rule)


async def _card(pool, settings, world, name: str | None = None):
    identity = await who(pool, settings, world, name) if name else None
    async with pool.acquire() as conn:
        return await scorecard.scorecard(conn, identity, world.orgs["provider"])


async def _call_for(pool, settings, world, published, code: str) -> int:
    """A published call of the bureau for a project of this catalogue item."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        project = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="南山路社区老年服务", description="为辖区老人提供服务一年。", catalogue_entry_id=published[code],
            budget_fen=200_000_00, budget_line="民政专项", jurisdiction_id=world.street))
        call_id = await calls.create_call(conn, bureau, call_input(project))
        await calls.publish_call(conn, bureau, call_id)
    return call_id


async def _problems(pool, world, call_id: int) -> list[str]:
    async with pool.acquire() as conn:
        return await bids.eligibility_problems(conn, world.orgs["provider"], await calls.call_row(conn, call_id))


def test_the_rule_bars_the_grade_set_and_lower_and_a_failure_without_a_panel():
    def outcome(grade, result="passed"):
        return StageOutcome(stage="midterm", outcome=result, grade=grade, total=Decimal(50) if grade else None)

    assert [StandingRule(grade="C").bars(outcome(g)) for g in "ABC"] == [False, False, True]
    assert [StandingRule(grade="B").bars(outcome(g)) for g in "ABC"] == [False, True, True]
    assert StandingRule().bars(outcome(None, "failed"))  # a report never filed
    assert not StandingRule(months=0).bars(outcome("C", "failed"))
    assert not StandingRule().bars(StageOutcome(stage="final", outcome=None))
    assert scorecard.add_months(clock.today().replace(year=2027, month=1, day=31), 1).isoformat() == "2027-02-28"


async def test_the_scorecard_by_hand(client, pool, settings, world, signed):
    """Mid-term 52 (C, failed), rectified and re-evaluated 78 (B), final 90 (A): three finished
    evaluations, the first superseded; the summary is their mean, (52 + 78 + 90) ÷ 3 = 73.33, grade B."""
    buyer = await who(pool, settings, world, "buyer_admin")
    empty = await _card(pool, settings, world)
    assert (empty.summary.score, empty.evaluations, empty.passed, empty.failed) == (None, [], 0, 0)
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=52)
    await do(pool, ending.rectify, buyer, signed, RectifyInput(rectify_by=clock.today() + timedelta(days=20),
                                                               note="补齐服务记录与签到表"))
    await travel(pool, days=21)
    panel_id = await do(pool, ending.reevaluate, buyer, signed)
    await score_delivery_panel(pool, settings, world, panel_id, signed, 78)
    await travel(pool, days=30)
    await evaluate_delivery(pool, settings, world, signed, "final", total=90)

    card = await _card(pool, settings, world)
    assert [(e.stage, e.total, e.grade, e.outcome, e.superseded) for e in card.evaluations] == [
        ("final", Decimal("90.00"), "A", "passed", False),
        ("midterm", Decimal("78.00"), "B", "passed", False),
        ("midterm", Decimal("52.00"), "C", "failed", True)]
    assert (card.summary.score, card.summary.grade, card.summary.counted) == (Decimal("73.33"), "B", 3)
    assert (card.passed, card.failed, card.late_reports, card.reports_not_filed, card.ended_contracts) == (2, 1, 0, 0, 0)
    assert card.bars is None  # the standing is for the provider and the platform
    assert len((await _card(pool, settings, world, "provider_admin")).bars) == 1  # set when the C was kept
    await _refresh(pool, world)  # as deciding an evaluation does
    assert (await _card(pool, settings, world, "provider_admin")).bars == []  # the re-evaluation lifted the bar

    # The contract's public page: the earlier result too, with its total and grade.
    view = (await client.get(f"/api/contracts/{signed}")).json()
    assert [(e["stage"], e["grade"], e["superseded"]) for e in view["history"]] == [
        ("final", "A", False), ("midterm", "B", False), ("midterm", "C", True)]
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert "Earlier evaluations, superseded by a re-evaluation" in page.text and "52.00 · grade C" in page.text
    assert f"/organisations/{world.orgs['provider']}/scorecard" in page.text


async def test_the_scorecard_page_its_twin_and_who_sees_the_standing(client, pool, settings, world, signed):
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=48)
    await _refresh(pool, world)
    provider = world.orgs["provider"]
    public = (await client.get(f"/api/organisations/{provider}/scorecard")).json()
    assert public["summary"] == {"score": "48.00", "grade": "C", "counted": 1, "evaluations": 1, "open_items": 0,
                                 "late_items": 0, "before_rectification": None}
    assert public["bars"] is None and public["rule"] == {"grade": "C", "months": 12}
    for lang, words in (("en", ("Delivery scorecard", "grade C", "did not pass")), ("zh_Hans", ("交付评估记分卡", "不合格"))):
        page = await client.get(f"/organisations/{provider}/scorecard?lang={lang}")
        assert page.status_code == 200 and all(w in page.text for w in words)
        assert 'data-item="01.01.01"' not in page.text
    profile = await client.get(f"/organisations/{provider}?lang=en")
    assert f"/organisations/{provider}/scorecard" in profile.text
    assert (await client.get(f"/api/organisations/{world.orgs['bureau']}/scorecard")).status_code == 404

    await act_as(client, pool, settings, world["provider_admin"].user_id)
    own = (await client.get(f"/api/organisations/{provider}/scorecard")).json()
    (bar,) = own["bars"]
    assert (bar["item_code"], bar["stage"], bar["grade"]) == ("01.01.01", "midterm", "C")
    page = await client.get(f"/organisations/{provider}/scorecard?lang=en")
    assert 'data-item="01.01.01"' in page.text and "Barred until" in page.text
    dashboard = await client.get("/dashboard?lang=en")
    assert f'href="/organisations/{provider}/scorecard"' in dashboard.text


async def test_a_c_bars_the_item_until_the_bar_runs_out_and_not_another_item(pool, settings, world, published,
                                                                           signed):
    same = await _call_for(pool, settings, world, published, "01.01.01")
    other = await _call_for(pool, settings, world, published, "01.01.02")
    assert await _problems(pool, world, same) == []
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=59.5)
    (bar,) = await _refresh(pool, world)
    # The bar runs from the day it was decided where the deployment is (Asia/Shanghai), not in UTC:
    # between 16:00 and midnight UTC those are different days.
    decided = bar.decided_at.astimezone(ZoneInfo(i18n.current_timezone.get())).date()
    assert bar.barred_until == scorecard.add_months(decided, 12) and bar.grade == "C"
    with use_locale("en"):
        (problem,) = await _problems(pool, world, same)
    assert problem.startswith("Your organisation may bid for catalogue item 01.01.01 again from ")
    assert "was graded C" in problem
    with use_locale("zh_Hans"):
        assert "01.01.01" in (await _problems(pool, world, same))[0]
    provider = await who(pool, settings, world, "provider_admin")
    with pytest.raises(bids.Ineligible):
        await do(pool, bids.submit, provider, same, bid_input(90_000_00))
    assert await _problems(pool, world, other) == []  # another catalogue item
    await do(pool, bids.submit, provider, other, bid_input(90_000_00))

    # B is no bar by default; a stricter rule makes it one.
    await pool.execute("delete from provider_standing")
    await evaluate_delivery(pool, settings, world, signed, "final", total=70)
    bars = await _refresh(pool, world, StandingRule(grade="B", months=6))
    assert sorted((b.stage, b.grade, b.barred_until == scorecard.add_months(decided, 6)) for b in bars) == [
        ("final", "B", True), ("midterm", "C", True)]
    await _refresh(pool, world)
    # The day the bar ends, the provider may bid again.
    await travel(pool, days=(bar.barred_until - clock.today()).days - 1)
    assert len(await _problems(pool, world, same)) == 1
    await travel(pool, days=1)
    assert await _problems(pool, world, same) == []


async def test_a_report_never_filed_fails_its_stage_and_bars_the_item(pool, settings, world, published, signed):
    same = await _call_for(pool, settings, world, published, "01.01.01")
    due = await pool.fetchval("select due_date from contract_milestones where contract_id = $1 and position = $2",
                              signed, MIDTERM)
    await travel(pool, days=(due - clock.today()).days + 1)
    assert (await jobs.run(pool, GRACE)).late == 1
    await travel(pool, days=GRACE)
    assert (await jobs.run(pool, GRACE)).failed == 1
    async with pool.acquire() as conn:
        assert (await evaluated.stage_outcome(conn, signed, "midterm")).outcome == "failed"
    card = await _card(pool, settings, world, "provider_admin")
    assert (card.late_reports, card.reports_not_filed, card.failed, card.summary.score) == (1, 1, 1, None)
    (bar,) = card.bars
    assert bar.grade is None and bar.reason  # the reason, in the reader's language
    with use_locale("en"):
        (problem,) = await _problems(pool, world, same)
    assert "was never filed" in problem


async def test_ending_a_contract_writes_the_standing(pool, settings, world, signed):
    buyer = await who(pool, settings, world, "buyer_admin")
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=40)
    assert await pool.fetchval("select count(*) from provider_standing") == 0  # nobody refreshed it yet
    await do(pool, ending.end, buyer, signed, EndInput(reason="中期评估不合格，终止合同。"))
    assert await pool.fetchval("select grade from provider_standing where contract_id = $1", signed) == "C"
    assert (await _card(pool, settings, world)).ended_contracts == 1


async def test_public_pages_never_show_an_evaluators_own_scores(client, pool, settings, world, signed):
    """Two evaluators score 91.25 and 13.75; the panel agrees on 57.75. Only that is published."""
    bureau = await who(pool, settings, world, "buyer_admin")
    chair = await who(pool, settings, world, "evaluator")
    member = await who(pool, settings, world, "buyer_staff")
    async with pool.acquire() as conn, conn.transaction():
        panel_id = await engine.create_panel(
            conn, bureau, subject_type="midterm", subject_id=signed,
            criteria=[Criterion(1, "服务交付", "Delivery", 100, None, False)],
            candidates=[Candidate(signed, world.orgs["provider"], "合同", None, clock.now())])
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["buyer_staff"].email))
        await engine.start_scoring(conn, bureau, panel_id)
    for person, score in ((chair, 91.25), (member, 13.75)):
        await do(pool, engine.declare, person, panel_id, Declaration(candidate_id=signed, conflicted=False))
        await do(pool, engine.score, person, panel_id, ScoreInput(candidate_id=signed, position=1, score=score))
    await do(pool, engine.record_consensus, chair, panel_id, ScoreInput(candidate_id=signed, position=1,
                                                                         score=57.75))
    await do(pool, engine.close, panel_id, bureau.user_id)
    for url in (f"/contracts/{signed}", f"/api/contracts/{signed}", f"/organisations/{world.orgs['provider']}/scorecard",
                f"/api/organisations/{world.orgs['provider']}/scorecard"):
        text = (await client.get(url)).text
        # As scores, not inside a moment's seconds ("…:13.751234", one run in about 1,500 failed so)
        shown = set(re.findall(r"(?<![\d:.])(\d+\.\d+)(?!\d)", text))
        assert "57.75" in shown and "91.25" not in shown and "13.75" not in shown


async def test_the_demo_provider_with_failed_midterms_has_its_scorecard(database, pool):
    from market.demo import load_demo

    async with pool.acquire() as conn:
        await load_demo(conn)
        ngo06 = await conn.fetchval("select m.organisation_id from memberships m join users u on u.id = m.user_id "
                                    "where u.email = 'ngo06@demo.market'")
        card = await scorecard.scorecard(conn, None, ngo06)
        bars = await scorecard.bars_in_force(conn, ngo06)
    assert [(e.stage, e.grade, e.outcome) for e in card.evaluations] == [("midterm", "C", "failed")] * 2
    assert (card.summary.grade, card.ended_contracts) == ("C", 1)
    assert {b.item_code for b in bars} == {"05.01.01"}
