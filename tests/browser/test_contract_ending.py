"""A contract whose mid-term evaluation failed, ended by its buyer through the pages: the bureau finds
it from its workbench, reads the published notice, ends the contract with a reason after confirming,
and the funder is told; the contract's page and its JSON twin show where the money not paid went,
and it adds up to the fen. On a server of its own (the demo's failing contracts), in Chinese, with
the ended contract read again in English."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from tests.browser.conftest import LiveServer, serving
from tests.browser.journey import Journey, click_link, expect_text, fill, press

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="contract_ending")]

REASON = "整改期内探访仍未按约定开展，服务对象投诉较多，经研究决定终止合同。"


@pytest.fixture(scope="module")
def ending_server() -> Iterator[LiveServer]:
    with serving() as server:
        yield server


async def test_the_buyer_ends_a_contract_after_a_failed_midterm_and_the_money_goes_back(browser, ending_server,
                                                                                        screenshot_dirs):
    j = Journey(browser, ending_server.base_url, screenshot_dirs)
    try:
        bureau = await j.person("bureau@demo.market")
        # The workbench lists the failing contract's next milestone; its link leads to the contract.
        await click_link(bureau, 'a[href$="#milestones"]', text="南星街道独居老人探访关爱")
        contract_id = int(re.search(r"/contracts/(\d+)", bureau.url).group(1))
        text = await j.seen(bureau, "contract-failed-midterm")
        assert "公示：本合同的中期评估不合格。" in text and "整改" in text
        before = j.api(f"/api/contracts/{contract_id}")
        assert before["delivery"]["status"] == "rectifying" and before["delivery"]["may_end"] is False  # public view

        await click_link(bureau, f"/contracts/{contract_id}/end")
        assert "不可撤销" in await j.seen(bureau, "contract-end-confirm")
        await fill(bureau, {"reason": REASON}, scope=f'main form[action="/contracts/{contract_id}/end"]')
        await press(bureau, f"/contracts/{contract_id}/end")
        await expect_text(bureau, "合同已终止。未支付的资金已退回，并已通知各资助方。")
        text = await j.seen(bureau, "contract-ended")
        assert REASON in text and "退回资助方" in text and "¥10,000.00" in text
        await expect(bureau.locator('tr[data-kind="pledge_to_funder"]')).to_have_count(1)

        # The JSON twin: the money not paid went back (the funder's) or stayed (the budget's), to the fen.
        after = j.api(f"/api/contracts/{contract_id}")
        delivery = after["delivery"]
        assert delivery["status"] == "ended" and delivery["ended_reason"] == REASON
        assert delivery["returned_fen"] == 1_000_000
        kept = sum(r["amount_fen"] for r in delivery["returns"] if r["kind"] == "budget_kept")
        assert delivery["paid_fen"] + delivery["returned_fen"] + kept == after["amount_fen"]
        assert not any(s["acceptable"] for s in after["states"])

        # The funder is told, and its notice leads to the contract.
        funder = await j.person("csr09@demo.market")
        await click_link(funder, "/inbox")
        inbox = await j.seen(funder, "funder-told")
        assert "已终止" in inbox and "¥10,000.00" in inbox
        await click_link(funder, 'main a[href*="/inbox/"]', text="¥10,000.00")
        assert f"/contracts/{contract_id}" in funder.url
        await click_link(funder, 'a[hreflang="en"]')
        j.locale = "en"
        english = await j.seen(funder, "contract-ended")
        assert "Notice: this contract was ended early" in english and "back to the funder" in english
    finally:
        await j.close()
