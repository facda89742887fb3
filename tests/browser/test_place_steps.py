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
