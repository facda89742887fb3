"""Issue 14's acceptance journey, through the pages, each step by the person it belongs to, on a
test-mode server of its own whose clock moves as time would pass.

The demo's contract whose mid-term report is a draft (南星街道困境家庭帮扶服务, ngo01): the provider
files the report with a photo; the bureau returns it once with a comment; the provider corrects and
resubmits; the bureau accepts it and opens the mid-term evaluation from the contract page. On the
panel page it cannot seat the expert who declared a conflict of interest with the provider when its
proposal was reviewed (set up below), and reads why next to the field; it seats two others and starts
scoring. Each evaluator declares no conflict, scores every indicator with the input its method asks
for, and submits; the chair records every consensus score; the bureau decides the round (passed) and
accepts the payment that waited for it, and the provider is paid. Time passes beyond the final
report's due date: the report clock marks it late; the provider files it late; the final evaluation
(in English) scores low and does not pass; the bureau sets a rectification deadline, which the
provider reads on its contract page.

Then a second contract whose mid-term failed (set up: the demo's 紫阳 contract, its agency's experts
scoring low, a funder's money paid into its project): the bureau finds it on its workbench and ends
it after confirming; the funder's money goes back, and the books balance to the fen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.async_api import Page, expect

from market.core import clock
from market.delivery import rounds
from market.demo import _acting_user, _score_leaves
from market.evaluation import services as engine
from market.evaluation.models import AddMember, Declaration, ScoreInput
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput, PledgeInput
from market.procurement.awards import batches
from tests.browser.conftest import LiveServer, server_db, serving
from tests.factories import photo_with_gps
from tests.browser.test_docking_rules import twice
from tests.browser.journey import (
    Journey,
    click_link,
    expect_text,
    fill,
    path_of,
    press,
    untranslated,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="delivery_journey")]

TITLE = "南星街道困境家庭帮扶服务"  # ngo01's contract: its mid-term report a draft, due in five days
FAILING = "紫阳街道社区老年人健康管理服务"  # ngo06's contract: its mid-term being scored by the agency
CONFLICTED = "evaluator.expert2@demo.market"
CHAIR, MEMBER = "evaluator.expert1@demo.market", "expert@demo.market"
COMMENT = "请补充入户探访签到表照片，并说明服务人次的统计口径。"
REASON = "中期评估不合格（C级）：健康档案缺失、随访未按约定开展，经约谈仍无改善，终止合同。"
PLEDGE_FEN = 2_500_000


@pytest.fixture(scope="module")
def delivery_server() -> Iterator[LiveServer]:
    # The report clock runs every few seconds, so a report is marked late soon after its due date passes.
    with serving(MARKET_TEST_CLOCK="true", MARKET_NOTIFY_SECONDS="2") as server:
        yield server


async def set_up(server: LiveServer) -> None:
    """What the journey starts from beyond the demo: an expert who declared a conflict of interest with
    ngo01 when its all-year proposal was reviewed, and a contract whose mid-term failed with a
    funder's money in its project."""
    conn = await server_db(server)
    try:
        await clock.load(conn)  # the server's clock, which services here read too
        async with conn.transaction():
            bureau = await _acting_user(conn, "bureau@demo.market")
            ngo01 = await _acting_user(conn, "ngo01@demo.market")
            rolling = await conn.fetchval("select id from calls where deadline_at is null and title_zh like '%公益创投%'")
            number = await batches.cut_off(conn, bureau, rolling)
            batch = await conn.fetchval("select id from call_batches where call_id = $1 and number = $2", rolling, number)
            panel = await engine.panel_for(conn, "batch", batch)
            await engine.add_member(conn, bureau, panel, AddMember(email=CONFLICTED, role="chair"))
            await engine.start_scoring(conn, bureau, panel)
            candidate = next(c for c in await engine.candidates_of(conn, panel) if c.organisation_id == ngo01.org_id)
            await engine.declare(conn, await _acting_user(conn, CONFLICTED), panel, Declaration(
                candidate_id=candidate.candidate_id, conflicted=True, note="本人曾在该机构兼职督导"))

            contract = await conn.fetchval("select k.id from contracts k join calls c on c.id = k.call_id "
                                           "where c.title_zh like $1", f"{FAILING}%")
            panel = await engine.panel_for(conn, "midterm", contract)
            members = {r["email"]: r["role"] for r in await conn.fetch(
                "select u.email, m.role from panel_members m join users u on u.id = m.user_id where m.panel_id = $1",
                panel)}
            people = {email: await _acting_user(conn, email) for email in members}
            # The demo's chair has scored already; the other expert finds it poor, and the panel agrees.
            scored = {s.user_id for s in await engine.member_scores(conn, panel)}
            low = next(p for p in people.values() if p.user_id not in scored)
            await _score_leaves(conn, low, panel, 0.3, "服务台账缺失，入户回访多名老人未接受过随访")
            for person in people.values():
                await engine.submit(conn, person, panel)
            chair = people[next(e for e, role in members.items() if role == "chair")]
            for score in await engine.member_scores(conn, panel):
                if score.user_id == low.user_id:
                    await engine.record_consensus(conn, chair, panel, ScoreInput(
                        candidate_id=score.candidate_id, position=score.position, score=score.score, note="合议"))
            await rounds.decide_round(conn, bureau, contract, "midterm")

            funder = await _acting_user(conn, "csr05@demo.market")
            project = await conn.fetchval("select c.project_id from contracts k join calls c on c.id = k.call_id "
                                          "where k.id = $1", contract)
            pledge = await pledges.create(conn, funder, PledgeInput(target_type="project", target_id=project,
                                                                    amount_fen=PLEDGE_FEN, note="支持老年人健康管理"))
            payment = await pledges.record_offline(conn, funder, pledge, OfflinePaymentInput(
                bank_reference="ICBC-JOURNEY-0001", paid_on=clock.today()))
            await pledges.confirm_payment(conn, bureau, payment)
    finally:
        clock._set(0)  # this test process goes on in real time
        await conn.close()


