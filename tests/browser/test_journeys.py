"""Every role's journey through the real pages, in Debian's headless Chromium against a real `market serve`
whose clock the test moves forward (MARKET_TEST_CLOCK), as time passes: a resident raises a need and a
neighbour supports it; the bureau makes it a project, publishes a call; NGOs ask and bid; evaluators
find their panel, read the bids, declare and score; the chair records the consensus; the bureau awards;
after the notice the contract is prepared and signed by both; a funder pledges, pays by transfer, the
bureau confirms; the first milestone is accepted and the provider paid; and at a live fair a paddle
raised on a phone shows on the board in another browser. Double clicks and Back + resubmit are part of
it. Screenshots of the key pages go to a pytest temporary directory (and $SCREENSHOT_DIR if set).

Then the same journey in English, and no interface string is left untranslated: no English message of
Babel's catalogue on a Chinese page, no Chinese translation on an English page.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from playwright.async_api import Page, expect

from tests.browser.journey import (
    PHONE,
    Journey,
    choose,
    click_link,
    fill,
    path_of,
    press,
    untranslated,
)
from tests.browser.test_docking_rules import twice

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="journeys")]

WORDS = {
    "zh_Hans": {"need": "楼道灯坏了老人夜里出门不安全", "project": "东坡路社区楼道安全照明与夜间陪护",
                "call": "东坡路社区楼道安全照明与夜间陪护服务采购"},
    "en": {"need": "Stairwell lights broken, older people unsafe at night",
           "project": "Stairwell lighting and night escort in Dongpo Road", "call": "Stairwell lighting and night escort"},
}


async def raise_and_support_a_need(j: Journey, title: str) -> int:
    resident = await j.person("resident1@demo.market")
    await click_link(resident, "/needs/new")
    await fill(resident, {"title": title, "description": "三号楼和五号楼楼道灯坏了一个多月，独居老人晚上下楼很危险。",
                          "beneficiaries": "楼里的独居老人", "beneficiary_count": "40", "urgency": "high"},
               'main form[action="/needs/new"]')
    await j.seen(resident, "resident-need-form")
    await press(resident, "/needs/new", twice=True)  # a double click raises one need
    need_id = int(re.search(r"/needs/(\d+)", resident.url).group(1))
    await j.seen(resident, "resident-need")
    assert [n["id"] for n in j.api("/api/needs?q=" + quote(title))["items"] if n["title"] == title] == [need_id]
    neighbour = await j.person("resident2@demo.market")
    await click_link(neighbour, "/needs")
    await click_link(neighbour, f"/needs/{need_id}")
    await press(neighbour, f"/needs/{need_id}/support", twice=True)
    await j.seen(neighbour)
    assert j.api(f"/api/needs/{need_id}")["supporters"] == 1
    return need_id


async def make_it_a_project_and_publish_a_call(j: Journey, need_id: int, words: dict[str, str]) -> tuple[Page, int]:
    bureau = await j.person("bureau@demo.market")
    await j.seen(bureau, "bureau-workbench")
    await click_link(bureau, f"/needs/{need_id}")  # "needs to decide", on the workbench
    await click_link(bureau, f"/projects/new?need={need_id}")
    await fill(bureau, {"title_zh": words["project"], "description": "修复楼道照明并组织志愿者夜间陪护独居老人出行，为期一年。",
                        "budget_yuan": "60000", "budget_line": "2026年福利彩票公益金"}, 'main form[action="/projects/new"]')
    await choose(bureau, "catalogue_entry_id", "05.01.01", 'main form[action="/projects/new"]')
    await j.seen(bureau, "bureau-project-form")
    await press(bureau, "/projects/new")
    project_url = path_of(bureau)
    project_id = int(project_url.rsplit("/", 1)[1])
    # Back, and send the form again: still one project.
    await bureau.go_back()
    await press(bureau, "/projects/new")
    assert [p["id"] for p in j.api("/api/projects?q=" + quote(words["project"]))["items"]
            if p["title_zh"] == words["project"]] == [project_id]
    assert path_of(bureau) == project_url  # the first result, or the need is taken already
    await j.seen(bureau, "bureau-project")
    # The neighbour who supported the need is told, and the notice leads to the project.
    neighbour = await j.person("resident2@demo.market")
    await click_link(neighbour, "/inbox")
    await click_link(neighbour, "ul.inbox li.unread a", words["project"])
    assert path_of(neighbour) == project_url

    await click_link(bureau, f"/projects/{project_id}/calls/new")
    form = f'main form[action="/projects/{project_id}/calls/new"]'
    deadline = (await j.now(bureau) + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    await fill(bureau, {"title_zh": words["call"], "description": "征集社会组织修复楼道照明、组织夜间陪护，详见评分办法。",
                        "budget_ceiling_yuan": "60000", "service_start": "2027-03-01", "service_end": "2028-02-29",
                        "service_place": "东坡路社区", "deadline_at": deadline}, form)  # the usual criteria stay
    await j.seen(bureau, "bureau-call-form")
    await press(bureau, f"/projects/{project_id}/calls/new")
    call_id = int(re.search(r"/calls/(\d+)", bureau.url).group(1))
    await press(bureau, f"/calls/{call_id}/publish", twice=True)
    await j.seen(bureau, "bureau-call-published")
    assert j.api(f"/api/calls/{call_id}")["status"] == "open"
    return bureau, call_id


async def ask_and_bid(j: Journey, bureau: Page, call_id: int) -> dict[str, Page]:
    ngos = {}
    # Not ngo06: its two failed mid-terms on this catalogue item bar it from bidding (its standing).
    for n, (email, amount) in enumerate((("ngo01@demo.market", "56000"), ("ngo10@demo.market", "52500"))):
        ngo = ngos[email] = await j.person(email)
        await click_link(ngo, "/calls")
        await click_link(ngo, f"/calls/{call_id}")
        if n == 0:
            await fill(ngo, {"question": "夜间陪护是否需要覆盖周末？"}, f'main form[action="/calls/{call_id}/questions"]')
            await press(ngo, f"/calls/{call_id}/questions")
            await bureau.reload()
            answer = bureau.locator('main form[action^="/questions/"]').first
            action = await answer.get_attribute("action")
            await answer.locator('textarea[name="answer"]').fill("需要，周末与节假日同样提供陪护。")
            await press(bureau, action)
            await ngo.reload()
            await expect(ngo.locator("main")).to_contain_text("周末与节假日同样提供陪护")
        await click_link(ngo, f"/calls/{call_id}/bid")
        form = f'main form[action="/calls/{call_id}/bid"]'
        await fill(ngo, {"objectives": "三个月内修复全部楼道照明，全年为独居老人提供夜间陪护。",
                         "activities": "第一个月排查修复照明；此后每晚18–22点安排志愿者值守陪护。",
                         "team": "项目主管1名、持证社工2名、志愿者20名", "amount_yuan": amount,
                         "line-0-item": "人员费用", "line-0-yuan": str(int(amount) - 20000),
                         "line-1-item": "照明材料", "line-1-yuan": "20000",
                         }, form)
        # The call's outcome indicators come filled in; the bidder sets a target for each.
        for name in await ngo.locator(f'{form} input[name^="indicator-"][name$="-name"]').all():
            if await name.input_value():
                target = (await name.get_attribute("name")).removesuffix("-name") + "-target"
                await ngo.locator(f'{form} input[name="{target}"]').fill("300")
        await j.seen(ngo, "ngo-bid-form" if n == 0 else None)
        await press(ngo, f"/calls/{call_id}/bid", twice=True)
        await j.seen(ngo, "ngo-bid-submitted" if n == 0 else None)
    assert j.api(f"/api/calls/{call_id}/bid-count") == {"bids": None}  # sealed until the deadline
    return ngos


async def each_form(page: Page, action: str, values: dict[str, str], checks: tuple[str, ...] = (),
                    answered_forms_go: bool = False) -> int:
    """Fill and send every form on the page that posts to this action (the page reloads after each).
    Where an answered form leaves the page (`answered_forms_go`), the next is always the first."""
    sent = 0
    while True:
        forms = page.locator(f'main form[action="{action}"]')
        count = await forms.count()
        if count == 0 or (not answered_forms_go and sent >= count):
            return sent
        form = forms.first if answered_forms_go else forms.nth(sent)
        for name, value in values.items():
            await form.locator(f'[name="{name}"]').fill(value)
        for check in checks:
            await form.locator(check).check()
        async with page.expect_navigation():
            await form.locator('button[type="submit"]').click()
        sent += 1


async def evaluate(j: Journey, bureau: Page, call_id: int, bids_text: str) -> None:
    await j.let_time_pass(bureau, 16)  # past the bid deadline
    bureau = await j.person("bureau@demo.market")  # a log-in lasts hours: time has passed
    await click_link(bureau, "/calls")
    await click_link(bureau, f"/calls/{call_id}")
    await press(bureau, f"/calls/{call_id}/panel")
    panel = path_of(bureau)
    for email, role in (("evaluator.expert1@demo.market", "chair"), ("expert@demo.market", "member")):
        form = f'main form[action="{panel}/members"]'
        await fill(bureau, {"email": email, "role": role}, form)
        await press(bureau, f"{panel}/members")
    await press(bureau, f"{panel}/start")
    await j.seen(bureau, "bureau-panel")

    for email in ("expert@demo.market", "evaluator.expert1@demo.market"):
        evaluator = await j.person(email)
        await j.seen(evaluator, "evaluator-workbench" if email.startswith("evaluator") else None)
        # The chair finds the panel on the workbench, the other member from the notification.
        if email.startswith("evaluator"):
            await click_link(evaluator, panel)
        else:
            await click_link(evaluator, "/inbox")
            await click_link(evaluator, 'a[href^="/inbox/"]')
        assert path_of(evaluator) == panel
        await click_link(evaluator, f"/calls/{call_id}/bids")
        await expect(evaluator.locator("main")).to_contain_text(bids_text)
        await j.seen(evaluator, "evaluator-reads-bids" if email.startswith("evaluator") else None)
        await evaluator.go_back()
        await each_form(evaluator, f"{panel}/declarations", {}, ('input[name="conflicted"][value="no"]',),
                        answered_forms_go=True)
        # One criterion saved by its own button lands at that criterion (the last far down the page),
        # the sentence that it was saved in view above it: an evaluator goes on down the page without
        # scrolling back. Then each candidate's scores go at once, with its form.
        last = evaluator.locator('main div.row[id^="scores-"]').last
        await last.locator('input[name^="score"]').fill("82")
        async with evaluator.expect_navigation():
            await last.locator('button[name="only"]').click()
        assert evaluator.url.endswith("#" + await last.get_attribute("id"))
        await expect(last).to_be_in_viewport()
        await expect(evaluator.locator(".alert.done")).to_be_in_viewport()
        for n in range(await evaluator.locator(f'main form[action="{panel}/scores"]').count()):
            form = evaluator.locator(f'main form[action="{panel}/scores"]').nth(n)
            rows = evaluator.locator(f'main div.row:has([form="{await form.get_attribute("id")}"])')
            for row in await rows.all():
                await row.locator('input[name^="score"]').fill("82")
                await row.locator('input[name^="note"]').fill("方案具体可行")
            await twice(evaluator, form.locator('button[type="submit"]'))
            await expect(evaluator.locator(".alert.done")).to_be_visible()
        await j.seen(evaluator, "evaluator-scored" if email.startswith("evaluator") else None)
    chair = evaluator
    await each_form(chair, f"{panel}/consensus", {"score": "80", "note": "小组合议"})
    await j.seen(chair, "chair-consensus")
    assert j.api(f"/api/calls/{call_id}/bid-count") == {"bids": 2}


async def award_and_contract(j: Journey, call_id: int) -> tuple[Page, int]:
    bureau = await j.person("bureau@demo.market")
    await click_link(bureau, "/calls")
    await click_link(bureau, f"/calls/{call_id}")
    await press(bureau, f"/calls/{call_id}/award", twice=True)
    # The page lands on its award section, far down; the sentence that it worked is in view there.
    assert path_of(bureau) == f"/calls/{call_id}" and bureau.url.endswith("#award")
    await expect(bureau.locator(".alert.done")).to_be_in_viewport()
    await j.seen(bureau, "bureau-awarded")
    award = j.api(f"/api/calls/{call_id}/award")
    assert j.api(f"/api/calls/{call_id}")["status"] == "notice"
    await j.let_time_pass(bureau, 12)  # past the public notice
    bureau = await j.person("bureau@demo.market")
    await click_link(bureau, "/calls")
    await click_link(bureau, f"/calls/{call_id}")
    await press(bureau, f"/calls/{call_id}/contract", twice=True)
    contract_id = int(path_of(bureau).rsplit("/", 1)[1])
    await press(bureau, f"/contracts/{contract_id}/sign", twice=True)
    await j.seen(bureau, "bureau-signed")
    winner = {"52500": "ngo10@demo.market", "56000": "ngo01@demo.market"}[str(award["amount_fen"] // 100)]
    provider = await j.person(winner)
    await click_link(provider, "/inbox")
    await click_link(provider, 'a[href^="/inbox/"]')  # "a contract is ready for your signature"
    assert path_of(provider) == f"/contracts/{contract_id}"
    await press(provider, f"/contracts/{contract_id}/sign")
    await j.seen(provider, "provider-signed")
    assert j.api(f"/api/contracts/{contract_id}")["status"] == "signed"
    return bureau, contract_id


async def pledge_and_pay(j: Journey, project_id: int) -> None:
    funder = await j.person("csr01@demo.market")
    await click_link(funder, "/projects")
    await click_link(funder, f"/projects/{project_id}")
    await click_link(funder, f"/pledges/new?target_type=project&target_id={project_id}")
    await fill(funder, {"amount_yuan": "20000"}, 'main form[action="/pledges"]')
    await press(funder, "/pledges")  # the review step
    await j.seen(funder, "funder-pledge-review")
    await press(funder, "/pledges", twice=True, button='button[value="confirm"]')  # double-clicked: one pledge
    pledge_id = int(path_of(funder).rsplit("/", 1)[1])
    await fill(funder, {"bank_reference": "ICBC-2027-0001"}, f'main form[action="/pledges/{pledge_id}/transfer"]')
    await press(funder, f"/pledges/{pledge_id}/transfer")
    await j.seen(funder, "funder-transfer-recorded")
    bureau = await j.person("bureau@demo.market")
    await click_link(bureau, "/payments")
    await j.seen(bureau, "bureau-transfers")
    confirm = bureau.locator('main form[action$="/confirm"]').first
    await press(bureau, await confirm.get_attribute("action"), twice=True)
    await funder.reload()
    await j.seen(funder, "funder-pledge-paid")


async def first_milestone(j: Journey, contract_id: int) -> None:
    bureau = await j.person("bureau@demo.market")
    contract = j.api(f"/api/contracts/{contract_id}")
    now = await j.now(bureau)
    first_due = contract["milestones"][0]["due_date"]
    days = (datetime.fromisoformat(first_due).date() - now.date()).days
    await j.let_time_pass(bureau, max(days, 0))
    bureau = await j.person("bureau@demo.market")
    await click_link(bureau, "/calls")
    await click_link(bureau, f"/calls/{contract['call_id']}")
    await click_link(bureau, f"/contracts/{contract_id}")
    await click_link(bureau, f"/contracts/{contract_id}/milestones/1/accept")
    await j.seen(bureau, "bureau-accept-milestone")
    await press(bureau, f"/contracts/{contract_id}/milestones/1/accept", twice=True)
    await j.seen(bureau, "bureau-milestone-paid")
    await expect(bureau.locator("main .alert.success")).to_be_visible()


async def live_fair(j: Journey) -> None:
    """The organiser starts the spring fair; a funder raises a paddle on a phone (two taps); the
    projector's board, open in another browser, shows it without a reload."""
    bureau = await j.person("bureau@demo.market")
    await click_link(bureau, "/fairs")
    await click_link(bureau, 'main a[href^="/fairs/"]', text="2027")  # the spring fair
    fair = path_of(bureau)
    if await bureau.locator(f'main form[action="{fair}/actions/go_live"]').count():
        await press(bureau, f"{fair}/actions/go_live")
    board = await j.person(None)
    await board.goto("/")
    await click_link(board, "/fairs")
    await click_link(board, fair)
    await click_link(board, f"{fair}/board")
    raised = board.locator('[data-total="raised_fen"]')
    before = await raised.inner_text()
    raises = j.api(f"/api{fair}/board")["raises"]
    await j.seen(board, "fair-board-before")

    phone = await j.person("csr01@demo.market", viewport=PHONE)
    await click_link(phone, "/fairs")
    await click_link(phone, fair)
    await click_link(phone, f"{fair}/paddle")
    await fill(phone, {"amount_yuan": "8000"}, f'main form[action="{fair}/raises"]')
    await j.seen(phone, "funder-paddle")
    await press(phone, f"{fair}/raises")
    await j.seen(phone, "funder-paddle-confirm")
    confirm = phone.locator(f'main form[action^="{fair}/raises/"][action$="/confirm"]')
    await press(phone, await confirm.get_attribute("action"), twice=True)
    await j.seen(phone, "funder-paddle-done")
    await expect(raised).not_to_have_text(before, timeout=10_000)  # pushed to the board, no reload
    # and told to someone following with a screen reader: the totals are a live region
    totals = board.locator(".board-totals", has=raised)
    await expect(totals).to_have_attribute("aria-live", "polite")
    await expect(totals).to_have_attribute("role", "status")
    await j.seen(board, "fair-board-after")
    english = j.locale == "en"  # who raised, named in the board's language, as pushed too
    for item in j.api(f"/api{fair}/board")["items"]:
        cell = board.locator(f'tr[data-project="{item["project_id"]}"] [data-field="funders"]')
        await expect(cell).to_have_text(", ".join(item["funders_en"]) if english else "、".join(item["funders"]))
    assert j.api(f"/api{fair}/board")["raises"] == raises + 1  # two taps on "confirm", one raise


async def journey(j: Journey, tag: str = "") -> None:
    words = {k: v + tag for k, v in WORDS[j.locale].items()}
    await live_fair(j)
    need_id = await raise_and_support_a_need(j, words["need"])
    bureau, call_id = await make_it_a_project_and_publish_a_call(j, need_id, words)
    await ask_and_bid(j, bureau, call_id)
    await evaluate(j, bureau, call_id, "第一个月排查修复照明")
    bureau, contract_id = await award_and_contract(j, call_id)
    project_id = j.api(f"/api/calls/{call_id}")["project_id"]
    await pledge_and_pay(j, project_id)
    await first_milestone(j, contract_id)


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
async def test_every_role_journey(locale, browser, fresh_journey_server, screenshot_dirs):
    j = Journey(browser, fresh_journey_server.base_url, screenshot_dirs, locale=locale)
    try:
        await journey(j)
    finally:
        await j.close()
    problems = untranslated(j.pages, locale)
    assert not problems, "interface text in the wrong language:\n" + "\n".join(problems)
