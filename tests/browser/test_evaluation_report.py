"""The public reads the report of the demo's passed mid-term evaluation through the pages: from the
calls to the call, its contract, the contract's evaluations and the report, then downloads the PDF;
in Chinese, then in English after the language switch. No log-in, and no evaluator's own scores."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser.journey import Journey, click_link, path_of

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="dashboards")]

CALL = "彭埠街道社区融合助残服务项目采购"  # the demo's contract whose mid-term passed


async def test_the_public_reads_and_downloads_an_evaluation_report(browser, live_server, screenshot_dirs):
    j = Journey(browser, live_server.base_url, screenshot_dirs)
    try:
        public = await j.person(None)
        await click_link(public, 'header a[href="/calls"]')
        await click_link(public, 'main a[href^="/calls/"]', text=CALL)
        await click_link(public, 'main a[href^="/contracts/"]')
        contract_id = int(path_of(public).rsplit("/", 1)[1])
        await click_link(public, 'tr[data-stage="midterm"] a.evaluation-report')
        assert path_of(public) == f"/contracts/{contract_id}/evaluations/midterm/report"
        twin = j.api(f"/api/contracts/{contract_id}/evaluations/midterm/report")
        assert twin["outcome"] == "passed" and twin["notes_shown"] is False
        text = await j.seen(public, "evaluation-report")
        for words in ("中期评估报告", "资质与管理", "合议分", "评审小组", "Krippendorff", twin["total"]):
            assert words in text, words
        assert "组长合议意见" not in text  # the chair's notes are the parties'
        pdfs: dict[str, str] = {}
        for locale in ("zh_Hans", "en"):
            if locale == "en":
                await click_link(public, 'a[hreflang="en"]')
                j.locale = "en"
                english = await j.seen(public, "evaluation-report")
                assert "Report of the mid-term evaluation" in english and "Qualification and management" in english
            async with public.expect_download() as info:
                await public.locator('main a[href$="/report.pdf"]').click()
            download = await info.value
            data = Path(await download.path()).read_bytes()
            assert data.startswith(b"%PDF") and download.suggested_filename.endswith("-midterm.pdf")
            pdfs[locale] = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
        assert "中期评估报告" in pdfs["zh_Hans"] and "Report of the mid-term evaluation" in pdfs["en"]
        assert all(twin["total"] in pdf for pdf in pdfs.values())
    finally:
        await j.close()