# What the evaluators find: the mid-term at four of five, the final at under half.
MIDTERM, FINAL = 0.8, 0.3


async def answer(form, level: float) -> None:
    """Score one indicator the way its method asks: a point of the anchored scale, yes or no, what was
    achieved against a fixed target, or a score of 100."""
    achieved = form.locator('input[name^="achieved"]')
    if await achieved.count():
        hint = await form.locator(f'#{await achieved.get_attribute("aria-describedby")}').inner_text()
        target = float(re.search(r"\d+(?:\.\d+)?", hint).group())
        await achieved.fill(f"{target * level:g}")
        return
    select = form.locator('select[name^="score"]')
    if await select.count():
        if "scale" in (await select.get_attribute("class") or ""):
            await select.select_option(str(round(level * 5) * 20))
        else:
            await select.select_option("100" if level >= 0.5 else "0")
        return
    await form.locator('input[name^="score"]').fill(f"{level * 100:g}")


async def answer_every(page: Page, action: str, level: float, note: str) -> int:
    """Fill and send every form on the page that posts to this action, one after another (each reloads
    the page)."""
    count = await page.locator(f'main form[action="{action}"]').count()
    for n in range(count):
        form = page.locator(f'main form[action="{action}"]').nth(n)
        await answer(form, level)
        await form.locator('input[name="note"]').fill(note)
        async with page.expect_navigation():
            await form.locator('button[type="submit"]').click()
        assert await page.locator("main .alert.error").count() == 0, await page.locator("main").inner_text()
    return count


async def answer_all(page: Page, action: str, level: float, note: str) -> int:
    """Score every indicator of each candidate and save them all at once with the candidate's form
    (its fields stand in the indicators' rows, `form=` its id), pressed twice as impatient people do."""
    rows = 0
    for n in range(await page.locator(f'main form[action="{action}"]').count()):
        form = page.locator(f'main form[action="{action}"]').nth(n)
        own = await form.get_attribute("id")
        for row in await page.locator(f'main div.row:has([form="{own}"])').all():
            await answer(row, level)
            await row.locator('input[name^="note"]').fill(note)
            rows += 1
        await twice(page, form.locator('button[type="submit"]'))
        assert await page.locator("main .alert.error").count() == 0, await page.locator("main").inner_text()
        # Back later to reword a note beside a target, whose "achieved" the page does not show again, and
        # saved all as the page then stands: the score already given is kept with the new note.
        target = page.locator(f'main div.row:has(input[name^="achieved"][form="{own}"])').first
        await target.locator('input[name^="note"]').fill(f"{note}（复核）")
        async with page.expect_navigation():
            await page.locator(f"#{own}").locator('button[type="submit"]').click()
        assert await page.locator("main .alert.error").count() == 0, await page.locator("main").inner_text()
        await expect(page.locator(f'main input[name^="note"][form="{own}"][value="{note}（复核）"]')).to_have_count(1)
    return rows


