"""A provider rates its buyer on a phone, in Chinese: the demo's ngo06, whose mid-term evaluations are
decided, finds "rate the buyer" on its workbench, answers the five scales and a comment, taps
"submit" twice and one rating is stored, which it then reads back; sending it again is refused. Then,
from the site's navigation, the public buyer scorecards: the district's card lists its streets, and
Wangjiang street's card draws its trend as a chart, with the figures beside it, and a committee rated
by two providers shows not enough data."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.journey import PHONE, Journey, click_link, expect_text, path_of, press

# On the journeys' server (test mode): ngo06 takes no part in the role journeys (its standing bars it).
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group(name="journeys")]

SCORES = {"clarity": "4", "payment": "3", "support": "4", "interference": "5", "fairness": "2"}
COMMENT = "评估前没有公布评分细则，希望下次提前说明。"


async def test_a_provider_rates_its_buyer_on_a_phone(browser, journey_server, screenshot_dirs):
    j = Journey(browser, journey_server.base_url, screenshot_dirs)
    try:
        ngo = await j.person("ngo06@demo.market", viewport=PHONE)
        due = ngo.locator('table[data-kind="buyer_ratings_due"] a')
        await expect(ngo.locator("h3#buyer_ratings_due")).to_contain_text("评价购买方")
        before = await due.count()
        assert before >= 1
        await j.seen(ngo, "buyer-rating-workbench")
        await click_link(ngo, 'table[data-kind="buyer_ratings_due"] a')
        action = path_of(ngo)
        assert re.fullmatch(r"/contracts/\d+/buyer-rating", action)
        form = ngo.locator(f'main form[action="{action}"]').first
        stage = await form.locator('input[name="stage"]').get_attribute("value")
        assert "5 = 没有干预" in await form.inner_text()  # the scale's direction is said
        for criterion, score in SCORES.items():
            await form.locator(f'input[name="{criterion}"][value="{score}"]').check()
        await form.locator('textarea[name="comment"]').fill(COMMENT)
        await j.seen(ngo, "buyer-rating-form")
        await press(ngo, action, twice=True)  # an impatient double tap
        await expect_text(ngo, "评价已提交")
        given = ngo.locator(f"#stage-{stage}")
        await expect(given).to_have_attribute("data-status", "given")
        await expect(given.locator('dd[data-criterion="fairness"]')).to_contain_text("2 / 5")
        await expect(given).to_contain_text(COMMENT)
        await j.seen(ngo, "buyer-rating-given")

        # One rating, and a second is refused, saying why.
        api = f"/api{action}"
        shown = await (await ngo.request.get(api)).json()
        assert [s["status"] for s in shown["stages"] if s["stage"] == stage] == ["given"]
        token = next(c["value"] for c in await ngo.context.cookies() if c["name"] == "market_csrf")
        again = await ngo.request.post(api, data={"stage": stage, **{k: int(v) for k, v in SCORES.items()}},
                                       headers={"x-csrftoken": token})
        assert again.status == 409 and "已经提交过" in await again.text()
        await click_link(ngo, 'header.site a[href="/dashboard"]')
        await expect(due).to_have_count(before - 1)

        # The public scorecards, from the navigation: a chart with its figures beside it.
        await click_link(ngo, 'header.site a[href="/scorecards"]')
        await expect(ngo.locator("h1")).to_contain_text("购买方记分卡")
        # Districts first; the district's card lists its streets with their scores.
        await click_link(ngo, "table.scorecards a", "上城区")
        await click_link(ngo, "table.scorecards a", "望江街道")
        chart = ngo.locator("figure.scorecard-chart svg")
        await expect(chart).to_be_visible()
        await expect(chart.locator('rect[data-component="ratings"]')).to_have_count(2)
        assert await chart.locator("circle.dot").count() >= 2
        box = await chart.bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]
        # Residents' answers to the street's communities' standing surveys, this year.
        await expect(ngo.locator('table.score-years td[data-component="satisfaction"]').last).to_contain_text(
            "位居民作答")
        await j.seen(ngo, "buyer-scorecard")
        await click_link(ngo, "main a", "近江社区")
        await expect(ngo.locator('table.score-years td[data-component="ratings"]').first).to_contain_text("数据不足")
        await j.seen(ngo, "buyer-scorecard-community")
    finally:
        await j.close()
