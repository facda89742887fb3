"""A social organisation comes to the market: its director signs up, registers it from the workbench's
link with its credit code, and waits, told so on the workbench; the platform's administrator finds it
on their own workbench, confirms and verifies it; the director is told in the inbox and may act for it.
A mistyped credit code is refused next to its field first. In Chinese and in English."""

from __future__ import annotations

import random
import uuid

import pytest
from playwright.async_api import expect

from market.organisations import credit_code
from tests.browser.journey import Journey, choose, click_link, fill, path_of, press, step_place

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

FORM = 'main form[action="/organisations/new"]'
WORDS = {"zh_Hans": {"type": "社会服务机构", "street": "望江街道", "waiting": "等待平台审核", "told": "平台已审核通过",
                     "check_digit": "校验码", "acting": "社会组织工作台"},
         "en": {"type": "Social service agency", "street": "Wangjiang Street", "waiting": "waiting for the platform",
                "told": "The platform has verified", "check_digit": "check digit", "acting": "Social organisation dashboard"}}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_an_organisation_registers_and_is_verified(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    name = f"明心社工服务中心{uuid.uuid4().hex[:6]}"
    code = credit_code.make("52", "330102", f"MX{random.randrange(10**6):06d}")
    mistyped = code[:-1] + ("0" if code[-1] != "0" else "1")
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        director = await j.newcomer("明心主任", f"director-{uuid.uuid4().hex[:8]}@demo.market")
        await click_link(director, 'main a[href="/organisations/new"]')
        await director.locator(f'{FORM} select[name="kind"]').select_option("provider")
        await choose(director, "subtype", words["type"], FORM)
        await fill(director, {"name_zh": name, "credit_code": mistyped, "description": "为老年人和儿童提供社会工作服务。"}, FORM)
        await step_place(director, words["street"], FORM)
        await choose(director, "jurisdiction_id", words["street"], FORM)
        await press(director, "/organisations/new")
        await expect(director.locator("#e-credit_code")).to_contain_text(words["check_digit"])
        await expect(director.locator("#e-registration_date")).to_be_visible()  # a social organisation's, marked so
        await expect(director.locator(f'{FORM} label[for="f-registration_date"] .req')).to_be_visible()
        await fill(director, {"credit_code": code, "registration_date": "2019-05-01"}, FORM)
        await press(director, "/organisations/new", twice=True)
        org = path_of(director)
        await click_link(director, 'header a[href="/dashboard"]')
        await expect(director.locator("main")).to_contain_text(words["waiting"])
        await j.seen(director, "registered-waiting")

        platform = await j.person("admin@demo.market")
        await click_link(platform, f'main a[href="{org}"]')
        await press(platform, f"/admin{org}/verify", twice=True)  # its confirmation box ticked

        await click_link(director, 'header a[href="/inbox"]')
        await expect(director.locator("ul.inbox li").first).to_contain_text(words["told"])
        await click_link(director, 'ul.inbox li a[href^="/inbox/"]')
        assert path_of(director) == org
        await click_link(director, 'header a[href="/dashboard"]')
        await expect(director.locator("h1")).to_have_text(words["acting"])
        await expect(director.locator("main")).not_to_contain_text(words["waiting"])
        await j.seen(director, "verified-told")
    finally:
        await j.close()
