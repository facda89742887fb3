"""What the journey tests do through the pages: log in, click what a person would click, fill forms, and
let time pass on a test-mode server's clock. Only links and buttons on the pages are used to get around;
assertions may read the JSON twins."""

from __future__ import annotations

import asyncio
import email
import json
import re
import shutil
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, BrowserContext, Page, expect
from playwright.async_api import Error as PlaywrightError

from market.core.i18n import DEFAULT_LOCALE, LOCALE_DIR
from market.demo import DEMO_PASSWORD, TITLES_EN

TIMEOUT_MS = 20_000
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
CATALOGUE = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"


@dataclass
class Journey:
    browser: Browser
    base_url: str
    shots: list[Path]
    locale: str = "zh_Hans"
    pages: list[tuple[str, str]] = field(default_factory=list)  # (url, visible text) of every page seen
    contexts: list[BrowserContext] = field(default_factory=list)
    people: dict[tuple[str | None, int, int], Page] = field(default_factory=dict)  # by email and screen size
    # People whose account this journey switched to another language than the default: switched back
    # when it closes, since the language is kept with the account and other journeys on the shared
    # demo server log in as the same people expecting Chinese.
    switched: list[Page] = field(default_factory=list)

    def title(self, zh: str) -> str:
        """A demo project's or call's title as this journey's pages show it (the English pages give the
        English title; a call made for a project is named after it)."""
        return TITLES_EN[zh] if self.locale == "en" else zh

    async def person(self, email: str | None, viewport: dict[str, int] | None = None) -> Page:
        """A browser of its own for one person, logged in through the real form (or not, for None).
        The same person again goes on in the browser they had, back at their workbench, and logs in
        anew only if their log-in has run out (the journey let time pass)."""
        size = viewport or DESKTOP
        key = (email, size["width"], size["height"])
        page = self.people.get(key)
        if page is not None:
            await page.goto("/dashboard" if email else "/")
            if email and path_of(page) != "/dashboard":
                await self.log_in(page, email)
            return page
        context = await self.browser.new_context(base_url=self.base_url, viewport=size)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = self.people[key] = await context.new_page()
        if self.locale == "en":
            await page.goto("/lang/en?next=/")
        else:
            await page.goto("/")
        if email:
            await page.locator('header.site a[href="/login"]').click()
            await self.log_in(page, email)
        return page

    async def newcomer(self, name: str, email: str, password: str = DEMO_PASSWORD) -> Page:
        """Someone new to the market, signed up through the header's link (the form sent twice, as the
        impatient do), at their workbench."""
        page = await self.person(None)
        await click_link(page, 'header a[href="/signup"]')
        await fill(page, {"display_name": name, "email": email, "password": password})
        await press(page, "/signup", twice=True)
        return page

    async def log_in(self, page: Page, email: str) -> None:
        """Through the log-in form on the page (the one the header's link or an expired log-in led to)."""
        form = page.locator('main form[action^="/login"]')
        await form.locator('input[name="email"]').fill(email)
        await form.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await form.locator('button[type="submit"]').click()
        await page.wait_for_url("**/dashboard")
        # A person's language is kept with their account, and another test on the same server may
        # have switched it: this journey says which it reads.
        await page.goto(f"/lang/{self.locale}?next=/dashboard")
        if self.locale != DEFAULT_LOCALE and page not in self.switched:
            self.switched.append(page)

    async def close(self) -> None:
        for page in self.switched:
            if not page.is_closed():
                await page.goto(f"/lang/{DEFAULT_LOCALE}?next=/dashboard")
        for context in self.contexts:
            await context.close()

    async def seen(self, page: Page, shot: str | None = None) -> str:
        """Note the page (for the language check) and, if named, save a screenshot of it."""
        await page.wait_for_load_state()
        assert await page.locator("html").get_attribute("lang") == ("en" if self.locale == "en" else "zh-Hans")
        text = await page.locator("body").inner_text()
        assert "500" not in (await page.title())[:5], f"{page.url} is an error page"
        self.pages.append((page.url, text))
        if shot:
            first = self.shots[0] / f"{shot}-{self.locale}.png"
            await page.screenshot(path=str(first), full_page=True)
            for other in self.shots[1:]:
                shutil.copyfile(first, other / first.name)
        return text

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> object:
        request = urllib.request.Request(self.base_url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())

    async def let_time_pass(self, page: Page, days: float) -> datetime:
        """The test-mode clock moves forward, as it would by waiting (the page's own CSRF cookie goes
        along); returns the server's time now, where the deployment is."""
        token = next(c["value"] for c in await page.context.cookies() if c["name"] == "market_csrf")
        response = await page.request.post("/_test/clock", data={"seconds": days * 86400},
                                           headers={"x-csrftoken": token})
        assert response.status == 201, await response.text()
        return datetime.fromisoformat((await response.json())["now"]).astimezone(ZoneInfo("Asia/Shanghai"))

    async def now(self, page: Page) -> datetime:
        return await self.let_time_pass(page, 0)


