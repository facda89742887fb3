"""The place picker and the bounded place API: a level at a time, or a search, never the whole tree."""

from __future__ import annotations

import asyncio
import re

import pytest

from market.places import services as places
from market.places.services import insert_jurisdiction
from tests.conftest import act_as, post_form


@pytest.fixture
async def city(pool, world):
    """The world's district, and a second district with three streets, one with a community."""
    async with pool.acquire() as conn, conn.transaction():
        async def place(parent, level, code, zh):
            return await insert_jurisdiction(conn, parent_id=parent, level=level, code=code, name_zh=zh,
                                             name_en=f"{code} (en)")
        other = await place(None, "district", "330105", "拱墅区")
        streets = [await place(other, "street", f"330105-s{i}", name)
                   for i, name in enumerate(["青年路", "米市巷街道", "湖墅街道"], start=1)]
        inner = await place(streets[0], "community", "330105-s1-c1", "青年路北社区")
    return {"other": other, "streets": streets, "inner": inner}


async def test_children_go_a_level_at_a_time_and_page_through_each_once(pool, world, city):
    async with pool.acquire() as conn:
        districts = await places.children(conn, None)
        assert [p.id for p in districts.items] == [world.district, city["other"]]
        assert [p.id for p in (await places.children(conn, world.district)).items] == [world.street]
        seen, cursor = [], None
        while True:
            page = await places.children(conn, city["other"], cursor=cursor, limit=2)
            seen += [p.id for p in page.items]
            assert page.total == 3
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == city["streets"]


async def test_a_search_finds_part_of_a_name_in_either_language_an_exact_name_first(pool, world, city):
    async with pool.acquire() as conn:
        found = [p.name_zh for p in (await places.search(conn, "青年路")).items]
        assert found[0] == "青年路" and set(found) == {"青年路", "青年路社区", "青年路北社区"}
        assert [p.id for p in (await places.search(conn, "330102-S1-C1")).items] == [world.community]
        assert (await places.search(conn, "%")).items == []
        assert (await places.search(conn, "  ")).items == []


async def test_the_picker_shows_the_line_down_to_the_place_and_the_level_below(pool, world, city):
    async with pool.acquire() as conn:
        top = await places.picker(conn, None)
        assert top.chosen is None and top.path == [] and [p.id for p in top.children] == [world.district, city["other"]]
        street = await places.picker(conn, world.street)
        assert [p.id for p in street.path] == [world.district, world.street]
        assert [p.id for p in street.children] == [world.community, world.other_community]
        community = await places.picker(conn, world.community)
        assert community.chosen.id == world.community and community.children == []
        assert (await places.picker(conn, 999_999)).chosen is None


async def test_the_place_api_answers_a_level_a_page_or_a_search(client, world, city):
    districts = (await client.get("/api/jurisdictions")).json()
    assert [p["id"] for p in districts["items"]] == [world.district, city["other"]]
    assert districts["total"] == 2 and districts["next_cursor"] is None
    first = (await client.get(f"/api/jurisdictions?parent={city['other']}&limit=2")).json()
    assert [p["id"] for p in first["items"]] == city["streets"][:2]
    rest = (await client.get(f"/api/jurisdictions?parent={city['other']}&limit=2&cursor={first['next_cursor']}")).json()
    assert [p["id"] for p in rest["items"]] == city["streets"][2:]
    assert [p["name_zh"] for p in (await client.get("/api/jurisdictions?q=湖滨")).json()["items"]] == ["湖滨街道"]
    assert (await client.get("/api/jurisdictions?limit=201")).status_code == 400
    assert (await client.get("/api/jurisdictions?cursor=not-a-cursor")).status_code == 400


def _options(html: str) -> list[str]:
    select = re.search(r'<select id="place" name="place">(.*?)</select>', html, re.S)
    return re.findall(r'<option value="(\d*)"', select.group(1)) if select else []


@pytest.mark.parametrize("lang, everywhere, all_of", [("zh_Hans", "全部地区", "湖滨街道全部"),
                                                      ("en", "Everywhere", "All of 330102-s1 (en)")])
