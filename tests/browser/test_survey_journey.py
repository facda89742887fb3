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

from tests.browser.conftest import server_db
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


async def test_a_resident_answers_with_the_keyboard_alone(browser, live_server, screenshot_dirs):
    """Tab, the arrow keys and Enter alone, as someone who cannot use a pointer answers: every question,
    the comment and the code are reached in the order they are read, the focus is always shown, and the
    answer is stored as chosen."""
    conn = await server_db(live_server)
    try:
        token, code = await conn.fetchrow(
            "select s.token, c.code from surveys s join survey_codes c on c.survey_id = s.id "
            "where s.status = 'open' and s.kind = 'project' and c.spent_at is null order by s.id, c.code limit 1")
    finally:
        await conn.close()
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        resident = await j.person(None, PHONE)
        await resident.goto(f"/s/{token}")
        questions = await resident.locator("main form fieldset.scale").count()
        assert questions >= 2

        async def focused() -> dict:
            return await resident.evaluate("""() => { const e = document.activeElement;
                return {tag: e.tagName.toLowerCase(), name: e.name || '', outline: getComputedStyle(e).outlineStyle}; }""")

        async def tab_to(name: str) -> None:
            for _ in range(40):  # past the header's links, to the field
                await resident.keyboard.press("Tab")
                if (await focused())["name"] == name:
                    return
            raise AssertionError(f"Tab never reached {name}")

        order = []
        await tab_to("q1")
        for position in range(1, questions + 1):
            now = await focused()
            assert now["name"] == f"q{position}" and now["outline"] != "none"
            order.append(now["name"])
            await resident.keyboard.press("Space")  # the first point, 非常不满意
            for _ in range(3):
                await resident.keyboard.press("ArrowRight")  # on to 满意
            await resident.keyboard.press("Tab")
        assert (await focused())["name"] == "comment"
        await resident.keyboard.type("键盘作答，服务很好。")
        await resident.keyboard.press("Tab")
        assert (await focused())["name"] == "code"
        await resident.keyboard.type(f"{code[:4]}-{code[4:]}")
        async with resident.expect_navigation():
            await resident.keyboard.press("Enter")
        await j.seen(resident, "survey-keyboard-thanks")
        await expect(resident.locator("main")).to_contain_text("谢谢")
        assert order == [f"q{p}" for p in range(1, questions + 1)]
    finally:
        await j.close()
    conn = await server_db(live_server)
    try:
        scores = await conn.fetch("select s.score from survey_answers a join survey_scores s on s.answer_id = a.id "
                                  "where a.code = $1 order by s.position", code)
    finally:
        await conn.close()
    assert [r["score"] for r in scores] == [4] * questions
