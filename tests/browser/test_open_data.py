"""A visitor (a journalist, a researcher) goes from any page's footer to the open data, downloads every
release in one file and finds in it the call whose page they came from, in either language."""

from __future__ import annotations

import gzip
import json

import pytest
from playwright.async_api import expect

from tests.browser.journey import Journey, click_link

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_visitor_downloads_every_release_from_the_footer(locale, browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        visitor = await j.person(None)
        await click_link(visitor, 'header a[href="/calls"]')
        await click_link(visitor, 'main a[href^="/calls/"]')
        call = int(visitor.url.split("/calls/")[1].split("?")[0].split("#")[0])
        await click_link(visitor, 'footer a[href="/opendata"]')
        await expect(visitor.locator("h1")).to_have_text("开放数据" if locale == "zh_Hans" else "Open data")
        async with visitor.expect_download() as started:
            await visitor.locator('main a[href="/opendata/ocds-releases.json.gz"]').click()
        package = json.loads(gzip.decompress((await (await started.value).path()).read_bytes()))
        assert f"ocds-market-call-{call}" in {r["ocid"] for r in package["releases"]}
        # The page now tells the file it served: how many releases, its checksum.
        await visitor.reload()
        await expect(visitor.locator("#bulk .facts")).to_contain_text(f"{len(package['releases'])}")
        shown = await visitor.locator("#bulk code.digest").inner_text()
        assert shown == j.api("/api/opendata")["bulk"]["sha256"]
        await j.seen(visitor, "open-data")
    finally:
        await j.close()
