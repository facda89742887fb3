"""The pages each kind of person reaches from their workbench (a visitor from the home page), one of
each shape, pass axe-core's rules for WCAG 2.2 A and AA and its best practices: in English on a
320 px phone, where nothing may make the page scroll sideways, and in Chinese on a desktop. Residents
of every age use the surveys and the lists; a bureau's staff work a whole day in them. (On a phone, a
table wider than the screen once scrolled with no way to reach it by keyboard; a header cell's hidden
text and a chart's least width made pages wider than a 320 px screen.)

The person's links are followed as `market bench walk` follows them, on a server of this test's own:
opening a notice marks it read and a first look at the surveys makes them, which the tests on the
shared demo server would notice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from market.benches.walk import Fetch, walk
from tests.browser.conftest import LiveServer, server_db, serving
from tests.browser.journey import DESKTOP, Journey

pytestmark = [pytest.mark.browser]

PEOPLE = [None, "bureau@demo.market", "hubin.office@demo.market", "ngo01@demo.market", "csr01@demo.market",
          "evaluator@demo.market", "evaluator.expert1@demo.market", "resident1@demo.market", "admin@demo.market"]
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                "best-practice"]},
         "resultTypes": ["violations"]}
PAGES = 16  # a person; one page of each shape
NARROWEST = {"width": 320, "height": 640}  # the width WCAG's reflow asks a page to fit


@pytest.fixture(scope="module")
def own_server() -> Iterator[LiveServer]:
    with serving() as server:
        yield server


async def wide_pages(server: LiveServer) -> dict[str | None, list[str]]:
    """Pages a person's first few may not reach that are wide on a phone: an awarded call's ranking, a
    delivery report's targets and spending, a members list, the funds' charts."""
    conn = await server_db(server)
    try:
        call = await conn.fetchval("select call_id from awards order by id limit 1")
        report = await conn.fetchrow("select contract_id, position from delivery_reports "
                                     "where status = 'submitted' order by contract_id, position limit 1")
        bureau = await conn.fetchval("select m.organisation_id from memberships m join users u on u.id = m.user_id "
                                     "where u.email = 'bureau@demo.market'")
        funds = [f"/funds/{r['id']}" for r in await conn.fetch("select id from funds order by id")]
    finally:
        await conn.close()
    return {None: [f"/calls/{call}", *funds],
            "bureau@demo.market": [f"/calls/{call}", f"/contracts/{report['contract_id']}/reports/{report['position']}",
                                   f"/organisations/{bureau}/members"]}


def checker(page: Page, who: str, found: list[str], checked: list[str]) -> Fetch:
    """A `walk` fetch that opens each page in this person's browser and runs axe on it."""

    async def fetch(path: str) -> tuple[int, str, bytes]:
        try:
            response = await page.goto(path)
        except PlaywrightError:  # a download (a receipt, a workbook) is not a page
            return 0, "", b""
        kind = response.headers.get("content-type", "") if response else ""
        if response is None or not response.ok or not kind.startswith("text/html"):
            return response.status if response else 0, kind, b""
        checked.append(path)
        # Reflow (WCAG 1.4.10): nothing makes the page scroll sideways; a wide table scrolls in itself.
        wide = await page.evaluate("document.documentElement.scrollWidth")
        if wide > page.viewport_size["width"]:
            found.append(f"{who} {path}: reflow: the page is {wide} px wide on a {page.viewport_size['width']} px screen")
        for rule in (await page.evaluate("options => axe.run(document, options)", RULES))["violations"]:
            found.append(f"{who} {path}: {rule['id']} [{rule['impact']}] {rule['help']}: "
                         + "; ".join(str(node["target"]) for node in rule["nodes"][:3]))
        return response.status, kind, (await page.content()).encode()
    return fetch


@pytest.mark.parametrize("locale, viewport", [
    # Each on a worker of its own where the suite runs in parallel: a few hundred pages each.
    # English on the phone: its longer words are what overflow a narrow screen.
    pytest.param("en", NARROWEST, id="en-phone", marks=pytest.mark.xdist_group(name="accessibility-en")),
    pytest.param("zh_Hans", DESKTOP, id="zh_Hans-desktop", marks=pytest.mark.xdist_group(name="accessibility-zh"))])
async def test_the_pages_people_reach_pass_axe(locale, viewport, browser, own_server, screenshot_dirs):
    j = Journey(browser, own_server.base_url, screenshot_dirs, locale=locale)
    found: list[str] = []
    checked: list[str] = []
    wide = await wide_pages(own_server)
    try:
        for email in PEOPLE:
            page = await j.person(email, viewport)
            # With every page this person opens, as its own script: a quarter quicker than injected after.
            await page.context.add_init_script(Axe().axe_script)
            fetch = checker(page, email or "visitor", found, checked)
            visits = await walk(fetch, start="/dashboard" if email else "/", pages=PAGES, per_shape=1)
            assert len(visits) >= 10, email
            for path in wide.get(email, []):
                await fetch(path)
    finally:
        await j.close()
    assert len(checked) >= 100
    assert found == [], "\n".join(found)
