"""A provider reaches its scorecard from its workbench, in Chinese and in English: the demo's ngo06,
whose two mid-term evaluations failed (one contract since ended), sees both results, its summary
grade and the catalogue item it is barred from, with the date the bar ends."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link

# On the shared demo server, which the dashboards' test reads too (neither changes anything).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]


async def test_the_provider_reaches_its_scorecard_from_its_workbench(browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        ngo = await j.person("ngo06@demo.market")
        await click_link(ngo, "#my-scorecard")
        assert re.search(r"/organisations/\d+/scorecard$", ngo.url)
        text = await j.seen(ngo, "scorecard")
        assert "交付评估记分卡" in text and "中期评估" in text and "不合格" in text and "限制至" in text
        await expect(ngo.locator('tr[data-stage="midterm"][data-outcome="failed"]')).to_have_count(2)
        await expect(ngo.locator("dd[data-grade]")).to_have_attribute("data-grade", "C")
        await expect(ngo.locator("dd[data-ended]")).to_have_attribute("data-ended", "1")
        await expect(ngo.locator('tr[data-item="05.01.01"]')).to_have_count(2)  # a bar for each contract

        await click_link(ngo, 'header.site ul.langs a[hreflang="en"]')
        j.locale = "en"
        english = await j.seen(ngo, "scorecard")
        assert "Delivery scorecard" in english and "grade C" in english and "Barred until" in english
        assert "did not pass" in english
        # Its public profile links to the same page, for anyone.
        await click_link(ngo, "main p.meta a")
        await click_link(ngo, "#scorecard-link")
        assert re.search(r"/organisations/\d+/scorecard$", ngo.url)
    finally:
        await j.close()
