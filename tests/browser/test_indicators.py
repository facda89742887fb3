"""An indicator system kept through the pages, in Debian's headless Chromium against `market serve
--demo`: the bureau's staff member starts a draft from the workbench, imports an Excel file, sees the
row that is wrong, fixes it and imports again; the bureau's administrator publishes it; and the tree
reads in Chinese and, after the header's language link, in English."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link, fill, press
from tests.indicator_files import demo_rows, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]


def workbook(weight_of_1_1: str) -> bytes:
    rows = demo_rows()
    rows[2][3] = weight_of_1_1  # row 3 of the file: indicator 1.1
    return xlsx(rows)


async def test_a_bureau_imports_fixes_publishes_and_reads_a_system(browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        staff = await j.person("bureau.staff@demo.market")
        await click_link(staff, "/indicators")
        for title in ("政府购买服务项目中期评估指标体系", "政府购买服务项目末期评估指标体系"):  # the demo's platform defaults
            await expect(staff.locator("main table", has_text=title)).to_contain_text("平台默认")
        await fill(staff, {"stage": "final", "applies_to": "01", "title_zh": "养老服务项目末期评估指标",
                           "title_en": "Final evaluation of elderly-care projects"}, 'main form[action="/indicators/versions"]')
        await press(staff, "/indicators/versions")
        version_id = int(re.search(r"/indicators/versions/(\d+)", staff.url).group(1))
        upload = f"/indicators/versions/{version_id}/import"

        await staff.locator(f'main form[action="{upload}"] input[type="file"]').set_input_files(
            {"name": "末期评估指标.xlsx", "mimeType": "application/octet-stream", "buffer": workbook("四十")})
        await press(staff, upload)
        problems = staff.locator("#errors table")
        await expect(problems).to_contain_text("weight")
        await expect(problems.locator("tbody tr").first.locator("td").first).to_have_text("3")
        await j.seen(staff, "indicators-row-error")
        assert await staff.locator("#tree tbody tr").count() == 0  # nothing was imported

        await staff.locator(f'main form[action="{upload}"] input[type="file"]').set_input_files(
            {"name": "末期评估指标.xlsx", "mimeType": "application/octet-stream", "buffer": workbook("40")})
        await press(staff, upload)
        await expect(staff.locator("#tree")).to_contain_text("项目团队配置")
        # staff keep the draft; publishing is for the bureau's administrators
        await expect(staff.locator(f'main form[action="/indicators/versions/{version_id}/publish"]')).to_have_count(0)

        admin = await j.person("bureau@demo.market")
        await click_link(admin, "/indicators")
        await click_link(admin, f"/indicators/versions/{version_id}")
        await press(admin, f"/indicators/versions/{version_id}/publish")
        await expect(admin.locator("main .badge")).to_have_text("已发布")
        tree = admin.locator("#tree")
        for words in ("资质与管理", "服务对象满意度", "锚定量表 0–5 分", "目标完成率"):
            await expect(tree).to_contain_text(words)
        await j.seen(admin, "indicators-tree")

        await click_link(admin, 'header.site a[hreflang="en"]')
        await expect(admin.locator("html")).to_have_attribute("lang", "en")
        tree = admin.locator("#tree")
        for words in ("Qualification and management", "Beneficiary satisfaction", "anchored scale 0–5",
                      "achieved against a target"):
            await expect(tree).to_contain_text(words)
        await admin.locator("#tree details").first.locator("summary").click()
        await expect(admin.locator("#tree details").first).to_contain_text("Meets the requirement")
        j.locale = "en"
        await j.seen(admin, "indicators-tree")
    finally:
        await j.close()
