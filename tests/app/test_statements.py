"""The statements each public list and detail page sends do not grow with what it shows: the same
count with 5 rows as with 60 (a page of 50), for the HTML page and its JSON twin alike."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from market.buyers import scorecards
from market.catalogue import services as catalogue
from market.catalogue.models import NewVersion
from market.funding.resources import services as resources
from market.funding.resources.models import ResourceInput
from market.organisations.services import insert_organisation
from market.places.services import insert_jurisdiction
from market.procurement.needs import services as needs
from market.procurement.needs.models import NeedInput
from tests.catalogue_files import csv_bytes
from tests.conftest import act_as
from tests.factories import clone_contract, do, make_org, who
from tests.world import code


@pytest.fixture
def app_settings(settings):
    # One connection in the pool, so that a logger on it hears every statement of every request.
    return msgspec.structs.replace(settings, db_pool_min=1, db_pool_max=1)


@pytest.fixture
async def seeds(pool, settings, world, published, project, open_call):
    resident = await who(pool, settings, world, "resident")
    need = await do(pool, needs.raise_need, resident, NeedInput(
        title="批量需求零号", description="社区里有老人需要这项服务。", community_id=world.community,
        beneficiaries="独居老人"))
    funder = await who(pool, settings, world, "funder_admin")
    resource = await do(pool, resources.create, funder, ResourceInput(kind="money", title="批量资源零号",
                                                                     amount_fen=100_000_00))
    return {"need": need, "project": project, "call": open_call, "resource": resource,
            "bureau": await who(pool, settings, world, "buyer_admin"),
            "asker": world["provider_admin"].user_id, "provider": world.orgs["provider"], "district": world.district}


async def _grow(pool, seeds, start: int, end: int) -> None:
    """Rows numbered start..end-1 of each list, copies of the seeds; the seed project gets their needs
    and the seed call their questions, for the detail pages."""
    async with pool.acquire() as conn, conn.transaction():
        new_needs = [r["id"] for r in await conn.fetch(
            "insert into needs (raised_by, community_id, title, description, beneficiaries, urgency) "
            "select raised_by, community_id, title || g, description, beneficiaries, urgency "
            "from needs, generate_series($2::int, $3::int - 1) g where id = $1 returning id", seeds["need"], start, end)]
        await conn.execute("insert into project_needs (project_id, need_id) select $1, unnest($2::bigint[])",
                           seeds["project"], new_needs)
        new_projects = [r["id"] for r in await conn.fetch(
            "insert into projects (buyer_id, jurisdiction_id, catalogue_entry_id, title_zh, title_en, description, "
            "budget_fen, budget_line, created_by) select buyer_id, jurisdiction_id, catalogue_entry_id, title_zh || g, "
            "title_en, description, budget_fen, budget_line, created_by "
            "from projects, generate_series($2::int, $3::int - 1) g where id = $1 returning id",
            seeds["project"], start, end)]
        await conn.execute(
            "insert into calls (project_id, buyer_id, procedure_type, title_zh, title_en, description, catalogue_entry_id, "
            "budget_ceiling_fen, service_start, service_end, service_place, provider_types, cross_district, created_by, "
            "published_at, questions_close_at, deadline_at) select p, buyer_id, procedure_type, title_zh || p, title_en, "
            "description, catalogue_entry_id, budget_ceiling_fen, service_start, service_end, service_place, "
            "provider_types, cross_district, created_by, published_at, questions_close_at, deadline_at "
            "from calls, unnest($2::bigint[]) p where id = $1", seeds["call"], new_projects)
        await conn.execute("insert into call_questions (call_id, asked_by, asked_for, question) "
                           "select $1, $2, $3, '周末也提供服务吗？第' || g || '问' from generate_series($4::int, $5::int - 1) g",
                           seeds["call"], seeds["asker"], seeds["provider"], start, end)
        await conn.execute(
            "insert into resources (funder_id, kind, title, description, amount_fen, created_by) "
            "select funder_id, kind, title || g, description, amount_fen, created_by "
            "from resources, generate_series($2::int, $3::int - 1) g where id = $1", seeds["resource"], start, end)
        # A published catalogue cannot change: the items come in a catalogue of their own, one a year.
        version_id = await catalogue.create_version(conn, seeds["bureau"], NewVersion(year=2026 + end,
                                                                                      title_zh="批量目录"))
        rows = [["09", "批量类别", "Bulk", *[""] * 11], ["09.09", "批量子类", "Bulk too", *[""] * 11],
                *([f"09.09.{n:02d}", f"批量服务{n}", f"Bulk service {n}", "", "", "人次", "visit", "10", "20",
                   "social_service_agency", "", "", "any", "服务人次|Visits|人次"] for n in range(1, end))]
        await catalogue.import_file(conn, seeds["bureau"], version_id, csv_bytes(rows))
        await catalogue.change_status(conn, seeds["bureau"], version_id, "publish")
        for n in range(start, end):
            await insert_organisation(
                conn, kind="funder", subtype="enterprise", name_zh=f"批量机构{n:02d}", name_en=f"Org {n:02d}",
                credit_code=code("91", 700 + n), jurisdiction_id=seeds["district"], rating=None, registration_date=None,
                description="", contact_name="", contact_phone="", contact_email="", address="", status="verified")


def _routes(seeds) -> list[str]:
    lists = ["/needs", "/needs?q=批量需求", "/projects", "/projects?q=东坡路", "/calls", "/organisations",
             "/organisations?q=批量", "/resources", "/resources?q=批量", "/catalogue?category=09"]
    return [*lists, *("/api" + url for url in lists if not url.startswith("/catalogue")),
            "/api/catalogue/items?category=09", f"/needs/{seeds['need']}", f"/projects/{seeds['project']}",
            f"/calls/{seeds['call']}", f"/api/needs/{seeds['need']}", f"/api/projects/{seeds['project']}",
            f"/api/calls/{seeds['call']}", "/api/ocds/releases", f"/api/ocds/calls/{seeds['call']}"]


async def _hear(pool, listen, on: bool) -> None:
    async with pool.acquire() as conn:
        (conn.add_query_logger if on else conn.remove_query_logger)(listen)


async def _statements(client, url: str) -> list[str]:
    heard: list[str] = []

    def listen(record) -> None:
        heard.append(record.query)
    # The app runs on the test client's own event loop: its pool is reached through that loop.
    client.blocking_portal.call(_hear, client.app.state.pool, listen, True)
    response = await client.get(url)
    client.blocking_portal.call(_hear, client.app.state.pool, listen, False)
    assert response.status_code == 200, (url, response.text[:500])
    return heard


def _grown(few: dict[str, list[str]], many: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """The routes whose statements grow from a short list to a long one (their counts): any more, but
    for one count, as a list's first page that holds every row is its own total (core.keyset.fetch)."""
    def counts(heard: list[str]) -> int:
        return sum(q.startswith("select count(*) from (select 1 ") for q in heard)
    return {url: (len(few[url]), len(many[url])) for url in few
            if not 0 <= len(many[url]) - len(few[url]) == counts(many[url]) - counts(few[url]) <= 1}