async def score_round(j: Journey, panel: str, level: float, shot: str) -> None:
    """Each evaluator finds the panel on the workbench, declares no conflict, scores every indicator
    and submits; then the chair records the consensus of each."""
    for email in (MEMBER, CHAIR):
        evaluator = await j.person(email)
        await click_link(evaluator, f'main table[data-kind="panels_to_score"] a[href="{panel}"]')
        await evaluator.locator(f'main form[action="{panel}/declarations"] input[name="conflicted"][value="no"]').check()
        await press(evaluator, f"{panel}/declarations")
        scored = await answer_all(evaluator, f"{panel}/scores", level, "查阅台账并入户回访")
        assert scored >= 10
        await j.seen(evaluator, f"{shot}-scored" if email == CHAIR else None)
        await press(evaluator, f"{panel}/submit")
        await expect(evaluator.locator("main")).to_contain_text(
            "评分已提交" if j.locale == "zh_Hans" else "Your scores are submitted")
    assert await answer_every(evaluator, f"{panel}/consensus", level, "评估小组合议") == scored
    await j.seen(evaluator, f"{shot}-consensus")


async def form_the_panel(j: Journey, bureau: Page, panel: str, conflicted: bool) -> None:
    """Seat the chair and one member (and first, if asked, try the conflicted expert), then start."""
    members = f"{panel}/members"
    if conflicted:
        await fill(bureau, {"email": CONFLICTED, "role": "chair"}, f'main form[action="{members}"]')
        await press(bureau, members)
        error = bureau.locator(f'main form[action="{members}"] .error-text')
        await expect(error).to_contain_text("利益冲突")
        await j.seen(bureau, "bureau-panel-conflict-refused")
        # The refusal sits next to the field it is about, which keeps what was typed, and the summary
        # at the top leads there.
        field = bureau.locator(f'main form[action="{members}"] input[name="email"]')
        await expect(field).to_have_value(CONFLICTED)
        await expect(field).to_have_attribute("aria-invalid", "true")
        assert await bureau.locator('main #errors a[href="#f-email"]').count() == 1
        assert await field.get_attribute("id") == "f-email"
    for email, role in ((CHAIR, "chair"), (MEMBER, "member")):
        await fill(bureau, {"email": email, "role": role}, f'main form[action="{members}"]')
        await press(bureau, members)
    await press(bureau, f"{panel}/start")
    await j.seen(bureau, "bureau-panel-started" if conflicted else None)


async def decide(j: Journey, bureau: Page, contract: str, stage: str, shot: str) -> str:
    await click_link(bureau, f"{contract}/evaluations/{stage}/decide")
    text = await j.seen(bureau, shot)
    await press(bureau, f"{contract}/evaluations/{stage}/decide")
    return text