@pytest.mark.parametrize("path", ["/needs", "/projects", "/calls", "/resources", "/lists"])
async def test_every_list_filters_by_place_a_level_at_a_time(client, world, city, path, lang, everywhere, all_of):
    top = (await client.get(f"{path}?lang={lang}")).text
    assert _options(top) == ["", str(world.district), str(city["other"])]
    assert everywhere in top
    street = (await client.get(f"{path}?lang={lang}&place={world.street}")).text
    assert _options(street) == [str(world.street), str(world.community), str(world.other_community)]
    assert all_of in street
    # The way back up: the district as a link, the language kept, the chosen street marked.
    assert f'href="{path}?lang={lang}&amp;place={world.district}"' in street
    assert f'href="{path}?lang={lang}&amp;place={world.street}" aria-current="true"' in street
    assert str(city["streets"][0]) not in _options(street)
    community = (await client.get(f"{path}?lang={lang}&place={world.community}")).text
    assert _options(community) == []
    assert f'<input type="hidden" name="place" value="{world.community}">' in community


async def test_a_form_offers_the_communities_of_a_street_and_goes_there_a_level_at_a_time(client, pool, settings,
                                                                                         world, city):
    await act_as(client, pool, settings, world["resident"].user_id)
    # Opened around the resident's own community: its street's communities, the community chosen.
    form = (await client.get("/needs/new?lang=en")).text
    assert _choices(form, "community_id") == [str(world.community), str(world.other_community)]
    assert f'<option value="{world.community}" selected>' in form
    # Up to the other district: its streets are steps to go down by (each sends the form back, as
    # typed, at that level), none of them a choice.
    district = (await client.get(f"/needs/new?lang=zh_Hans&place={city['other']}")).text
    assert "缩小范围：" in district and f'name="_place" value="{city["streets"][0]}"' in district
    assert _choices(district, "community_id") == []
    street = (await post_form(client, "/needs/new", {"title": "楼道灯坏了", "_place": str(city["streets"][0])})).text
    assert _choices(street, "community_id") == [str(city["inner"])] and 'value="楼道灯坏了"' in street
    # Refused for another field, the form opens again around the community it was sent with.
    refused = await post_form(client, "/needs/new", {"title": "", "community_id": str(city["inner"]),
                                                     "beneficiaries": "老人", "urgency": "normal"})
    assert refused.status_code == 400 and _choices(refused.text, "community_id") == [str(city["inner"])]


async def test_with_one_district_and_one_street_a_form_opens_on_its_communities(client, world):
    # The world has one district with one street: nothing to choose above the communities.
    for path in ("/complaints/new", "/signup"):
        assert _choices((await client.get(path)).text, "community_id") == [str(world.community),
                                                                          str(world.other_community)], path


def _choices(html: str, name: str) -> list[str]:
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S)
    return [v for v in re.findall(r'<option value="(\d*)"', select.group(1)) if v] if select else []


async def test_a_process_keeps_the_places_it_read_and_sees_a_change_at_once_here_and_within_a_while_elsewhere(
        pool, world, city, monkeypatch):
    # Every list page names its rows' places and offers the districts; places change only through
    # insert_jurisdiction. Kept, they are not read again; a rename made here shows at once, one made by
    # another process (here: the table changed behind the module's back) within PLACES_FOR.
    async with pool.acquire() as conn:
        sent: list[str] = []
        conn.add_query_logger(lambda query: sent.append(query.query))

        async def read() -> tuple[str, list[str], int]:
            sent.clear()
            named = await places.named(conn, [world.district, city["inner"]])
            districts = await places.children(conn, None)
            line = await places.path(conn, city["inner"])
            await asyncio.sleep(0)  # asyncpg calls the logger soon after the statement
            assert [p.name_zh for p in line] == [districts.items[1].name_zh, "青年路", named[city["inner"]].name_zh]
            return (named[city["inner"]].name_zh, [d.name_zh for d in districts.items],
                    sum(q.lstrip().startswith(("select", "with")) for q in sent))

        first = await read()
        assert first[:2] == ("青年路北社区", [first[1][0], "拱墅区"]) and first[2] == 3
        assert await read() == (*first[:2], 0)
        await conn.execute("update jurisdictions set name_zh = '拱墅' where id = $1", city["other"])
        await conn.execute("update jurisdictions set name_zh = '青年路社区' where id = $1", city["inner"])
        assert await read() == (*first[:2], 0)
        monkeypatch.setattr(places, "PLACES_FOR", 0.0)
        assert (await read())[:2] == ("青年路社区", [first[1][0], "拱墅"])
        monkeypatch.setattr(places, "PLACES_FOR", 60.0)
        await read()
        await insert_jurisdiction(conn, parent_id=None, level="district", code="330105", name_zh="拱墅区",
                                  name_en="330105 (en)")
        assert (await read())[1] == [first[1][0], "拱墅区"]
