"""A resident's complaint through the real pages, on a phone-sized screen in Chinese: she opens the
poster's link, lodges a complaint with a photo and no account, and keeps the tracking link; it is
dispatched to the community's residents' committee; time passes without an acknowledgement, the
complaint clock escalates it and the street office finds it on its workbench; the committee answers
it; the resident rates the answer from her tracking link. The public list shows none of her words; a
neighbour finds it from the home page by their street, and the committee's figures."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from tests.browser.journey import (
    PHONE,
    Journey,
    choose,
    click_link,
    expect_text,
    fill,
    path_of,
    press,
    step_place,
    untranslated,
)
from tests.factories import PNG

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="journeys")]

BODY = "清波门社区活动室的无障碍坡道被电动车堵住了，轮椅老人进不去。"
PHONE_NUMBER = "13812345678"
ANSWER = "已联系物业清理坡道并设置禁停标识，每日巡查。"


async def workbench_row(j: Journey, email: str, kind: str, complaint_id: int, wait_s: float = 0):
    """The person's workbench once the complaint is in its list of this kind (the clock's job runs
    in the server every half minute), and the link to it."""
    page = await j.person(email)
    link = f'main table[data-kind="{kind}"] a[href="/complaints/{complaint_id}"]'
    deadline = asyncio.get_running_loop().time() + wait_s
    while await page.locator(link).count() == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(2)
        await page.reload()
    return page, link


async def test_a_resident_lodges_on_a_phone_and_rates_the_answer_after_an_escalation(
        browser, fresh_journey_server, screenshot_dirs):
    j = Journey(browser, fresh_journey_server.base_url, screenshot_dirs)
    try:
        resident = await j.person(None, viewport=PHONE)
        await resident.goto("/complaints/new")  # the address the poster's QR code carries
        await j.seen(resident, "complaint-form-phone")
        assert await resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await step_place(resident, "清波街道")  # the place a level at a time: the street first
        await choose(resident, "category_id", "社区事务")
        await fill(resident, {"body": BODY, "contact_phone": PHONE_NUMBER})
        photo = [{"name": "坡道.png", "mimeType": "image/png", "buffer": PNG}]
        await resident.locator('input[name="photos"]').set_input_files(files=photo)
        # Sent without its community: refused, the words kept, and the photo asked for again (a page
        # cannot give a chosen file back).
        await press(resident, "/complaints/new")
        await expect(resident.locator("#e-community_id")).to_be_visible()
        await expect(resident.locator('[name="body"]')).to_have_value(BODY)
        await expect(resident.locator("#again-photos")).to_contain_text("重新选择")
        await choose(resident, "community_id", "清波门社区")
        await resident.locator('input[name="photos"]').set_input_files(files=photo)
        await press(resident, "/complaints/new", twice=True)
        await expect_text(resident, "您的投诉已提交并派单")
        tracking = path_of(resident)
        assert re.fullmatch(r"/complaints/track/[\w-]+", tracking)
        # The private link written out, for a screenshot or a copy (the address bar shows little of it).
        assert (await resident.locator("#tracking-link").inner_text()).endswith(tracking)
        await expect(resident.locator("ul.photos a")).to_have_text(["坡道.png"])  # chosen again, kept once
        text = await j.seen(resident, "complaint-lodged-phone")
        assert BODY in text and "已派单，待受理" in text and PHONE_NUMBER not in text
        complaint_id = int(re.search(r"投诉 #(\d+)", text).group(1))

        public = await j.person(None, viewport=PHONE)
        await public.goto("/complaints")
        text = await j.seen(public, "complaints-public-phone")
        assert f"#{complaint_id}" in text and BODY not in text and PHONE_NUMBER not in text

        await j.let_time_pass(resident, 10)  # no acknowledgement within the working day it had
        office, link = await workbench_row(j, "qingbo.office@demo.market", "complaints_escalated", complaint_id, 90)
        await click_link(office, link)
        text = await j.seen(office, "complaint-escalated-office")
        assert "已升级督办（第 1 级）" in text and PHONE_NUMBER in text  # the contact, for those handling it

        committee, link = await workbench_row(j, "qingbo.community@demo.market", "complaints_to_acknowledge",
                                              complaint_id)
        await click_link(committee, link)
        await fill(committee, {"answer": ANSWER}, f'main form[action="/complaints/{complaint_id}/answer"]')
        await committee.locator('input[name="upheld"][value="yes"]').check()
        await press(committee, f"/complaints/{complaint_id}/answer")
        await expect_text(committee, "答复已发送给投诉人")
        await j.seen(committee, "complaint-answered-committee")

        await resident.goto(tracking)  # her kept link
        await expect_text(resident, ANSWER)
        await resident.locator('input[name="rating"][value="4"]').check()
        await press(resident, f"{tracking}/rate")
        await expect_text(resident, "评价已记录")
        text = await j.seen(resident, "complaint-rated-phone")
        assert "评价 4 分" in text and 'data-status="closed"' in await resident.content()

        # A neighbour, from the home page, looks up what was complained of in their street (the list's
        # place picker, a level at a time), then how the organisations answering complaints do (the
        # figures, by year).
        await click_link(public, 'header a[href="/"]')
        await click_link(public, '#accountability a[href="/complaints"]')
        for place in ("上城区", "清波街道"):
            await choose(public, "place", place, 'main form[action="/complaints"]')
            await press(public, "/complaints")
        text = await j.seen(public, "complaints-by-street-phone")
        assert f"#{complaint_id}" in text and "清波街道" in text and "小营巷社区" not in text
        await click_link(public, 'main a[href="/complaints/figures"]')
        text = await j.seen(public, "complaint-figures-phone")
        assert re.search(r"\d{4}年受理的投诉", text) and "清波门社区居民委员会" in text
        assert await public.locator('#figures-year a[aria-current="page"]').count() == 1
        assert await public.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # each organisation a card on the phone, its rates named (the table squeezed a name to a
        # character a line, and cut off the last column)
        card = public.locator("#figures tbody tr").first
        assert (await card.bounding_box())["width"] <= PHONE["width"]
        assert await card.locator('td[data-label="满意率"]').is_visible()
        assert untranslated(j.pages, "zh_Hans") == []
    finally:
        await j.close()


PUBLIC_WORDS = {
    "zh_Hans": {"district": "上城区", "street": "清波街道", "communities": ("清波门社区", "柳翠井巷社区", "劳动路社区"),
                "every": "历年合计", "heading": "历年受理的投诉", "satisfied": "满意率", "lodged": "受理总数",
                "dates": "日期"},
    "en": {"district": "Shangcheng District", "street": "Qingbo Street",
           "communities": ("Qingbomen", "Liucuijingxiang", "Laodong Road"),
           "every": "Every year", "heading": "Complaints lodged in every year", "satisfied": "Share satisfied",
           "lodged": "Lodged", "dates": "Dates"},
}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_visitor_finds_a_streets_complaints_and_how_each_organisation_handles_them(
        locale, browser, live_server, screenshot_dirs):
    """From the home page, with no account: the complaints of one street, picked a level at a time,
    then every year's figures, each organisation's rates named; on a phone, in both languages."""
    words = PUBLIC_WORDS[locale]
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        visitor = await j.person(None, viewport=PHONE)
        await click_link(visitor, '#accountability a[href="/complaints"]')
        for place in (words["district"], words["street"]):
            await choose(visitor, "place", place, 'main form[action="/complaints"]')
            await press(visitor, "/complaints")
        text = await j.seen(visitor, "complaints-of-a-street")
        places = await visitor.locator("#complaints tbody td:nth-child(2)").all_inner_texts()
        assert places and all(any(c in p for c in words["communities"]) for p in places), places
        assert words["street"] in text
        await click_link(visitor, 'main a[href="/complaints/figures"]')
        await click_link(visitor, "#figures-year a", words["every"])
        text = await j.seen(visitor, "complaint-figures-every-year")
        assert words["heading"] in text
        assert await visitor.locator("#figures-year a[aria-current]").inner_text() == words["every"]
        assert await visitor.locator("#figures tbody tr").count() > 0
        assert await visitor.locator(f'#figures td[data-label="{words["satisfied"]}"]').first.is_visible()
        assert await visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # A year's figures lead to the complaints they count: the organisation's of that year, as many.
        latest = visitor.locator("#figures-year a").first
        year = (await latest.inner_text()).strip()
        await click_link(visitor, "#figures-year a", year)
        busiest = visitor.locator("#figures tbody tr").first
        lodged = int((await busiest.locator(f'td[data-label="{words["lodged"]}"]').inner_text()).replace(",", ""))
        await click_link(visitor, "#figures tbody tr:first-child a")
        await j.seen(visitor, "complaints-of-an-organisation-in-a-year")
        assert await visitor.locator("#year").input_value() == year
        dates = await visitor.locator(f'#complaints td[data-label="{words["dates"]}"]').all_inner_texts()
        assert len(dates) == min(lodged, 50) and all(year in d for d in dates), (lodged, dates)
        if locale == "zh_Hans":
            assert untranslated(j.pages, "zh_Hans") == []
    finally:
        await j.close()
