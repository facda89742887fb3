"""Rectification through the real pages, on a phone, in Chinese: the demo's failed mid-term left its
provider findings; the provider finds one on its workbench, sees the failed evaluation it came from,
submits a fix with a photo (which carries where it was taken); the bureau finds the fix waiting on its
workbench, opens the photo (its location gone) and verifies it; anyone then finds the item verified
on the provider's public list of rectification items."""

from __future__ import annotations

import pytest

from market.storage import images
from tests.browser.journey import PHONE, Journey, click_link, expect_text, fill, path_of, press, untranslated
from tests.factories import photo_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="journeys")]

FIX = "已补齐全部探访台账并逐户回访，附整改后的入户照片。"


async def test_a_finding_fixed_verified_and_shown_publicly(browser, journey_server, screenshot_dirs):
    j = Journey(browser, journey_server.base_url, screenshot_dirs)
    try:
        provider = await j.person("ngo06@demo.market", viewport=PHONE)
        await j.seen(provider, "rectification-provider-workbench")
        await click_link(provider, 'main table[data-kind="rectification_to_fix"] a')
        item = path_of(provider)
        item_id = int(item.rsplit("/", 1)[1])
        await j.seen(provider, "rectification-item-open")
        # Where it was found: the contract's failed mid-term, which lists the item beside it.
        await click_link(provider, 'main a[href$="#evaluations"]')
        await expect_text(provider, "不合格")
        assert await provider.locator('main tr[data-stage="midterm"][data-outcome="failed"]').count() == 1
        await j.seen(provider, "rectification-contract")
        await click_link(provider, f'main #rectification ~ table a[href="{item}"]')

        photo = photo_with_gps()
        assert images.has_location(photo)
        await fill(provider, {"text": FIX}, f'main form[action="{item}/fix"]')
        await provider.locator('input[name="evidence"]').set_input_files(
            files=[{"name": "整改后入户.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        await press(provider, f"{item}/fix")
        await expect_text(provider, "整改结果已提交")
        await j.seen(provider, "rectification-fix-submitted")

        bureau = await j.person("bureau@demo.market", viewport=PHONE)
        await click_link(bureau, f'main table[data-kind="rectification_to_verify"] a[href="{item}"]')
        await expect_text(bureau, FIX)
        href = await bureau.locator('main .fix a[href*="/content?"]').first.get_attribute("href")
        served = await bureau.request.get(href)
        assert served.status == 200 and not images.has_location(await served.body())
        await j.seen(bureau, "rectification-bureau-verify")
        await press(bureau, f"{item}/verify")  # the confirmation box is ticked
        await expect_text(bureau, "整改结果已核验通过")
        await j.seen(bureau, "rectification-verified")

        public = await j.person(None, viewport=PHONE)
        owner = j.api(f"/api/rectification/{item_id}")["item"]["owner_id"]
        await click_link(public, "/organisations")
        await click_link(public, f"/organisations/{owner}")
        await click_link(public, "#rectification-link")
        row = public.locator(f'main tr[data-item="{item_id}"]')
        assert await row.get_attribute("data-status") == "verified"
        text = await j.seen(public, "rectification-public-list")
        assert FIX not in text  # the fix itself is for the parties
    finally:
        await j.close()
    problems = untranslated(j.pages, "zh_Hans")
    assert not problems, "interface text in the wrong language:\n" + "\n".join(problems)
