"""A provider's mid-term report through the real pages, on the demo's contract whose report is due
within the week with a draft started: the provider finds it on its workbench, completes it, adds a
photo (which carries where it was taken) and submits; the bureau finds it waiting for review, opens
the photo (its location gone) and returns the report with a comment; the provider sees the comment,
corrects and resubmits; the bureau accepts. In Chinese, with the report page read once in English."""

from __future__ import annotations

import pytest

from market.storage import images
from tests.factories import photo_with_gps
from tests.browser.journey import Journey, click_link, expect_text, fill, path_of, press

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="journeys")]

TITLE = "南星街道困境家庭帮扶服务"  # the demo's contract whose mid-term report is a draft
COMMENT = "请补充入户探访签到表，并说明服务人次的统计口径。"


async def open_from_workbench(j: Journey, email: str, kind: str) -> object:
    page = await j.person(email)
    await click_link(page, f'main table[data-kind="{kind}"] a', text=j.title(TITLE))
    return page


async def test_a_report_filed_returned_corrected_and_accepted(browser, journey_server, screenshot_dirs):
    en = Journey(browser, journey_server.base_url, screenshot_dirs, locale="en")
    j = Journey(browser, journey_server.base_url, screenshot_dirs)
    try:
        # In English first: the provider's report page reads in English.
        page = await open_from_workbench(en, "ngo01@demo.market", "reports_due")
        text = await en.seen(page, "provider-report-draft")
        assert "Mid-term report" in text and "File the report" in text and "提交报告" not in text

        provider = await open_from_workbench(j, "ngo01@demo.market", "reports_due")
        report = path_of(provider)
        text = await j.seen(provider)
        assert "中期报告" in text and "填报报告" in text
        photo = photo_with_gps()
        assert images.has_location(photo)
        await fill(provider, {"narrative": "入户探访按计划推进，服务对象参与积极，下半年增加周末服务时段。",
                              "target-2-achieved": "96"}, f'main form[action="{report}"]')
        await provider.locator('input[name="evidence"]').set_input_files(
            files=[{"name": "入户探访.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        await press(provider, report, button='button[value="submit"]')
        await expect_text(provider, "报告已提交")
        await j.seen(provider, "provider-report-submitted")

        bureau = await open_from_workbench(j, "bureau@demo.market", "reports_to_review")
        assert path_of(bureau) == report
        await expect_text(bureau, "入户探访.jpg")
        href = await bureau.locator('main .version a[href*="/content?"]').first.get_attribute("href")
        served = await bureau.request.get(href)
        assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
        assert not images.has_location(await served.body())
        await fill(bureau, {"comment": COMMENT}, f'main form[action="{report}/return"]')
        await press(bureau, f"{report}/return")
        await expect_text(bureau, "已退回修改")
        await j.seen(bureau, "bureau-report-returned")

        provider = await open_from_workbench(j, "ngo01@demo.market", "reports_due")
        await expect_text(provider, COMMENT)
        await fill(provider, {"target-1-note": "含电话回访，入户探访签到表见附件"}, f'main form[action="{report}"]')
        await press(provider, report, button='button[value="submit"]')
        await expect_text(provider, "已重新提交")

        bureau = await open_from_workbench(j, "bureau@demo.market", "reports_to_review")
        await press(bureau, f"{report}/accept")  # the confirmation box is ticked
        await expect_text(bureau, "报告已验收")
        text = await j.seen(bureau, "bureau-report-accepted")
        assert "第 1 版" in text and "第 2 版" in text and COMMENT in text
    finally:
        await en.close()
        await j.close()