async def test_statements_do_not_grow_with_the_page(client, pool, seeds):
    await _grow(pool, seeds, 1, 5)
    for url in _routes(seeds):  # asyncpg looks a type up the first time a connection meets it: not counted
        await _statements(client, url)
    few = {url: await _statements(client, url) for url in _routes(seeds)}
    await _grow(pool, seeds, 5, 60)
    many = {url: await _statements(client, url) for url in _routes(seeds)}
    assert not _grown(few, many)
    listed = (await client.get("/api/needs")).json()
    assert len(listed["items"]) == 50 and listed["total"] == 60 and listed["next_cursor"]


async def test_statements_of_my_contracts_do_not_grow_with_the_page(client, pool, settings, world, signed):
    """An organisation's own list (我的合同), signed in as its buyer: 5 contracts, then 60."""
    await act_as(client, pool, settings, world["buyer_staff"].user_id, world.orgs["bureau"])
    urls = ["/contracts", "/contracts?status=in_delivery&q=助浴", "/api/contracts", "/api/contracts?status=in_delivery"]

    async def grow(to: int) -> None:
        while await pool.fetchval("select count(*) from contracts") < to:
            await clone_contract(pool, signed, world.orgs["provider"])
    await grow(5)
    for url in urls:
        await _statements(client, url)
    few = {url: await _statements(client, url) for url in urls}
    await grow(60)
    many = {url: await _statements(client, url) for url in urls}
    assert not _grown(few, many)
    listed = (await client.get("/api/contracts")).json()
    assert len(listed["items"]) == 50 and listed["total"] == 60 and listed["next_cursor"]


