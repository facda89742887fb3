"""A person who works for two organisations (a social organisation's staff who also gives for an
enterprise) switches between them from the workbench: each organisation's administrator adds them on
its members page, and the switch names both, with their kinds, in the reader's language. The
workbench of such a person once failed with an error page. A notice for the organisation they are not
acting for says whom it is for, and opening it offers the switch to that organisation first: the page
it leads to once refused them, and someone in four organisations had to guess which to switch to."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from tests.browser.conftest import server_db
from tests.browser.journey import Journey, choose, click_link, fill, path_of, press

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

WORDS = {"en": {"provider": "Service provider", "funder": "Funder", "provider_bench": "Social organisation dashboard",
                "funder_bench": "Funder dashboard", "for": "for ", "opened": "What you opened is for ",
                "contract": "Contract", "added": "added you as a member of"},
         "zh_Hans": {"provider": "服务承接方", "funder": "资助方", "provider_bench": "社会组织工作台",
                     "funder_bench": "资助方工作台", "for": "发给", "opened": "您打开的内容属于", "contract": "合同",
                     "added": "已将您添加为"}}


async def tell_the_ngo(server, ngo_admin: str) -> tuple[dict[str, str], int]:
    """The social organisation's people are asked to sign one of its contracts, as the buyer's signature
    would ask them: (the organisation's name in each language, the contract)."""
    conn = await server_db(server)
    try:
        ngo, zh, en, contract, title = await conn.fetchrow(
            """select o.id, o.name_zh, o.name_en, c.id, k.title_zh from users u join memberships m on m.user_id = u.id
                 join organisations o on o.id = m.organisation_id join contracts c on c.provider_id = o.id
                 join calls k on k.id = c.call_id where u.email = $1 order by c.id limit 1""", ngo_admin)
        await conn.execute("""insert into notifications (user_id, organisation_id, kind, params, link)
                              select user_id, organisation_id, 'contract_to_sign', $2, $3 from memberships
                               where organisation_id = $1""", ngo, {"title": title}, f"/contracts/{contract}")
        return {"zh_Hans": zh, "en": en or zh}, contract
    finally:
        await conn.close()


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_person_in_two_organisations_switches_between_them(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    email = f"two-hats-{uuid.uuid4().hex[:8]}@demo.market"
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        await j.newcomer("双岗志愿者", email)
        for admin in ("ngo01@demo.market", "csr01@demo.market"):
            page = await j.person(admin)
            await click_link(page, 'main a[href$="/members"]')
            await fill(page, {"email": email, "role": "staff"}, 'main form[action$="/members"]')
            await press(page, (await page.locator('main form[action$="/members"]').get_attribute("action")), twice=True)
            await expect(page.locator("main tr", has_text=email)).to_have_count(1)
        person = await j.person(email)
        # Each administrator's adding is told to the person, with the way to act for it.
        await click_link(person, "/inbox")
        added = person.locator("ul.inbox li.unread", has_text=words["added"])
        await expect(added).to_have_count(2)
        await click_link(person, 'ul.inbox li.unread a[href^="/inbox/"]')
        assert path_of(person) == "/account"
        await expect(person.locator("main .alert")).to_contain_text(words["opened"])
        await click_link(person, "/inbox")
        await press(person, "/inbox/read")
        await click_link(person, 'header a[href="/dashboard"]')
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

        ngo, contract = await tell_the_ngo(live_server, "ngo01@demo.market")
        await click_link(person, "/inbox")
        await expect(person.locator("ul.inbox li").first).to_contain_text(f"{words['for']}{ngo[locale]}")
        await j.seen(person, "two-organisations-inbox")
        await click_link(person, 'ul.inbox li a[href^="/inbox/"]')
        assert path_of(person) == "/account"
        await expect(person.locator("main .alert")).to_contain_text(words["opened"])
        await expect(person.locator("#act-as option[selected]")).to_contain_text(words["provider"])
        await j.seen(person, "two-organisations-notice-switch")
        await press(person, "/account/act-as", twice=True)
        assert path_of(person) == f"/contracts/{contract}"
        await expect(person.locator("h1")).to_contain_text(words["contract"])
        await click_link(person, "/inbox")
        await expect(person.locator("ul.inbox li.unread")).to_have_count(0)
    finally:
        await j.close()
