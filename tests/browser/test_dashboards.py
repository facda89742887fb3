"""Every demo role logs in through the real form in Debian's headless Chromium, sees its own dashboard in
Chinese (the default), switches to English with the header's language link, and logs out.

A full-page screenshot per role and language is saved to a pytest temporary directory, and also to
$SCREENSHOT_DIR when that is set, for a person to look at.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect

from market.core.i18n import LOCALE_DIR, translations
from market.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

TIMEOUT_MS = 15_000
PENDING_WARNING = ("Your organisation is waiting for the platform to verify it. Until then you can edit its profile "
                   "and upload its registration documents, but not act for it.")
CATALOGUE = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"


@dataclass(frozen=True)
class Role:
    key: str
    email: str
    dashboard: str
    heading: str  # the English message id of the dashboard's heading
    pending: bool = False


ROLES = [
    Role("platform-admin", "admin@demo.market", "platform", "Platform dashboard"),
    Role("buyer-admin", "bureau@demo.market", "buyer", "Buyer dashboard"),
    Role("buyer-finance", "bureau.finance@demo.market", "buyer", "Buyer dashboard"),
    Role("street-office", "hubin.office@demo.market", "buyer", "Buyer dashboard"),
    Role("community", "hubin.community@demo.market", "buyer", "Buyer dashboard"),
    Role("provider-admin", "ngo01@demo.market", "provider", "Social organisation dashboard"),
    Role("provider-staff", "ngo01.staff@demo.market", "provider", "Social organisation dashboard"),
    Role("pending-provider", "ngo31@demo.market", "provider", "Social organisation dashboard", pending=True),
    Role("enterprise-funder", "csr01@demo.market", "funder", "Funder dashboard"),
    Role("individual-donor", "donor@demo.market", "funder", "Funder dashboard"),
    Role("evaluator", "evaluator.expert1@demo.market", "evaluator", "Evaluator dashboard"),
    Role("resident", "resident1@demo.market", "resident", "Resident dashboard"),
]


def chinese(msgid: str) -> str | None:
    """The zh_Hans translation the app itself would show, or None when the catalogue has none."""
    text = translations("zh_Hans").gettext(msgid)
    return text if text != msgid else None


async def screenshot(page: Page, dirs: list[Path], name: str) -> None:
    first = dirs[0] / f"{name}.png"
    await page.screenshot(path=str(first), full_page=True)
    for other in dirs[1:]:
        shutil.copyfile(first, other / first.name)


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


@pytest.mark.parametrize("role", ROLES, ids=[r.key for r in ROLES])
async def test_role_sees_its_dashboard_in_both_languages(role: Role, browser, live_server, screenshot_dirs) -> None:
    problems: list[str] = []  # Translation gaps are collected, so the rest of the journey is still checked.
    context = await browser.new_context(base_url=live_server.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = await context.new_page()
    try:
        # Log in through the real form.
        await page.goto("/login")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
        form = page.locator('main form[action="/login"]')
        await form.locator('input[name="email"]').fill(role.email)
        await form.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await form.locator('button[type="submit"]').click()
        await page.wait_for_url("**/dashboard")

        # Chinese, the default language.
        html = page.locator("html")
        heading = page.locator("h1[data-dashboard]")
        warning = page.locator("main .alert.warning")
        await expect(html).to_have_attribute("lang", "zh-Hans")
        await expect(heading).to_have_attribute("data-dashboard", role.dashboard)
        zh_heading = (await heading.inner_text()).strip()
        expected = chinese(role.heading)
        if expected is None:
            problems.append(f"zh_Hans: no translation of {role.heading!r} in {CATALOGUE}"
                            f"{'' if CATALOGUE.exists() else ' (the file does not exist)'}; the page shows "
                            f"{zh_heading!r}")
        elif zh_heading != expected:
            problems.append(f"zh_Hans heading is {zh_heading!r}, the catalogue says {expected!r}")
        if zh_heading == role.heading:
            problems.append(f"zh_Hans page (html lang=zh-Hans) shows the English heading {zh_heading!r}")
        if role.pending:
            await expect(warning).to_be_visible()
            await expect(warning.locator('a[href^="/organisations/"]')).to_be_visible()
            zh_warning = chinese(PENDING_WARNING)
            if zh_warning is not None:
                await expect(warning).to_contain_text(zh_warning)
        else:
            await expect(warning).to_have_count(0)
        await screenshot(page, screenshot_dirs, f"{role.key}-zh-Hans")

        # Switch to English with the header's language link.
        await page.locator('header.site ul.langs a[hreflang="en"]').click()
        await expect(html).to_have_attribute("lang", "en")
        await page.wait_for_load_state()
        assert path_of(page) == "/dashboard", f"the language switch went to {page.url}, not back to the dashboard"
        await expect(heading).to_have_attribute("data-dashboard", role.dashboard)
        await expect(heading).to_have_text(role.heading)
        await expect(page.locator('header.site ul.langs [aria-current="true"]')).to_have_text("English")
        if role.pending:
            await expect(warning).to_contain_text(PENDING_WARNING)
        else:
            await expect(warning).to_have_count(0)
        await screenshot(page, screenshot_dirs, f"{role.key}-en")

        # Log out with the header's button.
        await page.locator('header.site form[action="/logout"] button[type="submit"]').click()
        await page.wait_for_url(lambda url: urlsplit(url).path == "/")
        await expect(page.locator('header.site form[action="/logout"]')).to_have_count(0)
        await expect(page.locator('header.site a[href="/login"]')).to_be_visible()
        assert "market_session" not in {c["name"]: c["value"] for c in await context.cookies() if c["value"]}, \
            "the session cookie is still set after logging out"
        await page.goto("/dashboard")
        assert path_of(page) == "/login", f"after logging out /dashboard went to {page.url}, not the log-in page"
        await expect(page.locator("h1[data-dashboard]")).to_have_count(0)
    finally:
        await context.close()
    assert not problems, "\n".join(problems)
