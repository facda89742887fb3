"""A social organisation's administrator adds a colleague who has no account yet, from the workbench's
members link: the colleague is emailed an invitation, opens it, is refused a password too short next to
its field, creates their account there and lands on the workbench acting for the organisation, told so;
the administrator then finds them among the members and the invitation gone. In Chinese and in English."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link, emailed_link, fill, path_of, press

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

ADMIN = "ngo01@demo.market"
WORDS = {"zh_Hans": {"invited": "已向其发送加入邀请", "pending": "已邀请、尚未加入", "subject": "邀请您加入",
                     "short": "至少需要 10 个字符", "joined": "您已加入该组织", "role": "财务"},
         "en": {"invited": "we have emailed it an invitation", "pending": "Invited, not joined yet",
                "subject": "invites you to join", "short": "at least 10 characters", "joined": "You have joined the organisation",
                "role": "Finance"}}


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_colleague_with_no_account_is_invited_and_joins(locale, browser, live_server, screenshot_dirs):
    words = WORDS[locale]
    colleague = f"new-colleague-{uuid.uuid4().hex[:8]}@demo.market"
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        admin = await j.person(ADMIN)
        await click_link(admin, 'main a[href$="/members"]')
        members = path_of(admin)
        await fill(admin, {"email": colleague}, f'main form[action="{members}"]')
        await admin.locator(f'main form[action="{members}"] select[name="role"]').select_option("finance")
        await press(admin, members, twice=True)
        await expect(admin.locator("main .alert.success")).to_contain_text(words["invited"])
        pending = admin.locator("main table", has=admin.locator("td", has_text=colleague))
        await expect(admin.locator("main h2", has_text=words["pending"])).to_be_visible()
        await expect(pending.locator("tr", has_text=colleague)).to_contain_text(words["role"])
        await j.seen(admin, "members-invited")

        subject, link = emailed_link(live_server.log.parent / "mail", colleague, "/invitations/")
        assert words["subject"] in subject
        newcomer = await j.person(None)
        await newcomer.goto(link)
        await expect(newcomer.locator("main")).to_contain_text(colleague)
        await fill(newcomer, {"display_name": "新同事", "password": "short"}, f'main form[action="{link}"]')
        await press(newcomer, link)
        await expect(newcomer.locator("#e-password")).to_contain_text(words["short"])
        await fill(newcomer, {"password": "a long pass phrase 3"}, f'main form[action="{link}"]')
        await press(newcomer, link, twice=True)
        assert path_of(newcomer) == "/dashboard"
        await expect(newcomer.locator("main .alert.success")).to_contain_text(words["joined"])
        await j.seen(newcomer, "joined-by-invitation")
        me = await (await newcomer.request.get("/api/me")).json()
        assert me["email"] == colleague and me["role"] == "finance"

        await admin.goto(members)
        await expect(admin.locator("main tr", has_text=colleague)).to_contain_text(words["role"])
        await expect(admin.locator("main h2", has_text=words["pending"])).to_have_count(0)
    finally:
        await j.close()
