"""A social organisation's staff member, told of every call they may bid on, asks for their notices in
one email a day from their account page (reached from the header), and sees the choice kept; in both
languages. Pressed twice, it acts once."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link, path_of, press

# On the shared demo server: the choice is put back, and no other test reads ngo03's email.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

WORDS = {"zh_Hans": {"daily": "每天汇总为一封邮件", "each": "每条消息即时发送", "saved": "已保存"},
         "en": {"daily": "in one email a day", "each": "each as it comes", "saved": "Saved."}}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_person_asks_for_one_email_a_day(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        ngo = await j.person("ngo03@demo.market")
        await click_link(ngo, 'header a[href="/account"]')
        for choice in ("daily", "each"):
            await ngo.locator("#email label", has_text=words[choice]).click()
            await press(ngo, "/account/email-notices", twice=True)
            assert path_of(ngo) == "/account"
            await expect(ngo.locator("#email .alert.success")).to_contain_text(words["saved"])
            await expect(ngo.locator("#email label", has_text=words[choice]).locator("input")).to_be_checked()
            assert (await (await ngo.request.get("/api/account")).json())["email_notices"] == choice
            if choice == "daily":
                await j.seen(ngo, "email-notices")
    finally:
        await j.close()
