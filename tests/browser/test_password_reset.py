"""A person who has forgotten their password asks for a link from the log-in page, opens it from the
email (in the language they signed up in), is refused a password too short next to its field, sets a
good one, is told it worked, and logs in with it; the link then works no more. In Chinese and in
English, as a person who signed up for it, so the shared demo server's people keep their passwords."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, expect

from tests.browser.journey import Journey, click_link, emailed_link, fill, path_of, press

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

WORDS = {"zh_Hans": {"sent": "1 小时内有效", "subject": "重置", "short": "至少需要 10 个字符", "saved": "新密码已保存"},
         "en": {"sent": "works for one hour", "subject": "Reset your password", "short": "at least 10 characters",
                "saved": "Your new password is saved"}}
OLD, NEW = "an old pass phrase", "a new pass phrase 2"


async def log_out(page: Page) -> None:
    async with page.expect_navigation():
        await page.locator('header form[action="/logout"] button').click()


async def log_in(page: Page, address: str, password: str) -> None:
    await fill(page, {"email": address, "password": password}, 'main form[action="/login"]')
    await press(page, "/login")


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_forgotten_password_is_set_anew_from_the_emailed_link(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    address = f"forgetful-{uuid.uuid4().hex[:8]}@demo.market"
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        person = await j.newcomer("健忘的人", address, OLD)
        await log_out(person)

        await click_link(person, 'header a[href^="/login"]')
        await click_link(person, 'main a[href="/password/forgot"]')
        await fill(person, {"email": address}, 'main form[action="/password/forgot"]')
        await press(person, "/password/forgot", twice=True)
        await expect(person.locator('main [role="status"]')).to_contain_text(words["sent"])

        subject, link = emailed_link(live_server.log.parent / "mail", address, "/password/reset/")
        assert words["subject"] in subject
        await person.goto(link)
        form = f'main form[action="{link}"]'
        await fill(person, {"new_password": "short"}, form)
        await press(person, link)
        await expect(person.locator("#e-new_password")).to_contain_text(words["short"])
        await fill(person, {"new_password": NEW}, form)
        await press(person, link, twice=True)
        assert path_of(person) == "/dashboard"
        await expect(person.locator("main .alert.success")).to_contain_text(words["saved"])
        await j.seen(person, "password-reset")

        await log_out(person)
        await click_link(person, 'header a[href^="/login"]')
        await log_in(person, address, OLD)
        await expect(person.locator("#errors")).to_be_visible()
        await log_in(person, address, NEW)
        assert path_of(person) == "/dashboard"

        await person.goto(link)  # the link was used
        await fill(person, {"new_password": "a third pass phrase"}, form)
        await press(person, link)
        await expect(person.locator("#errors")).to_be_visible()
    finally:
        await j.close()
