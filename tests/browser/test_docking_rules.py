"""The bureau bans a provider from one of its waiting projects in rolling docking by typing words of
the provider's name, chooses it among the providers whose names hold them, and clears the ban again.
The form once listed every provider of the city (16,000 options)."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.journey import Journey, click_link, fill, new_document

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

SAYS = {"en": {"choose": "Choose the provider from those whose names hold these words.",
               "banned": "The pair is banned: no docking run will suggest this provider for the project.",
               "cleared": "The rule is cleared: docking runs choose freely for this project again."},
        "zh_Hans": {"choose": "请从名称含有这些词语的服务承接方中选择一个。",
                    "banned": "已禁止该配对：对接运行不会再为此项目推荐该承接方。",
                    "cleared": "规则已清除"}}


async def twice(page: Page, button: Locator) -> None:
    """Press a button twice, as impatient people do; the form acts once (journey.press for a form that
    is not its action's first on the page)."""
    await page.evaluate("window.journeyPressed = true")
    await button.dblclick()
    await new_document(page)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_the_bureau_bans_a_provider_it_names_and_clears_the_ban(locale, browser, live_server, screenshot_dirs):
    says = SAYS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, 'header a[href="/docking"]')
        form = bureau.locator('main form[action="/docking/rules"]').last
        assert await form.locator('select[name="provider_id"]').count() == 0  # no list of every provider
        project = form.locator('select[name="project_id"] option').nth(1)
        title = (await project.inner_text()).strip()
        await form.locator('select[name="project_id"]').select_option(await project.get_attribute("value"))
        await fill(bureau, {"provider": "服务中心", "rule": "ban"}, 'main form[action="/docking/rules"] >> nth=-1')
        await twice(bureau, form.locator('button[type="submit"]'))
        await expect(bureau.locator("#e-provider")).to_have_text(says["choose"])
        offered = bureau.locator('select[name="provider_id"] option')
        assert await offered.count() > 2  # several providers' names hold the words
        provider = (await offered.nth(1).inner_text()).strip()
        await bureau.locator('select[name="provider_id"]').select_option(await offered.nth(1).get_attribute("value"))
        await j.seen(bureau, "docking-choose-provider")
        await twice(bureau, form.locator('button[type="submit"]'))
        await expect(bureau.locator(".done")).to_have_text(says["banned"])
        rules = "h2#rules ~ table.list tr"  # the pins and bans, not the run's suggestions above them
        row = bureau.locator(rules, has_text=provider).filter(has_text=title)
        await expect(row).to_have_count(1)
        await twice(bureau, row.locator('form[action="/docking/rules"] button'))
        await expect(bureau.locator(".done")).to_contain_text(says["cleared"])
        await expect(bureau.locator(rules, has_text=provider).filter(has_text=title)).to_have_count(0)
    finally:
        await j.close()