async def test_statements_of_the_buyer_scorecards_do_not_grow_with_the_places_and_buyers(client, pool, world):
    # Worked out afresh each time (not the card a process keeps): the index and a card read the places
    # one level down and the buyers they cover in a fixed number of statements, however many there are.
    urls = ["/scorecards", "/api/scorecards", f"/scorecards/{world.district}", f"/api/scorecards/{world.district}",
            f"/scorecards/{world.street}"]

    async def heard() -> dict[str, list[str]]:
        found = {}
        for url in urls:
            scorecards.forget()
            found[url] = await _statements(client, url)
        return found

    async def grow(first: int, last: int) -> None:
        async with pool.acquire() as conn:
            for n in range(first, last):
                street = await insert_jurisdiction(conn, parent_id=world.district, level="street", code=f"t-s{n}",
                                                   name_zh=f"第{n}街道", name_en=f"Street {n}")
                community = await insert_jurisdiction(conn, parent_id=world.street, level="community",
                                                      code=f"t-c{n}", name_zh=f"第{n}社区", name_en=f"Community {n}")
                for where, subtype in ((street, "street_office"), (community, "community")):
                    await insert_organisation(
                        conn, kind="buyer", subtype=subtype, name_zh=f"第{n}{subtype}", name_en=f"Buyer {n} {subtype}",
                        credit_code=code("11", 800 + 2 * n + (subtype == "community")), jurisdiction_id=where,
                        rating=None, registration_date=None, description="", contact_name="联系人",
                        contact_phone="0571-1234", contact_email=f"b{n}{subtype}@org.test", address="地址",
                        status="verified")

    await grow(0, 2)
    await heard()  # asyncpg looks a type up the first time a connection meets it: not counted
    few = await heard()
    await grow(2, 40)
    many = await heard()
    assert {url: (len(few[url]), len(many[url])) for url in urls if len(few[url]) != len(many[url])} == {}
    card = (await client.get(f"/api/scorecards/{world.street}")).json()
    assert len(card["below"]) >= 40 and card["buyers_below"] >= 40


async def test_statements_of_a_projects_matches_do_not_grow_with_the_providers_and_funders(client, pool, settings,
                                                                                          world, seeds):
    """A project's matches rank every verified provider and funder: 5 more of each, then 60, some of the
    providers excluded by the rules (and so named), one sharing a person with the buyer."""
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    urls = [f"/projects/{seeds['project']}/matches", f"/api/projects/{seeds['project']}/matches"]

    async def grow(start: int, end: int) -> None:
        await _grow(pool, seeds, start, end)
        async with pool.acquire() as conn, conn.transaction():
            for n in range(start, end):
                await make_org(conn, world, f"many_{n}", "provider", ("social_service_agency", "social_group")[n % 2],
                               800 + n, world.community, rating=n % 5 + 1, registered=date(2010 + n % 15, 1, 1))
            await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff') "
                               "on conflict do nothing", world["buyer_admin"].user_id, world.orgs[f"many_{start}"])
    await grow(1, 5)
    for url in urls:
        await _statements(client, url)
    few = {url: await _statements(client, url) for url in urls}
    await grow(5, 60)
    many = {url: await _statements(client, url) for url in urls}
    assert not _grown(few, many)
    found = (await client.get(urls[1])).json()
    assert found["excluded_total"] > 30 and len(found["providers"]) == 10
