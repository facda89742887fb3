"""A person who works for two organisations (a social organisation's staff who also gives for an
enterprise) switches between them from the workbench: each organisation's administrator adds them on
its members page, and the switch names both, with their kinds, in the reader's language. The
workbench of such a person once failed with an error page."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from market.demo import DEMO_PASSWORD
from tests.browser.journey import Journey, choose, click_link, fill, press

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

WORDS = {"en": {"provider": "Service provider", "funder": "Funder", "provider_bench": "Social organisation dashboard",
                "funder_bench": "Funder dashboard"},
         "zh_Hans": {"provider": "服务承接方", "funder": "资助方", "provider_bench": "社会组织工作台",
                     "funder_bench": "资助方工作台"}}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_person_in_two_organisations_switches_between_them(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    email = f"two-hats-{uuid.uuid4().hex[:8]}@demo.market"
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        newcomer = await j.person(None)
        await click_link(newcomer, 'header a[href="/signup"]')
        await fill(newcomer, {"display_name": "双岗志愿者", "email": email, "password": DEMO_PASSWORD})
        await press(newcomer, "/signup", twice=True)
        for admin in ("ngo01@demo.market", "csr01@demo.market"):
            page = await j.person(admin)
            await click_link(page, 'main a[href$="/members"]')
            await fill(page, {"email": email, "role": "staff"}, 'main form[action$="/members"]')
            await press(page, (await page.locator('main form[action$="/members"]').get_attribute("action")), twice=True)
            await expect(page.locator("main tr", has_text=email)).to_have_count(1)
        person = await j.person(email)
        switch = person.locator("#act-as")
        await expect(switch).to_contain_text(f"{words['provider']} ·")
        await expect(switch).to_contain_text(f"{words['funder']} ·")
        # The switch stays inside its card, however long the names.
        card = await person.locator("section.card", has=switch).bounding_box()
        box = await switch.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"]
        await j.seen(person, "two-organisations")
        for kind in ("provider", "funder"):
            await choose(person, "organisation_id", words[kind], 'main form[action="/account/act-as"]')
            await press(person, "/account/act-as", twice=True)
            await expect(person.locator("h1")).to_have_text(words[f"{kind}_bench"])
            await expect(person.locator("#act-as option[selected]")).to_contain_text(words[kind])
        if locale == "en":  # the organisations' English names, as the header gives them
            await expect(switch).to_contain_text("Hubin Intime Commercial Management · Funder")
        await j.seen(person, "two-organisations-funder")
    finally:
        await j.close()
