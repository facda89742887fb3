"""A form's place field goes a level at a time without losing what was typed: a resident raising a
need types its title and description, steps up to the district and down to another street, and finds
both still there with that street's communities to choose from; Enter in a field then sends the form
itself, not a step. In Chinese and in English. Nothing is raised (a required field stays empty), so
the shared demo server is left as it was."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, choose, click_link, fill, step_place

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

FORM = 'main form[action="/needs/new"]'
SIGNUP = 'main form[action="/signup"]'
WORDS = {
    "zh_Hans": {"district": "上城区", "street": "清波街道", "community": "清波门", "other": "东坡路"},
    "en": {"district": "Shangcheng District", "street": "Qingbo Street", "community": "Qingbomen", "other": "Dongpo Road"},
}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_place_step_keeps_what_was_typed(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    title = f"楼道灯坏了（{locale}）"
    try:
        resident = await j.person("resident1@demo.market")
        await click_link(resident, "/needs/new")
        form = resident.locator(FORM)
        # The form starts at the resident's own street.
        await expect(form.locator('select[name="community_id"]')).to_contain_text(words["other"])
        await fill(resident, {"title": title, "description": "三号楼的楼道灯坏了一个多月。"}, FORM)

        await step_place(resident, words["district"])
        await expect(form.locator('[name="title"]')).to_have_value(title)
        await step_place(resident, words["street"])
        await expect(form.locator('[name="title"]')).to_have_value(title)
        await expect(form.locator('[name="description"]')).to_have_value("三号楼的楼道灯坏了一个多月。")
        communities = form.locator('select[name="community_id"]')
        await expect(communities).to_contain_text(words["community"])
        await expect(communities).not_to_contain_text(words["other"])
        await expect(form.locator('button[name="_place"][aria-current="true"]')).to_have_text(words["street"])
        await expect(resident.locator("#errors")).to_have_count(0)  # a step is not a refusal
        await j.seen(resident, "need-form-place-step")

        # Sent with no community chosen, the form is refused and shown again at the street it was at,
        # with that street's communities to choose from, not back at the top.
        async with resident.expect_navigation():
            await form.locator('[name="title"]').press("Enter")
        await expect(resident.locator("#e-community_id")).to_be_visible()
        await expect(form.locator('button[name="_place"][aria-current="true"]')).to_have_text(words["street"])
        await expect(communities).to_contain_text(words["community"])
        await expect(form.locator('[name="title"]')).to_have_value(title)

        # Enter in a field sends the form itself (the unseen default button comes before the steps):
        # "who would benefit" is still empty, so it is refused next to that field, the rest kept.
        await choose(resident, "community_id", words["community"], FORM)
        async with resident.expect_navigation():
            await form.locator('[name="title"]').press("Enter")
        await expect(resident.locator("#e-beneficiaries")).to_be_visible()
        await expect(form.locator('[name="title"]')).to_have_value(title)
        await expect(communities.locator("option:checked")).to_contain_text(words["community"])
        await j.seen(resident, "need-form-refused-after-steps")
        assert all(n["title"] != title for n in j.api("/api/needs?q=" + quote(title))["items"])
    finally:
        await j.close()


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_signing_up_a_place_step_comes_before_the_password(locale, browser, live_server, screenshot_dirs):
    """A password is never sent back to the browser, so a place step would empty it: the sign-up form
    asks for it after the community, and a refused sign-up stays at the street chosen."""
    words = WORDS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        newcomer = await j.person(None)
        await click_link(newcomer, 'header a[href="/signup"]')
        await fill(newcomer, {"display_name": "李明", "email": "not-an-address"}, SIGNUP)
        await step_place(newcomer, words["street"], SIGNUP)
        form = newcomer.locator(SIGNUP)
        await expect(form.locator('[name="display_name"]')).to_have_value("李明")
        order = await form.locator("input:not([type=hidden]), select").evaluate_all("els => els.map(e => e.name)")
        assert order.index("community_id") < order.index("password") == len(order) - 1, order
        await choose(newcomer, "community_id", words["community"], SIGNUP)
        await fill(newcomer, {"password": "a-long-password-1"}, SIGNUP)
        async with newcomer.expect_navigation():
            await form.locator('[name="password"]').press("Enter")
        await expect(newcomer.locator("#e-email")).to_be_visible()  # refused: the address is not one
        await expect(form.locator('button[name="_place"][aria-current="true"]')).to_have_text(words["street"])
        await expect(form.locator('select[name="community_id"] option:checked')).to_contain_text(words["community"])
        await j.seen(newcomer, "signup-refused-after-steps")
    finally:
        await j.close()
