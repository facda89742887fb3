"""A visitor reading in English searches the needs for "elderly" and finds the ones residents wrote
in Chinese (独居老人…), told which Chinese words were looked for; in Chinese the page says the same."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link, fill

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

LOOKED_FOR = {"en": "Also looked for the Chinese: 老人、老年、老年人、高龄", "zh_Hans": "同时查找了中文：老人、老年、老年人、高龄"}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_an_english_search_finds_needs_written_in_chinese(locale, browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        visitor = await j.person(None)
        await click_link(visitor, 'header a[href="/needs"]')
        await fill(visitor, {"q": "elderly"}, 'main form[action="/needs"]')
        async with visitor.expect_navigation():
            await visitor.locator('main form[action="/needs"] button[type="submit"]').click()
        needs = visitor.locator("table.list tbody")
        await expect(needs).to_contain_text("独居老人午饭没着落")
        await expect(needs).to_contain_text("卧床老人洗澡难")
        await expect(needs).not_to_contain_text("放学后孩子没人看")
        await expect(visitor.locator(".also-searched")).to_have_text(LOOKED_FOR[locale])
        await j.seen(visitor, "search-in-english")
        twin = j.api("/api/needs?q=elderly")
        assert twin["also_searched"] == ["老人", "老年", "老年人", "高龄"]
        assert {"独居老人午饭没着落", "卧床老人洗澡难"} <= {n["title"] for n in twin["items"]}
        # Each Chinese word searches the list for it alone, in the same language.
        await click_link(visitor, ".also-searched a", "老年")
        await expect(visitor.locator("#q")).to_have_value("老年")
        await expect(needs).to_contain_text("老人吃饭难，希望有老年食堂")
        await expect(needs).not_to_contain_text("独居老人午饭没着落")
        await expect(visitor.locator(".also-searched")).to_have_count(0)
    finally:
        await j.close()
