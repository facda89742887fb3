"""A resident on a 360-px phone, in Chinese and in English, reads the public lists and a bureau its
workbench: the site's menu folds behind one link, so each page's own heading is on the first screen, and
each list's rows are cards as wide as the phone, each value named by its column, where a table had
wrapped the titles a character a line and scrolled sideways; a funder's payments of a pledge too."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.journey import PHONE, Journey, click_link, path_of

# On the shared demo server, which the dashboards' test reads too (neither changes anything).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

LISTS = ["/needs", "/projects", "/calls", "/organisations", "/resources", "/funds", "/fairs"]
# The first screen's height, less the room the heading needs.
FIRST_SCREEN = PHONE["height"] - 100


async def _rows_are_cards(page: Page, table: str) -> None:
    """Each row of the table is a card as wide as the page's column, nothing scrolls sideways, and every
    cell but the card's heading is named by its column (the header row, hidden on a phone)."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    cards = await page.evaluate("""(selector) => {
        const table = document.querySelector(selector);
        const width = table.getBoundingClientRect().width;
        // A column whose header is for screen readers alone (actions) holds links that name themselves.
        const heads = [...table.querySelectorAll("thead th")].map(
          (th) => th.querySelector(".visually-hidden") ? null : th.innerText.trim());
        return {
          scrolls: table.scrollWidth > table.clientWidth + 1,
          share: width / document.querySelector("main").getBoundingClientRect().width,
          rows: [...table.querySelectorAll("tbody tr")].slice(0, 5).map((tr) => [...tr.cells].map((td, i) => ({
            share: td.getBoundingClientRect().width / width,
            label: td.dataset.label ?? null,
            head: heads[i] ?? null,
            shown: getComputedStyle(td, "::before").content,
          }))),
        };
    }""", table)
    assert not cards["scrolls"] and cards["share"] > 0.75
    assert cards["rows"], f"{page.url}: {table} has no rows"
    for cells in cards["rows"]:
        assert cells[0]["share"] > 0.95, cells  # the card's heading spans the list
        for cell in cells[1:]:
            if cell["head"] is None or cell["label"] is None:
                continue
            assert cell["label"] == cell["head"]
            assert cell["shown"] not in ("none", "normal", ""), cell
        if cells[0]["head"] is not None:  # a list with a header row names every other cell
            assert all(c["label"] for c in cells[1:] if c["head"]), cells


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_a_resident_reads_the_public_lists_on_a_phone(locale, browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs, locale=locale)
    try:
        visitor = await j.person(None, viewport=PHONE)
        menu = visitor.locator("header nav")
        for href in LISTS:
            await expect(menu).to_be_hidden()
            await visitor.locator("header .menu-link").click()
            await expect(menu).to_be_visible()
            await click_link(visitor, f'header nav a[href="{href}"]')
            assert path_of(visitor) == href
            await expect(menu).to_be_hidden()
            heading = await visitor.locator("main h1").bounding_box()
            assert heading is not None and heading["y"] + heading["height"] < FIRST_SCREEN
            await _rows_are_cards(visitor, "main table.list")
            await j.seen(visitor, f"phone-list{href.replace('/', '-')}")

        # A bureau's workbench: its task lists are cards too, and the way back to it is on the first line
        # of every page, not in the menu.
        bureau = await j.person("bureau@demo.market", viewport=PHONE)
        await expect(bureau.locator("header nav")).to_be_hidden()
        await _rows_are_cards(bureau, "#workbench table.tasks")
        await j.seen(bureau, "phone-workbench")
        await click_link(bureau, "#workbench table.tasks a")
        assert path_of(bureau) != "/dashboard"
        await bureau.locator('header .tools a[href="/dashboard"]').click()
        await bureau.wait_for_url("**/dashboard")
        # A contract's evaluations and milestones, read on site visits.
        await click_link(bureau, "#my-contracts")
        await click_link(bureau, 'table.contracts tbody tr[data-status="in_delivery"] td:nth-child(2) a')
        await _rows_are_cards(bureau, "table.milestones")
        await _rows_are_cards(bureau, "table.outcomes")
        await j.seen(bureau, "phone-contract")
        # A funder's paid pledge, from its workbench: its payments and where the money went are cards
        # (the tables had run past the phone's edge). The demo's csr01 paid pledge 2 by a transfer its buyer confirmed.
        funder = await j.person("csr01@demo.market", viewport=PHONE)
        await click_link(funder, '#giving a[href="/pledges/2"]')
        await _rows_are_cards(funder, "table#payments")
        await _rows_are_cards(funder, "table#trail")
        await j.seen(funder, "phone-pledge-payments")
        # On a desktop the menu is the header's row of links, with no link to open it.
        desktop = await j.person(None)
        await expect(desktop.locator("header nav")).to_be_visible()
        await expect(desktop.locator("header .menu-link")).to_be_hidden()
        desktop_bureau = await j.person("bureau@demo.market")
        await expect(desktop_bureau.locator('header a[href="/dashboard"]:visible')).to_have_count(1)
    finally:
        await j.close()