def emailed_link(mail_dir: Path, to: str, path: str) -> tuple[str, str]:
    """The subject of the one email a server wrote to this address (the local mail backend's files)
    and the path of the link in it that starts with `path`."""
    (message,) = [m for m in (email.message_from_bytes(p.read_bytes(), policy=policy.default)
                              for p in mail_dir.glob("*.eml")) if m["To"] == to]
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(rf"https?://\S+?({re.escape(path)}\S*)", body)
    assert found is not None, body
    return str(message["Subject"]), found.group(1)


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


async def press(page: Page, form_action: str, *, twice: bool = False, button: str | None = None) -> None:
    """Submit the form that posts to this action (with its first button, or the one named); `twice`
    double-clicks it, as impatient people do. A confirmation step, where one is asked, is confirmed."""
    form = page.locator(f'main form[action="{form_action}"]').first
    for box in await form.locator('input[type="checkbox"][required]').all():
        await box.check()  # "I understand this cannot be undone"
    # Not the unseen default button nor a place step (templates/_places.html): the form's own.
    clickable = form.locator(button or 'button[type="submit"]:not([data-default]):not([name="_place"]), '
                                       'button:not([type])').first
    if twice:
        await page.evaluate("window.journeyPressed = true")
        await clickable.dblclick()
        await new_document(page)
    else:
        async with page.expect_navigation():
            await clickable.click()
    await confirm_if_asked(page, form_action)


async def new_document(page: Page) -> None:
    """Wait for the answer to a double click: the second submission aborts the first one's navigation,
    the answer may come at the same address, and it may have loaded already, so neither a navigation,
    a load event nor a change of address tells it; a mark left on the old document does."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT_MS / 1000
    while True:
        try:
            if await page.evaluate("!window.journeyPressed && document.readyState === 'complete'"):
                return
        except PlaywrightError:
            pass  # the old document went away while we asked
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{page.url}: no new page came after a double click")
        await asyncio.sleep(0.05)


async def confirm_if_asked(page: Page, form_action: str) -> None:
    """Irreversible steps ask first: a page whose form posts to the same action with a box to tick or
    a hidden `confirm`. Tick it and send."""
    again = page.locator(f'main form[action="{form_action}"]')
    if await again.count() == 0:
        return
    form = again.first
    asks = form.locator('input[type="checkbox"][required], input[name="confirm"]')
    if await asks.count() == 0:
        return
    for box in await form.locator('input[type="checkbox"][required]').all():
        await box.check()
    async with page.expect_navigation():
        await form.locator('button[type="submit"], button:not([type])').last.click()


async def fill(page: Page, values: dict[str, str], scope: str = "main form") -> None:
    form = page.locator(scope).first
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]').first
        tag = await field.evaluate("e => e.tagName.toLowerCase()")
        if tag == "select":
            await field.select_option(value)
        else:
            await field.fill(value)


async def click_link(page: Page, href_or_selector: str, text: str | None = None) -> None:
    """Follow a link on the page, as a person would (never a typed address): an exact href, or a CSS
    selector for it, optionally the one showing this text."""
    selector = href_or_selector if not href_or_selector.startswith("/") else f'a[href="{href_or_selector}"]'
    links = page.locator(selector, has_text=text) if text else page.locator(selector)
    shown = [link for link in await links.all() if await link.is_visible()]
    link = shown[0] if shown else links.first
    menu = page.locator("header .menu-link")
    if not shown and await menu.is_visible() and await link.evaluate("a => !!a.closest('header nav')"):
        await menu.click()  # on a phone the site's links are behind its menu
    async with page.expect_navigation():
        await link.click()


async def step_place(page: Page, name: str, scope: str = "main form") -> None:
    """Take one of a form's place steps (templates/_places.html): the form comes back as typed, at
    the level of the place with this name."""
    async with page.expect_navigation():
        await page.locator(f'{scope} button[name="_place"]', has_text=name).first.click()


async def expect_text(page: Page, text: str) -> None:
    await expect(page.locator("main")).to_contain_text(text)


async def choose(page: Page, name: str, text: str, scope: str = "main form") -> None:
    """Pick the option of a <select> whose text contains these words."""
    select = page.locator(scope).first.locator(f'select[name="{name}"]')
    value = await select.locator("option", has_text=text).first.get_attribute("value")
    await select.select_option(value)


def interface_strings() -> tuple[dict[str, str], dict[str, str]]:
    """From Babel's catalogue: English message fragments long enough to be unmistakable (their
    literal text between parameters), and their Chinese translations, each mapped to its message id."""
    from babel.messages.pofile import read_po

    english: dict[str, str] = {}
    chinese: dict[str, str] = {}
    with CATALOGUE.open("rb") as po:
        for message in read_po(po):
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text, table, least in ((ids, english, 20), (strings, chinese, 8)):
                for one in text:
                    for piece in re.split(r"%\(\w+\)[sd]|%%|\n", one):
                        piece = piece.strip(" .:：。，,;；()（）“”\"")
                        if len(piece) >= least and not re.fullmatch(r"[\w.@/-]+", piece):
                            table[piece] = ids[0]
    return english, chinese


def untranslated(pages: list[tuple[str, str]], locale: str) -> list[str]:
    english, chinese = interface_strings()
    wrong = chinese if locale == "en" else english
    found = []
    for url, text in pages:
        flat = " ".join(text.split())
        found += [f"{url}: {piece!r} (message {msgid!r})" for piece, msgid in wrong.items() if piece in flat]
    return sorted(set(found))
