"""A bureau hands a mid-term evaluation to an evaluation agency, and the agency seats its own experts
(issue 14: "the buyer assigns evaluators or a third-party agency, which assigns its own experts …
workload is balanced across an agency's experts"), each step through the pages by the person it
belongs to, on the demo district.

One of the agency's experts (李老师) declares a conflict of interest with 善缘, the provider, when asked
to score its 紫阳 mid-term. A new expert (周老师) signs up and the agency's administrator adds her to
the agency. The bureau accepts 善缘's 湖滨 mid-term report, opens its evaluation and hands the panel to
the agency. The agency's administrator finds it on the workbench and reads its experts least loaded
first, 李老师 shown as not allowed and why; asked for three, the page says next to the field that only
two may sit, and nothing is seated; asked for two, it seats 周老师 (no open panel) as chair and 孙老师,
starts the scoring and follows the panel from its workbench. 周老师 finds the panel on her workbench,
and she chairs it. The agency's page reads the same in English."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from tests.browser.conftest import server_db, serving
from tests.browser.journey import Journey, choose, click_link, expect_text, fill, path_of, press, untranslated

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="agency_panel")]

PROVIDER = "上城区善缘社会工作服务社"
REPORTED = "湖滨街道独居老人精神慰藉服务"  # 善缘's contract whose mid-term report waits for the bureau
SCORING = "紫阳街道社区老年人健康管理服务"  # 善缘's contract whose mid-term the agency's experts are scoring
ADMIN, CHAIR, CONFLICTED = "evaluator@demo.market", "evaluator.expert1@demo.market", "evaluator.expert2@demo.market"
NEWCOMER = "周老师"


@pytest.fixture(scope="module")
def agency_server():
    with serving() as server:
        yield server


async def members_of(server, panel: str) -> list[tuple[str, str]]:
    conn = await server_db(server)
    try:
        return [tuple(r) for r in await conn.fetch(
            "select u.display_name, m.role from panel_members m join users u on u.id = m.user_id "
            "where m.panel_id = $1 order by m.role, u.display_name", int(panel.rsplit("/", 1)[1]))]
    finally:
        await conn.close()


async def test_the_agency_seats_its_least_loaded_experts_and_never_a_conflicted_one(browser, agency_server,
                                                                                     screenshot_dirs):
    j = Journey(browser, agency_server.base_url, screenshot_dirs)
    en = Journey(browser, agency_server.base_url, screenshot_dirs, locale="en")
    newcomer_email = f"zhou-{uuid.uuid4().hex[:8]}@demo.market"
    try:
        # 李老师 declares a conflict of interest with 善缘 on the 紫阳 panel she sits on.
        conflicted = await j.person(CONFLICTED)
        await click_link(conflicted, 'main table[data-kind="panels_to_score"] a', text=SCORING)
        scoring = path_of(conflicted)
        declaration = conflicted.locator(f'main form[action="{scoring}/declarations"]')
        await declaration.locator('input[name="conflicted"][value="yes"]').check()
        await declaration.locator('input[name="note"]').fill("本人曾在该机构兼职督导")
        await press(conflicted, f"{scoring}/declarations")
        await expect_text(conflicted, "您已声明存在利益冲突")

        # A new expert signs up; the agency's administrator adds her as an evaluator.
        await j.newcomer(NEWCOMER, newcomer_email)
        admin = await j.person(ADMIN)
        await click_link(admin, 'main a[href$="/members"]')
        members = await admin.locator('main form[action$="/members"]').get_attribute("action")
        await fill(admin, {"email": newcomer_email, "role": "evaluator"}, f'main form[action="{members}"]')
        await press(admin, members, twice=True)
        await expect(admin.locator("main tr", has_text=newcomer_email)).to_contain_text("评估员")

        # The bureau accepts the mid-term report, opens the evaluation and hands the panel to the agency.
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, 'main table[data-kind="reports_to_review"] a', text=REPORTED)
        report = path_of(bureau)
        contract = report.split("/reports/")[0]
        await press(bureau, f"{report}/accept")
        await click_link(bureau, f'main a[href^="{contract}"]')
        await press(bureau, f"{contract}/evaluations/midterm/open")
        panel = path_of(bureau)
        assert panel.startswith("/panels/")
        await choose(bureau, "agency_id", "明鉴", f'main form[action="{panel}/agency"]')
        await press(bureau, f"{panel}/agency", twice=True)
        await expect_text(bureau, "评审小组已交由评估机构组建")
        await expect_text(bureau, "评估机构: 杭州明鉴社会组织评估中心")

        # The agency finds it on its workbench: its experts least loaded first, 李老师 not allowed, and why.
        admin = await j.person(ADMIN)
        await click_link(admin, f'main table[data-kind="panels_to_staff"] a[href="{panel}"]')
        rows = admin.locator("#experts tbody tr")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(0)).to_contain_text(NEWCOMER)
        await expect(rows.nth(0).locator("td").nth(1)).to_have_text("0")
        await expect(admin.locator("#experts tr", has_text="李老师")).to_contain_text("曾申报与被评估机构存在利益冲突")
        await expect(admin.locator("#f-count")).to_have_value("2")  # as many as may sit
        await j.seen(admin, "agency-experts")
        admin_en = await en.person(ADMIN)  # the same page in English
        await click_link(admin_en, f'main table[data-kind="panels_to_staff"] a[href="{panel}"]')
        await expect(admin_en.locator("#experts tr", has_text="李老师")).to_contain_text(
            "has declared a conflict of interest with the organisation evaluated")
        await en.seen(admin_en, "agency-experts")

        # Asked for three, it says next to the field that two may sit, and seats nobody.
        await admin.locator("#f-count").fill("3")
        await press(admin, f"{panel}/assign")
        error = admin.locator(f'main form[action="{panel}/assign"] .error-text')
        await expect(error).to_have_text("贵机构只有 2 位专家可以参加本评审组。")
        await expect(admin.locator("#f-count")).to_have_attribute("aria-invalid", "true")
        assert await members_of(agency_server, panel) == []

        # Asked for two: the newcomer (no open panel) chairs, 孙老师 sits; nobody else is offered.
        await admin.locator("#f-count").fill("2")
        await press(admin, f"{panel}/assign", twice=True)
        await expect_text(admin, "已指派专家，优先安排当前任务最少的专家。")
        assert await members_of(agency_server, panel) == [(NEWCOMER, "chair"), ("评估专家 孙老师", "member")]
        await expect(admin.locator(f'main form[action="{panel}/assign"]')).to_have_count(0)
        await expect_text(admin, "本机构已没有其他可以参加本评审组的专家")
        await press(admin, f"{panel}/start")
        await j.seen(admin, "agency-seated")
        # The agency follows it from its workbench while its experts score.
        admin = await j.person(ADMIN)
        followed = admin.locator('main table[data-kind="panels_being_scored"] tr', has=admin.locator(f'a[href="{panel}"]'))
        await expect(followed).to_contain_text("还有 2 位专家未提交评分")
        await expect(followed).to_contain_text("中期评估")

        # The new chair finds the panel on her workbench, to declare and score.
        chair = await j.person(newcomer_email)
        await click_link(chair, f'main table[data-kind="panels_to_score"] a[href="{panel}"]')
        await chair.locator(f'main form[action="{panel}/declarations"] input[name="conflicted"][value="no"]').check()
        await press(chair, f"{panel}/declarations")
        await expect(chair.locator(f'main form[action="{panel}/consensus"]').first).to_be_attached()  # she chairs

        assert untranslated(j.pages, "zh_Hans") == []
        assert untranslated(en.pages, "en") == []
    finally:
        await j.close()
        await en.close()
