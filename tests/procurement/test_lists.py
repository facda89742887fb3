"""The needs and project lists at work: search in Chinese and English on the grams index (a phrase
inside a longer text, an exact title first, `%` and `_` literal, with the other filters), and keyset
pages that show each item once while new ones arrive."""

from __future__ import annotations

from market.procurement.needs import services as needs
from market.procurement.needs.models import NeedInput, ProjectInput
from tests.factories import do, who


async def _need(pool, settings, world, title: str, description: str = "社区居民反映的一项需求，希望得到帮助。", **change) -> int:
    resident = await who(pool, settings, world, "resident")
    return await do(pool, needs.raise_need, resident, NeedInput(
        title=title, description=description, community_id=world.community, beneficiaries="社区居民", **change))


async def _titles(client, url: str) -> list[str]:
    return [n["title"] for n in (await client.get(url)).json()["items"]]


async def test_chinese_search_finds_a_phrase_inside_and_ranks_the_exact_title_first(client, pool, settings, world):
    inside = await _need(pool, settings, world, "东坡路社区养老服务中心需要志愿者")
    await _need(pool, settings, world, "老人中午吃饭难", "希望养老服务站提供助餐。")
    exact = await _need(pool, settings, world, "社区养老服务")
    await _need(pool, settings, world, "儿童放学后没人照看")
    # The newest is the exact one here; make it the oldest, so only its rank puts it first.
    await pool.execute("update needs set created_at = created_at - interval '1 day' where id = $1", exact)
    found = await _titles(client, "/api/needs?q=社区养老服务")
    assert found[0] == "社区养老服务" and set(found) == {"社区养老服务", "东坡路社区养老服务中心需要志愿者"}
    assert set(await _titles(client, "/api/needs?q=养老")) == {
        "社区养老服务", "东坡路社区养老服务中心需要志愿者", "老人中午吃饭难"}
    assert await _titles(client, "/api/needs?q=服务中心需") == ["东坡路社区养老服务中心需要志愿者"]
    assert await _titles(client, "/api/needs?q=社区服务") == []  # both words' characters, but not as a phrase
    # Words separated by a space are each looked for; combined with another filter.
    assert set(await _titles(client, "/api/needs?q=养老 助餐")) == {"老人中午吃饭难"}
    await pool.execute("update needs set status = 'declined' where id = $1", inside)
    assert set(await _titles(client, "/api/needs?q=养老&status=open")) == {"社区养老服务", "老人中午吃饭难"}
    page = (await client.get("/needs?q=养老&lang=en")).text
    assert "1–3 of 3" in page and "儿童放学后没人照看" not in page


async def test_percent_and_underscore_are_searched_for(client, pool, settings, world):
    await _need(pool, settings, world, "满意度100%_调查需要帮助")
    await _need(pool, settings, world, "满意度一百调查需要帮助")
    for query in ("%", "_", "100%_", "%_调"):
        assert await _titles(client, f"/api/needs?q={query.replace('%', '%25')}") == ["满意度100%_调查需要帮助"], query
    assert await _titles(client, "/api/needs?q=0%25调") == []


async def test_bilingual_projects_are_found_in_either_language(client, pool, settings, world, published):
    bureau = await who(pool, settings, world, "buyer_admin")
    for zh, en in (("东坡路社区老年助餐", "Meal help for older people"), ("青年路社区儿童托管", "After-school care")):
        await do(pool, needs.create_project, bureau, ProjectInput(
            title_zh=zh, title_en=en, description="为辖区居民提供服务一年。", catalogue_entry_id=published["01.01.02"],
            budget_fen=100_000_00, budget_line="福彩公益金", jurisdiction_id=world.street))

    async def found(q: str) -> list[str]:
        return [p["title_zh"] for p in (await client.get("/api/projects", params={"q": q})).json()["items"]]
    assert await found("MEAL") == await found("older peo") == await found("老年助餐") == ["东坡路社区老年助餐"]
    assert await found("after-school care") == ["青年路社区儿童托管"]  # an exact English title
    assert await found("zzq") == []


async def test_pages_show_each_need_once_while_new_ones_arrive(client, pool, settings, world):
    before = {await _need(pool, settings, world, f"第{n}号需求需要帮助") for n in range(7)}
    # Supporters and dates spread the needs over the order; new ones will land before, among and after.
    await pool.execute("update needs set supporters = id % 3, created_at = now() - make_interval(hours => id::int)")
    seen: list[int] = []
    url = "/api/needs?limit=2"
    while True:
        page = (await client.get(url)).json()
        seen += [n["id"] for n in page["items"]]
        for supporters in (0, 1, 5):
            new = await _need(pool, settings, world, f"翻页时新来的需求{supporters}")
            await pool.execute("update needs set supporters = $2 where id = $1", new, supporters)
        if not page["next_cursor"]:
            break
        url = f"/api/needs?limit=2&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) and before <= set(seen)
    back = (await client.get(f"/api/needs?limit=2&cursor={page['previous_cursor']}")).json()
    assert back["next_cursor"] and len(back["items"]) == 2


async def test_a_need_is_found_by_its_catalogue_item_in_either_language(client, pool, settings, world, published):
    # Residents write in Chinese and never name the item; the need was matched to 上门助浴 (Home bathing).
    bathing = await _need(pool, settings, world, "卧床老人洗澡难", "家里老人卧床，需要有人上门助浴。")
    other = await _need(pool, settings, world, "儿童放学后没人照看")
    assert await pool.fetchval("select suggested_entry_id from needs where id = $1", bathing) == published["01.01.02"]
    assert await pool.fetchval("select suggested_entry_id from needs where id = $1", other) is None
    assert await _titles(client, "/api/needs?q=bathing") == ["卧床老人洗澡难"]
    assert await _titles(client, "/api/needs?q=Home%20Bathing") == ["卧床老人洗澡难"]
    assert await _titles(client, "/api/needs?q=上门助浴") == ["卧床老人洗澡难"]
    assert await _titles(client, "/api/needs?q=meal") == []
