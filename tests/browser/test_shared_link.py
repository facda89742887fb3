"""A visitor opens a link someone shared in English (`?lang=en`) and goes on through the menu: every
page after it is in English too, until they choose Chinese in the language menu, which then stays."""

from __future__ import annotations

import pytest

from tests.browser.journey import Journey, click_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]


async def test_a_link_shared_in_english_keeps_english_through_the_menu(browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        visitor = await j.person(None)
        await j.seen(visitor)  # Chinese until the link
        j.locale = "en"
        await visitor.goto("/needs?lang=en")  # the shared link, as a chat app opens it
        assert "Needs list" in await j.seen(visitor)
        for href, heading in (("/projects", "Project list"), ("/calls", "Calls")):
            await click_link(visitor, f'header a[href="{href}"]')
            assert heading in await j.seen(visitor, f"shared-link{href.replace('/', '-')}")
        j.locale = "zh_Hans"
        await click_link(visitor, 'header a[hreflang="zh-Hans"]')
        await click_link(visitor, 'header a[href="/needs"]')
        assert "需求清单" in await j.seen(visitor)
    finally:
        await j.close()
