"""A social organisation (ngo02) narrows the calls list to the open calls it may bid on, from the
workbench's header link to Calls: every call the list then shows is one its workbench counts as one to bid
on, and none it may not; in both languages."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link, path_of

# On the shared demo server (nothing here changes anything).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

WORDS = {"zh_Hans": "只看本机构可投标的公告", "en": "Only the open calls my organisation may bid on"}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_provider_lists_the_calls_it_may_bid_on(locale, browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        ngo = await j.person("ngo02@demo.market")
        await click_link(ngo, 'header a[href="/calls"]')
        every = await ngo.locator("main table.list tbody tr").count()
        box = ngo.locator('main form.filters input[name="biddable"]')
        await expect(ngo.locator("main form.filters label", has=ngo.locator('input[name="biddable"]'))).to_have_text(WORDS[locale])
        await box.check()
        async with ngo.expect_navigation():
            await ngo.locator('main form.filters button[type="submit"]').click()
        assert path_of(ngo) == "/calls"
        await expect(box).to_be_checked()
        shown = {await a.get_attribute("href") for a in await ngo.locator("main table.list tbody tr a").all()}
        bench = await (await ngo.request.get("/api/dashboard")).json()
        to_bid = next(x for x in bench["lists"] if x["kind"] == "calls_to_bid")
        assert shown == {t["link"] for t in to_bid["items"]} and 0 < len(shown) < every
        await j.seen(ngo, "calls-to-bid")
    finally:
        await j.close()
