"""My contracts (我的合同) on a phone, in Chinese: the demo bureau goes from its workbench to its list of
contracts, narrows it to the one it ended, and opens it; a social organisation (ngo01) goes from its
workbench to its own two contracts, bought by the bureau, and opens one. The bureau's list in English
too, and no interface string left untranslated."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.journey import PHONE, Journey, choose, click_link, path_of, untranslated

# On the shared demo server, which the dashboards' test reads too (neither changes anything).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

ROWS = "table.contracts tbody tr"


async def _fits_the_phone(page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


async def test_a_buyer_and_a_provider_reach_their_contracts_from_the_workbench(browser, live_server,
                                                                               screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    en = Journey(browser, live_server.base_url, screenshot_dirs, locale="en")
    try:
        bureau = await j.person("bureau@demo.market", viewport=PHONE)
        await click_link(bureau, "#my-contracts")
        assert path_of(bureau) == "/contracts"
        await expect(bureau.locator("h1")).to_have_text("我的合同")
        rows = bureau.locator(ROWS)
        assert await rows.count() >= 8  # every contract of the demo is the bureau's
        await expect(bureau.locator("table.contracts")).to_have_attribute("data-side", "buyer")
        await expect(bureau.locator("table.contracts thead")).to_contain_text("承接方")
        for status in ("buyer_signed", "rectifying", "ended", "in_delivery"):
            await expect(bureau.locator(f'{ROWS}[data-status="{status}"]').first).to_be_visible()
        await expect(bureau.locator(".pager")).to_contain_text("共")
        await _fits_the_phone(bureau)
        await j.seen(bureau, "contracts-buyer")

        await choose(bureau, "status", "提前终止", scope="main form.filters")
        async with bureau.expect_navigation():
            await bureau.locator('main form.filters button[type="submit"]').click()
        await expect(rows).to_have_count(1)
        ended = rows.first
        await expect(ended).to_contain_text("提前终止")
        await expect(ended).to_contain_text("¥")
        number = (await ended.locator("td").first.inner_text()).strip()
        assert re.fullmatch(r"\d{6}", number)
        await click_link(bureau, f"{ROWS} td:first-child a")
        assert path_of(bureau) == f"/contracts/{int(number)}"
        await expect(bureau.locator("h1")).to_contain_text(number)
        await expect(bureau.locator("[data-delivery-status]")).to_have_attribute("data-delivery-status", "ended")
        await j.seen(bureau, "contracts-buyer-opened")

        ngo = await j.person("ngo01@demo.market", viewport=PHONE)
        await click_link(ngo, "#my-contracts")
        await expect(ngo.locator("table.contracts")).to_have_attribute("data-side", "provider")
        await expect(ngo.locator("table.contracts thead")).to_contain_text("采购方")
        mine = ngo.locator(ROWS)
        await expect(mine).to_have_count(2)
        for n in range(2):
            await expect(mine.nth(n)).to_contain_text("上城区民政局")
            assert re.fullmatch(r"\d+ / 6", (await mine.nth(n).locator("td").nth(5).inner_text()).strip())
        await _fits_the_phone(ngo)
        await j.seen(ngo, "contracts-provider")
        title = (await mine.first.locator("td").nth(1).inner_text()).strip()
        await click_link(ngo, f"{ROWS} td:nth-child(2) a")
        assert re.fullmatch(r"/contracts/\d+", path_of(ngo))
        await expect(ngo.locator("main")).to_contain_text(title)
        await j.seen(ngo, "contracts-provider-opened")

        english = await en.person("bureau@demo.market")
        await click_link(english, "#my-contracts")
        await expect(english.locator("h1")).to_have_text("My contracts")
        await expect(english.locator("table.contracts thead")).to_contain_text("Next milestone due")
        await en.seen(english, "contracts-buyer")
        assert untranslated(j.pages, "zh_Hans") + untranslated(en.pages, "en") == []
    finally:
        await j.close()
        await en.close()
