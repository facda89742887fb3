"""The bureau changes an open call it published (a later deadline, a lower budget ceiling), and the
social organisation that bid on it is told, finds it on its workbench, reads what changed and confirms
its bid, which is otherwise not evaluated. The call's page once listed a change as the names of columns
("budget_ceiling_fen, deadline_at"), and nothing led a bidder to its unconfirmed bid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import serving
from tests.browser.journey import Journey, click_link, fill, press
from tests.browser.test_docking_rules import twice

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="call_changed")]

CALL = "湖滨、清波片区老年助餐服务采购"


@pytest.fixture(scope="module")
def call_server() -> Iterator[object]:
    with serving() as server:
        yield server


async def test_the_bidder_reads_what_changed_and_confirms_its_bid(browser, call_server, screenshot_dirs):
    bureau_j = Journey(browser, call_server.base_url, screenshot_dirs)
    ngo_j = Journey(browser, call_server.base_url, screenshot_dirs, locale="en")
    try:
        bureau = await bureau_j.person("bureau@demo.market")
        await click_link(bureau, 'header a[href="/calls"]')
        await click_link(bureau, 'main a[href^="/calls/"]', CALL)
        call = bureau.url.split("/calls/")[1].split("?")[0].split("#")[0]
        await click_link(bureau, f'main a[href="/calls/{call}/edit"]')
        deadline = datetime.fromisoformat(await bureau.locator('input[name="deadline_at"]').input_value())
        later = deadline + timedelta(days=7)
        budget = round(float(await bureau.locator('input[name="budget_ceiling_yuan"]').input_value()))
        await fill(bureau, {"deadline_at": later.strftime("%Y-%m-%dT%H:%M"), "budget_ceiling_yuan": str(budget - 20000)},
                   f'main form[action="/calls/{call}/edit"]')
        await press(bureau, f"/calls/{call}/edit", twice=True)
        await expect(bureau.locator(".done")).to_have_text("对采购公告的修改已保存。")
        change = bureau.locator("ul.revisions > li").last
        await expect(change.locator("li")).to_have_text([
            f"最高限价：¥{budget:,}.00 → ¥{budget - 20000:,}.00",
            f"投标截止时间：{deadline:%Y/%m/%d %H:%M} → {later:%Y/%m/%d %H:%M}".replace("/0", "/")])
        await bureau_j.seen(bureau, "call-changed")
        revisions = bureau_j.api(f"/api/calls/{call}/revisions")
        assert [set(r["changes"]) for r in revisions] == [{"budget_ceiling_fen", "deadline_at"}]  # acted once

        ngo, title = await ngo_j.person("ngo01@demo.market"), ngo_j.title(CALL)  # in English: the English title
        await click_link(ngo, 'header a[href="/inbox"]')
        await expect(ngo.locator("main", has_text=f"The call “{title}” changed after you bid")).to_have_count(1)
        await click_link(ngo, 'header a[href="/dashboard"]')
        to_confirm = ngo.locator('table.tasks[data-kind="bids_to_confirm"]')
        await expect(to_confirm.locator("a")).to_have_text([title])
        await ngo_j.seen(ngo, "bid-to-confirm")
        await click_link(ngo, 'table.tasks[data-kind="bids_to_confirm"] a', title)
        await expect(ngo.locator("#bid .alert")).to_contain_text("an unconfirmed bid is not evaluated")
        await ngo.locator('#bid a[href="#changes"]').click()  # to the changes on the same page
        changes = ngo.locator("ul.revisions > li").last.locator("li")
        await expect(changes).to_have_text([f"Budget ceiling: ¥{budget:,}.00 → ¥{budget - 20000:,}.00",
                                            re.compile(r"^Deadline for bids: .+ → .+$")])
        await expect(changes.last).to_contain_text(f"{later:%-m/%-d/%y}")
        await ngo_j.seen(ngo, "call-changed-bidder")
        await twice(ngo, ngo.locator(f'#bid form[action="/calls/{call}/bid/confirm"] button'))
        await expect(ngo.locator(".done")).to_have_text("Your bid stands for the call as changed, and it will be evaluated.")
        await expect(ngo.locator(f'form[action="/calls/{call}/bid/confirm"]')).to_have_count(0)
        await click_link(ngo, 'header a[href="/dashboard"]')
        await expect(ngo.locator('table.tasks[data-kind="bids_to_confirm"]')).to_have_count(0)
    finally:
        await ngo_j.close()
        await bureau_j.close()
