"""A form sent twice before its answer comes (a double click) sends one request: the server acts once on
a repeat, but cannot replay an answer that logs someone in, so a double-clicked sign-up once ended on
"an account with this address exists", logged out. Sent again after Back, it goes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.browser.journey import Journey, click_link, fill, path_of

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]


async def test_a_sign_up_sent_twice_at_once_is_sent_once_and_logs_in(browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        page = await j.person(None)
        await click_link(page, 'header a[href="/signup"]')
        await fill(page, {"display_name": "急性子", "email": f"twice-{uuid.uuid4().hex[:8]}@demo.market",
                          "password": "a long pass phrase"}, 'main form[action="/signup"]')
        sent = []
        page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        form = page.locator('main form[action="/signup"]')
        # the second press 50 ms after the first, while it is on its way (hashing the password takes longer)
        async with page.expect_navigation():
            await form.evaluate("f => { f.requestSubmit(); setTimeout(() => f.requestSubmit(), 50); }")
        await page.wait_for_load_state()
        await asyncio.sleep(0.5)  # a second answer would have replaced the page by now
        assert len(sent) == 1, sent
        assert path_of(page) == "/dashboard"
        await page.go_back()  # the form again, from the cache: it may be sent again (and is refused, the address taken)
        async with page.expect_navigation():
            await page.locator('main form[action="/signup"]').evaluate("f => f.requestSubmit()")
        assert len(sent) == 2
    finally:
        await j.close()
