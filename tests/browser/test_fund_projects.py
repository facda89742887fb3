"""A fund's owner (the district's charity federation) finds an approved project by words of its title
and adds it to the fund. The form once offered the 200 newest of a city's 30,000 approved projects,
and no way to the others."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link, fill
from tests.browser.test_docking_rules import twice

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

# Each language adds a project of its own (the server is shared): found by Chinese words, or by
# English words of an English title.
CASES = {"zh_Hans": ("喘息", "紫阳街道家庭照护者喘息服务", "该项目已加入基金。", "基金以外没有含这些词语的已立项项目。"),
         "en": ("counselling", "Mental health counselling for young people in Hubin",
                "The project takes part in the fund.", "No approved project outside the fund has these words.")}


FUND = {"zh_Hans": "上城区社区服务配捐基金", "en": "Shangcheng community service matching fund"}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_the_funds_owner_finds_a_project_by_its_words_and_adds_it(locale, browser, live_server,
                                                                       screenshot_dirs):
    words, title, added, nothing = CASES[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        charity = await j.person("charity@demo.market")
        await click_link(charity, 'header a[href="/funds"]')
        await click_link(charity, 'main a[href^="/funds/"]', FUND[locale])
        search = 'main form[role="search"]'
        await fill(charity, {"project_q": "天文望远镜"}, search)
        await charity.locator(search).locator('button[type="submit"]').click()
        await expect(charity.locator("#no-project-found")).to_have_text(nothing)
        await fill(charity, {"project_q": words}, search)
        await charity.locator(search).locator('button[type="submit"]').click()
        # English words find the Chinese words for them too (心理辅导 for counselling): the choice is the person's.
        await expect(charity.locator("#f-project_id option", has_text=title)).to_have_count(1)
        await charity.locator("#f-project_id").select_option(label=title)
        await j.seen(charity, "fund-project-found")
        add = charity.locator('main form[action$="/projects"]').locator('button[type="submit"]')
        await twice(charity, add)
        await expect(charity.locator(".done")).to_have_text(added)
        await expect(charity.locator("#projects table.list", has_text=title)).to_have_count(1)
        fund = charity.url.split("/funds/")[1].split("#")[0].split("?")[0]
        taking_part = j.api(f"/api/funds/{fund}")["projects"]  # type: ignore[index]
        assert sum(title in (p["title_zh"], p["title_en"]) for p in taking_part) == 1  # added once
    finally:
        await j.close()
