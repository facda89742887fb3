"""Someone who signed up without their community, and mistyped their name, puts both right from their
account page (reached from the header): a blank name is refused next to its field, the place steps keep
what was typed, and once saved the page says so and the header greets them by the new name. In Chinese
and in English, as a newcomer, so the demo's residents keep their communities."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, choose, click_link, fill, press, step_place

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

FORM = 'main form[action="/account/details"]'
WORDS = {"zh_Hans": {"street": "清波街道", "community": "清波门", "saved": "已保存"},
         "en": {"street": "Qingbo Street", "community": "Qingbomen", "saved": "Saved."}}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_person_puts_their_name_and_community_right(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        person = await j.newcomer("李明明明", f"moved-{uuid.uuid4().hex[:8]}@demo.market")
        await click_link(person, 'header a[href="/account"]')
        form = person.locator(FORM)
        await expect(form.locator('[name="display_name"]')).to_have_value("李明明明")

        await fill(person, {"display_name": " "}, FORM)
        await press(person, "/account/details")
        await expect(person.locator("#e-display_name")).to_be_visible()

        await fill(person, {"display_name": "李明"}, FORM)
        await step_place(person, words["street"], FORM)
        await expect(form.locator('[name="display_name"]')).to_have_value("李明")
        await choose(person, "community_id", words["community"], FORM)
        await press(person, "/account/details", twice=True)
        await expect(person.locator("#details .alert.success")).to_contain_text(words["saved"])
        await expect(form.locator('select[name="community_id"] option:checked')).to_contain_text(words["community"])
        await expect(person.locator("header")).to_contain_text("李明")
        await expect(person.locator("header")).not_to_contain_text("李明明明")
        await j.seen(person, "account-details")
        me = await (await person.request.get("/api/me")).json()
        assert me["display_name"] == "李明" and me["community_id"] is not None
    finally:
        await j.close()
