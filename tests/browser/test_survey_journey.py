"""A resident answers a satisfaction survey on a phone, in Chinese, with no account: the bureau opens
its survey from its workbench, prints the code slips, and the poster's link (read off the page that
shows the poster, as a person would) leads a 360-px phone to the survey; the code answers once and
its second use is refused next to the field. The same page in English, checked once."""

from __future__ import annotations

import io
import re

import pytest
from playwright.async_api import expect
from pypdf import PdfReader

from tests.browser.journey import PHONE, TIMEOUT_MS, Journey, click_link, path_of

# On the shared demo server: the survey answered here is one that the other tests there do not read.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]


async def test_a_resident_answers_with_a_printed_code_on_a_phone(browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        bureau = await j.person("bureau@demo.market")
        await click_link(bureau, "#surveys-card a")
        await j.seen(bureau, "survey-list")
        # An open project survey of the bureau's.
        await click_link(bureau, '#surveys tr[data-status="open"][data-kind="project"] a')
        text = await j.seen(bureau, "survey-buyer")
        assert "满意度调查" in text and "链接与海报" in text
        await expect(bureau.locator("#poster svg")).to_have_count(1)
        link = await bureau.locator("#survey-link").get_attribute("href")
        slips = await bureau.request.get(await bureau.locator('#codes a[href$="codes.pdf"]').get_attribute("href"))
        sheet = "".join(p.extract_text() for p in PdfReader(io.BytesIO(await slips.body())).pages)
        code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", sheet).group(1)

        # A phone's browser with scripts off: the survey needs none.
        context = await browser.new_context(base_url=live_server.base_url, viewport=PHONE, java_script_enabled=False)
        context.set_default_timeout(TIMEOUT_MS)
        j.contexts.append(context)
        resident = await context.new_page()
        await resident.goto(link)
        text = await j.seen(resident, "survey-phone")
        assert "满意度调查" in text and "非常满意" in text
        # Asked in the words the indicator system gives residents, not the evaluators' indicator names.
        assert "这个项目为您提供的服务" in text and "服务对象满意率" not in text
        # Nothing on the page is wider than the phone.
        assert await resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for fieldset in await resident.locator("main form fieldset.scale").all():
            await fieldset.locator("label", has_text="满意").last.click()
        await resident.locator('main form input[name="comment"], main form textarea[name="comment"]').fill(
            "服务很周到，谢谢社工。")
        await resident.locator('main form input[name="code"]').fill(code)
        async with resident.expect_navigation():
            await resident.locator('main form button[type="submit"]').click()
        assert await j.seen(resident, "survey-thanks")
        await expect(resident.locator("main")).to_contain_text("谢谢")

        # The same slip again: refused, next to the code field, and nothing is stored.
        await resident.goto(link)
        for fieldset in await resident.locator("main form fieldset.scale").all():
            await fieldset.locator("label").first.click()
        await resident.locator('main form input[name="code"]').fill(code)
        async with resident.expect_navigation():
            await resident.locator('main form button[type="submit"]').click()
        await j.seen(resident, "survey-code-used")
        await expect(resident.locator("#e-code")).to_contain_text("已被使用")

        await click_link(resident, 'header.site ul.langs a[hreflang="en"]')
        j.locale = "en"
        english = await j.seen(resident, "survey-phone")
        assert "Very satisfied" in english and "The code on your slip" in english
    finally:
        await j.close()


WORDS = {"zh_Hans": {"card": "评价服务", "community": "社区服务满意度", "project": "满意度调查", "community_name": "东坡路社区"},
         "en": {"card": "Rate the services", "community": "Your community's services", "project": "Satisfaction survey",
                "community_name": "Dongpo Road"}}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_resident_finds_the_surveys_near_them_from_their_workbench(locale, browser, live_server,
                                                                           screenshot_dirs):
    """A resident on a phone reaches their community's survey and a project's near them from the
    workbench, where before only a poster's link or a slip led to one."""
    words = WORDS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        resident = await j.person("resident1@demo.market", PHONE)
        card = resident.locator("#surveys-to-answer")
        await expect(card.locator("h2")).to_have_text(words["card"])
        assert await resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await j.seen(resident, "resident-surveys")
        await click_link(resident, '#surveys-to-answer a.button[href^="/s/"]')
        await expect(resident.locator("h1")).to_have_text(words["community"])
        await expect(resident.locator("main form fieldset.scale").first).to_be_visible()
        resident = await j.person("resident1@demo.market", PHONE)
        await click_link(resident, '#surveys-near a[href^="/s/"]')
        await expect(resident.locator("h1")).to_have_text(words["project"])
        await j.seen(resident, "resident-project-survey")
        # and the needs neighbours have raised there, to support one
        resident = await j.person("resident1@demo.market", PHONE)
        await click_link(resident, "#needs-nearby")
        assert path_of(resident) == "/needs"
        await expect(resident.locator("main")).to_contain_text(words["community_name"])
        assert await resident.locator('main a[href^="/needs/"]').count() > 0
    finally:
        await j.close()