async def test_reports_evaluations_payment_rectification_and_an_ended_contract(browser, delivery_server,
                                                                               screenshot_dirs):
    await set_up(delivery_server)
    j = Journey(browser, delivery_server.base_url, screenshot_dirs)
    en = Journey(browser, delivery_server.base_url, screenshot_dirs, locale="en")
    try:
        # The provider files the mid-term report with a photo.
        provider = await j.person("ngo01@demo.market")
        await click_link(provider, 'main table[data-kind="reports_due"] a', text=TITLE)
        report = path_of(provider)
        contract = report.split("/reports/")[0]
        contract_id = int(contract.rsplit("/", 1)[1])
        await fill(provider, {"narrative": "入户探访按计划推进，服务对象参与积极，下半年增加周末服务时段。",
                              "target-1-achieved": "6200", "target-2-achieved": "96"}, f'main form[action="{report}"]')
        await provider.locator('input[name="evidence"]').set_input_files(
            files=[{"name": "入户探访.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}])
        await press(provider, report, button='button[value="submit"]')
        await expect_text(provider, "报告已提交")
        await j.seen(provider, "journey-report-submitted")

        # The bureau returns it once, with a comment.
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="reports_to_review"] a', text=TITLE)
        await expect_text(bureau, "入户探访.jpg")
        await fill(bureau, {"comment": COMMENT}, f'main form[action="{report}/return"]')
        await press(bureau, f"{report}/return")
        await expect_text(bureau, "已退回修改")

        # The provider corrects it and resubmits.
        provider = await j.person("ngo01@demo.market")
        await click_link(provider, 'main table[data-kind="reports_due"] a', text=TITLE)
        await expect_text(provider, COMMENT)
        await fill(provider, {"target-1-note": "含电话回访，签到表照片见附件"}, f'main form[action="{report}"]')
        await press(provider, report, button='button[value="submit"]')
        await expect_text(provider, "已重新提交")

        # The bureau accepts it, then opens the mid-term evaluation from the contract page.
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="reports_to_review"] a', text=TITLE)
        await press(bureau, f"{report}/accept")
        await expect_text(bureau, "报告已验收")
        await click_link(bureau, f'main a[href^="{contract}"]')
        await j.seen(bureau, "journey-contract-before-midterm")
        await press(bureau, f"{contract}/evaluations/midterm/open")
        panel = path_of(bureau)
        assert panel.startswith("/panels/")
        await form_the_panel(j, bureau, panel, conflicted=True)

        await score_round(j, panel, MIDTERM, "journey-midterm")

        # The bureau decides it from the contract page: passed.
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="rounds_to_decide"] a', text=TITLE)
        assert path_of(bureau) == f"{contract}/evaluations/midterm/decide"
        await click_link(bureau, f'main a[href="{contract}#evaluations"]')
        text = await decide(j, bureau, contract, "midterm", "journey-midterm-decide")
        assert "合格" in text
        await expect(bureau.locator('tr[data-stage="midterm"]')).to_have_attribute("data-outcome", "passed")

        # The payment that waited for the mid-term is accepted once due, and the provider is paid.
        view = j.api(f"/api/contracts/{contract_id}")
        waiting = next(m for m in view["milestones"] if m["waits_for"] == "midterm")
        position = view["milestones"].index(waiting) + 1
        days = (date.fromisoformat(waiting["due_date"]) - (await j.now(bureau)).date()).days
        await j.let_time_pass(bureau, max(days, 0))
        conn = await server_db(delivery_server)
        try:
            provider_id = view["provider_id"]
            before = await conn.fetchval("select coalesce(sum(balance_fen), 0) from ledger_accounts where key = $1",
                                         f"provider:{provider_id}")
            bureau = await j.person("bureau@demo.market")
            await click_link(bureau, 'main table[data-kind="milestones_due"] a', text=TITLE)
            # The report milestone first (its report accepted), then the payment.
            for step in (position - 1, position):
                await click_link(bureau, f"{contract}/milestones/{step}/accept")
                await press(bureau, f"{contract}/milestones/{step}/accept")
            paid = j.api(f"/api/contracts/{contract_id}")["states"][position - 1]["paid_fen"]
            assert paid == view["amount_fen"] * 30 // 100
            await expect(bureau.locator("main .alert.success")).to_contain_text(f"已向服务承接方支付¥{paid / 100:,.2f}")
            await j.seen(bureau, "journey-midterm-paid")
            after = await conn.fetchval("select balance_fen from ledger_accounts where key = $1",
                                        f"provider:{provider_id}")
            assert abs(after - before) == paid
        finally:
            await conn.close()
        provider = await j.person("ngo01@demo.market")
        await click_link(provider, "/inbox")
        await click_link(provider, 'main a[href^="/inbox/"]', text=TITLE)
        text = await j.seen(provider, "journey-provider-paid")

        # Past the final report's due date: the report clock marks it late, and the provider files it.
        final = next(m for m in view["milestones"] if m["kind"] == "report" and m["stage"] == "final")
        final_position = view["milestones"].index(final) + 1
        days = (date.fromisoformat(final["due_date"]) - (await j.now(provider)).date()).days + 2
        await j.let_time_pass(provider, days)
        for _ in range(60):
            if j.api(f"/api/contracts/{contract_id}")["states"][final_position - 1]["report_late"]:
                break
            await provider.wait_for_timeout(500)
        provider = await j.person("ngo01@demo.market")
        await click_link(provider, 'main table[data-kind="reports_due"] a', text=TITLE)
        final_report = path_of(provider)
        await expect(provider.locator("main .badge.rejected")).to_be_visible()
        await fill(provider, {"activities": "全年完成入户探访与小组活动，建立困境家庭档案。",
                              "narrative": "项目已结束，部分目标未完成。", "target-1-achieved": "7000",
                              "target-2-achieved": "80"}, f'main form[action="{final_report}"]')
        await press(provider, final_report, button='button[value="submit"]')
        await j.seen(provider, "journey-final-report-late")

        # The final evaluation, in English: it opens once the bureau accepts the final report; the
        # panel scores low, the bureau decides it: not passed.
        bureau = await en.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="reports_to_review"] a', text=en.title(TITLE))
        await click_link(bureau, f'main a[href^="{contract}"]')
        await expect(bureau.locator('tr[data-stage="final"] .waits-for-report')).to_have_text(
            "Opens once the provider's report for it is accepted.")
        await click_link(bureau, f'main a[href="{final_report}"]')
        await press(bureau, f"{final_report}/accept")
        await click_link(bureau, f'main a[href^="{contract}"]')
        await press(bureau, f"{contract}/evaluations/final/open")
        panel = path_of(bureau)
        await form_the_panel(en, bureau, panel, conflicted=False)
        await score_round(en, panel, FINAL, "journey-final")
        bureau = await en.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="rounds_to_decide"] a', text=en.title(TITLE))
        await click_link(bureau, f'main a[href="{contract}#evaluations"]')
        text = await decide(en, bureau, contract, "final", "journey-final-decide")
        assert "did not pass" in text
        await expect(bureau.locator('tr[data-stage="final"]')).to_have_attribute("data-outcome", "failed")

        # A rectification deadline, which the provider reads on its contract page.
        await click_link(bureau, f"{contract}/rectify")
        by = (await en.now(bureau)).date() + timedelta(days=30)
        await fill(bureau, {"rectify_by": by.isoformat(), "note": "补齐困境家庭档案，并补做未完成的入户探访。"},
                   f'main form[action="{contract}/rectify"]')
        await press(bureau, f"{contract}/rectify")
        await en.seen(bureau, "journey-rectification-set")
        provider = await j.person("ngo01@demo.market")
        await click_link(provider, "/inbox")
        await click_link(provider, 'main a[href^="/inbox/"]', text="整改")
        assert path_of(provider) == contract
        text = await j.seen(provider, "journey-provider-rectify")
        assert "补齐困境家庭档案" in text and f"{by.month}月{by.day}日" in text.replace(" ", "")

        # The second contract: its failed mid-term waits for the bureau, which ends it.
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="evaluations_to_decide"] a', text=FAILING)
        ended = path_of(bureau)
        ended_id = int(ended.rsplit("/", 1)[1])
        await click_link(bureau, f"{ended}/end")
        await fill(bureau, {"reason": REASON}, f'main form[action="{ended}/end"]')
        await press(bureau, f"{ended}/end")
        await expect_text(bureau, "合同已终止")
        await j.seen(bureau, "journey-contract-ended")
        delivery = j.api(f"/api/contracts/{ended_id}")["delivery"]
        assert delivery["status"] == "ended" and delivery["returned_fen"] == PLEDGE_FEN
        conn = await server_db(delivery_server)
        try:
            assert await conn.fetchval("select sum(balance_fen) from ledger_accounts") == 0
            pledged = await conn.fetchrow(
                "select sum(p.amount_fen)::bigint as pledged, sum(p.disbursed_fen)::bigint as disbursed, "
                "array_agg(distinct p.status) as statuses from pledges p join calls c on p.target_type = 'project' "
                "and p.project_id = c.project_id join contracts k on k.call_id = c.id where k.id = $1", ended_id)
            returned = await conn.fetchval("select coalesce(sum(amount_fen), 0) from contract_returns "
                                           "where contract_id = $1 and kind <> 'budget_kept'", ended_id)
            assert returned == pledged["pledged"] - pledged["disbursed"] == delivery["returned_fen"]
            assert pledged["statuses"] == ["refunded"]
        finally:
            await conn.close()
    finally:
        await j.close()
        await en.close()
    problems = untranslated(j.pages, "zh_Hans") + untranslated(en.pages, "en")
    assert not problems, "interface text in the wrong language:\n" + "\n".join(problems)
