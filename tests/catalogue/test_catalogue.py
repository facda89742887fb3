import pytest

from market.catalogue import files, workflow
from market.catalogue import services as catalogue
from market.catalogue.files import ImportRefused
from market.catalogue.models import NewVersion
from market.core.errors import Conflict, Forbidden, InvalidFields
from tests.catalogue_files import ROWS, csv_bytes, xlsx_bytes
from tests.conftest import act_as, api_headers, identity_of, landed, post_form


@pytest.fixture
async def bureau(pool, settings, world):
    person = world["buyer_admin"]
    return await identity_of(pool, settings, person.user_id, person.org_id)


async def _draft(pool, who, data=None, year=2026):
    async with pool.acquire() as conn, conn.transaction():
        version_id = await catalogue.create_version(conn, who, NewVersion(year=year, title_zh=f"{year}年目录"))
        if data is not None:
            await catalogue.import_file(conn, who, version_id, data)
    return version_id


def test_a_valid_csv_and_xlsx_read_the_same():
    from_csv = files.parse_entries(csv_bytes())
    from_xlsx = files.parse_entries(xlsx_bytes())
    assert from_csv == from_xlsx
    items = [e for e in from_csv if e.level == "item"]
    assert [i.code for i in items] == ["01.01.01", "01.01.02", "08.01.01"]
    meal = items[0]
    assert (meal.price_min_fen, meal.price_max_fen) == (800, 1550)
    assert meal.provider_types == ["social_service_agency", "social_group"]
    assert meal.min_rating == 3 and meal.min_years == 1 and meal.scope == "district"
    assert [i.unit for i in meal.indicators] == ["人次", "%"]
    assert items[2].min_rating == 4  # "4A" is read as 4


def test_gb18030_csv_as_chinese_excel_saves_it():
    assert files.parse_entries(csv_bytes(encoding="gb18030")) == files.parse_entries(csv_bytes())


def test_export_then_import_gives_the_same_catalogue():
    entries = files.parse_entries(csv_bytes())
    assert files.parse_entries(files.to_csv(entries)) == entries
    assert files.parse_entries(files.to_xlsx(entries, "2026")) == entries


def test_a_file_with_errors_reports_every_bad_row():
    rows = [list(r) for r in ROWS]
    rows[2][7] = "8.999"            # row 4: three decimals
    rows[3][12] = "city"            # row 5: unknown scope
    rows[3][13] = "only a name"     # row 5: malformed indicator
    rows[6][10] = "7"               # row 8: rating out of range
    rows.append(["09.01.01", "孤儿条目", "Orphan", "", "", "次", "time", "1", "2", "", "", "", "", "x|y|z"])  # row 9
    rows.append(["01.01.01", "重复", "Duplicate", "", "", "次", "time", "1", "2", "", "", "", "", "x|y|z"])  # row 10
    rows.append(["01.02", "类目", "Sub", "", "", "次", "", "", "", "", "", "", "", ""])  # row 11: unit on a sub-category
    with pytest.raises(ImportRefused) as exc:
        files.parse_entries(csv_bytes(rows))
    found = {(p.row, p.column) for p in exc.value.problems}
    assert found == {(4, "price_min_yuan"), (5, "scope"), (5, "indicators"), (8, "min_rating"), (9, "code"),
                     (10, "code"), (11, "unit_zh")}


def test_header_problems_are_reported():
    with pytest.raises(ImportRefused) as exc:
        files.parse_entries(csv_bytes(header=["code", "name_zh", "colour"] + ["x"] * 11))
    columns = {p.column for p in exc.value.problems if p.row == 1}
    assert {"name_en", "colour"} <= columns


def test_numeric_codes_from_excel_are_refused_not_guessed():
    with pytest.raises(ImportRefused) as exc:
        files.parse_entries(xlsx_bytes(numeric_codes=True))
    assert any(p.column == "code" and "01.02" in p.message for p in exc.value.problems)


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really a zip", b"\xff\xfe\x00bad"])
def test_unreadable_files_are_refused(data):
    with pytest.raises(ImportRefused):
        files.parse_entries(data)


async def test_a_bad_import_leaves_the_draft_as_it_was(pool, bureau):
    version_id = await _draft(pool, bureau, csv_bytes())
    rows = [list(r) for r in ROWS]
    rows[2][8] = "1"  # max below min
    async with pool.acquire() as conn:
        with pytest.raises(ImportRefused):
            async with conn.transaction():
                await catalogue.import_file(conn, bureau, version_id, csv_bytes(rows))
        count = await conn.fetchval("select count(*) from catalogue_entries where version_id = $1", version_id)
    assert count == len(ROWS)


@pytest.mark.parametrize("source", workflow.VERSION.statuses)
@pytest.mark.parametrize("action", workflow.VERSION.actions)
async def test_every_version_transition_allowed_or_refused(pool, bureau, source, action):
    version_id = await _draft(pool, bureau, csv_bytes())
    async with pool.acquire() as conn:
        await conn.execute("update catalogue_versions set status = $1 where id = $2", source, version_id)
        step = workflow.VERSION.find(action, source)
        async with conn.transaction():
            if step is None:
                with pytest.raises(Conflict):
                    await catalogue.change_status(conn, bureau, version_id, action)
            else:
                assert await catalogue.change_status(conn, bureau, version_id, action) == step.target
        status = await conn.fetchval("select status from catalogue_versions where id = $1", version_id)
    assert status == (step.target if step else source)


async def test_publishing_needs_items_and_replaces_the_catalogue_in_force(pool, bureau):
    empty = await _draft(pool, bureau)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(InvalidFields) as exc:
            async with conn.transaction():
                await catalogue.change_status(conn, bureau, empty, "publish")
    assert "at least one item" in exc.value.errors[0].message
    first = await _draft(pool, bureau, csv_bytes(), year=2025)
    second = await _draft(pool, bureau, csv_bytes(), year=2026)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await catalogue.change_status(conn, bureau, first, "publish")
        async with conn.transaction():
            await catalogue.change_status(conn, bureau, second, "publish")
        statuses = dict(await conn.fetch("select id, status from catalogue_versions where id = any($1)", [first, second]))
    assert statuses == {first: "retired", second: "published"}


async def test_a_published_catalogue_never_changes(pool, bureau, database):
    from market.core import db
    version_id = await _draft(pool, bureau, csv_bytes())
    async with pool.acquire() as conn, conn.transaction():
        await catalogue.change_status(conn, bureau, version_id, "publish")
    async with pool.acquire() as conn:
        with pytest.raises(Conflict):
            async with conn.transaction():
                await catalogue.import_file(conn, bureau, version_id, csv_bytes())
        with pytest.raises(Conflict):
            async with conn.transaction():
                await catalogue.delete_draft(conn, bureau, version_id)
    # and the database refuses it too, whoever asks
    owner = await db.connect_admin(database)
    try:
        for sql in ("update catalogue_entries set name_zh = 'x'", "delete from catalogue_entries",
                    f"update catalogue_versions set title_zh = '改名' where id = {version_id}",
                    f"delete from catalogue_versions where id = {version_id}"):
            with pytest.raises(Exception, match="cannot"):
                await owner.execute(sql)
    finally:
        await owner.close()


async def test_only_a_bureau_keeps_a_catalogue(pool, settings, world):
    for name in ("provider_admin", "funder_admin", "resident"):
        person = world[name]
        who = await identity_of(pool, settings, person.user_id, person.org_id)
        async with pool.acquire() as conn, conn.transaction():
            with pytest.raises(Forbidden):
                await catalogue.create_version(conn, who, NewVersion(year=2026, title_zh="目录"))


async def test_staff_edit_drafts_but_only_admins_publish(pool, settings, world, bureau):
    staff = world["buyer_staff"]
    who = await identity_of(pool, settings, staff.user_id, staff.org_id)
    version_id = await _draft(pool, who, csv_bytes())
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(Forbidden):
            await catalogue.change_status(conn, who, version_id, "publish")


async def test_drafts_are_private_published_catalogues_public(client, pool, world, bureau):
    version_id = await _draft(pool, bureau, csv_bytes())
    assert (await client.get(f"/catalogue/versions/{version_id}")).status_code == 404
    assert (await client.get(f"/api/catalogue/versions/{version_id}")).status_code == 404
    assert (await client.get(f"/catalogue/versions/{version_id}/export/csv")).status_code == 404
    assert (await client.get("/api/catalogue/items?q=助餐")).json()["items"] == []
    await act_as(client, pool, client.app.state.settings, world["buyer_staff"].user_id)
    assert (await client.get(f"/catalogue/versions/{version_id}")).status_code == 200
    async with pool.acquire() as conn, conn.transaction():
        await catalogue.change_status(conn, bureau, version_id, "publish")
    client.cookies.delete("market_session")
    page = await client.get(f"/catalogue/versions/{version_id}")
    assert page.status_code == 200 and "助餐服务" in page.text and "¥8.00" in page.text
    found = (await client.get("/api/catalogue/items", params={"q": "助餐"})).json()
    assert [i["code"] for i in found["items"]] == ["01.01.01"] and found["total"] == 1
    assert [i["code"] for i in (await client.get("/api/catalogue/items?category=08")).json()["items"]] == ["08.01.01"]
    assert [i["code"] for i in (await client.get("/api/catalogue/items?q=08.01.01")).json()["items"]] == ["08.01.01"]
    export = await client.get(f"/catalogue/versions/{version_id}/export/xlsx")
    assert export.status_code == 200 and files.parse_entries(export.content)[0].code == "01"


async def test_import_through_the_page_reports_rows_and_imports_nothing(client, pool, world, bureau):
    version_id = await _draft(pool, bureau, csv_bytes())
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    rows = [list(r) for r in ROWS]
    rows[2][12] = "city"
    r = await client.post(f"/catalogue/versions/{version_id}/import", data={"_csrf_token": client.cookies["market_csrf"]},
                          files={"file": ("目录.csv", csv_bytes(rows), "text/csv")})
    assert r.status_code == 400 and "<td>4</td>" in r.text and "scope" in r.text
    r = await client.post(f"/api/catalogue/versions/{version_id}/import", headers=api_headers(client),
                          files={"file": ("目录.xlsx", xlsx_bytes(rows), "application/octet-stream")})
    assert r.status_code == 400 and r.json()["problems"] == [
        {"row": 4, "column": "scope", "message": r.json()["problems"][0]["message"]}]
    r = await client.post(f"/api/catalogue/versions/{version_id}/import", headers=api_headers(client),
                          files={"file": ("目录.xlsx", xlsx_bytes(), "application/octet-stream")})
    assert r.status_code == 201 and r.json() == {"entries": len(ROWS)}


async def test_another_bureau_cannot_touch_a_catalogue(client, pool, world, bureau):
    from market.accounts.services import hash_password
    from tests.world import code
    draft = await _draft(pool, bureau, csv_bytes(), year=2026)
    published = await _draft(pool, bureau, csv_bytes(), year=2025)
    async with pool.acquire() as conn:
        async with conn.transaction():
            await catalogue.change_status(conn, bureau, published, "publish")
        other = await conn.fetchval("""insert into organisations (kind, subtype, name_zh, credit_code, jurisdiction_id, status)
                                       values ('buyer', 'bureau', '另一民政局', $1, $2, 'verified') returning id""",
                                    code("11", 99), world.district)
        user = await conn.fetchval("insert into users (email, display_name, password_hash) values ('b2@x.cn', 'b2', $1) "
                                   "returning id", hash_password("irrelevant pass"))
        await conn.execute("insert into memberships values ($1, $2, 'admin')", user, other)
    await act_as(client, pool, client.app.state.settings, user)
    before = await pool.fetchval("select count(*) from audit_events")
    for version_id, expected in ((draft, 404), (published, 403)):
        for url in (f"/api/catalogue/versions/{version_id}/publish", f"/api/catalogue/versions/{version_id}/retire"):
            r = await client.post(url, headers=api_headers(client))
            assert r.status_code == expected, (url, r.status_code)
        r = await client.delete(f"/api/catalogue/versions/{version_id}", headers=api_headers(client))
        assert r.status_code == expected
    assert await pool.fetchval("select count(*) from audit_events") == before
    assert await pool.fetchval("select status from catalogue_versions where id = $1", published) == "published"


async def test_manage_page_creates_a_draft_copied_from_another(client, pool, world, bureau):
    source = await _draft(pool, bureau, csv_bytes(), year=2025)
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    r = await post_form(client, "/catalogue/versions", {"year": "2026", "title_zh": "2026年目录", "copy_from": source})
    new_id = int(landed(r, "catalogue_draft_created").rsplit("/", 1)[1])
    assert "Import its items from a file" in (await client.get(r.headers["location"] + "&lang=en")).text
    assert (await client.get(f"/api/catalogue/versions/{new_id}")).json()["version"]["entries"][2]["code"] == "01.01.01"
    r = await post_form(client, "/catalogue/versions", {"year": "1999", "title_zh": "x"})
    assert r.status_code == 400 and 'id="e-year"' in r.text and 'id="e-title_zh"' in r.text


async def test_unknown_version_is_404(client):
    assert (await client.get("/catalogue/versions/999999")).status_code == 404
    assert (await client.get("/catalogue/items/999999")).status_code == 404


async def test_the_catalogue_twins_are_the_pages_views(client, pool, world, bureau):
    version_id = await _draft(pool, bureau, csv_bytes())
    index = (await client.get("/api/catalogue")).json()
    assert index == {"q": "", "category": "", "catalogues": [], "results": None}
    async with pool.acquire() as conn, conn.transaction():
        await catalogue.change_status(conn, bureau, version_id, "publish")
    index = (await client.get("/api/catalogue", params={"q": "助餐"})).json()
    assert [c["id"] for c in index["catalogues"]] == [version_id] and index["catalogues"][0]["items"] > 0
    assert [r["code"] for r in index["results"]["items"]] == [i["code"] for i in (await client.get(
        "/api/catalogue/items", params={"q": "助餐"})).json()["items"]]
    assert (await client.get("/api/catalogue/manage")).status_code == 401
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    assert (await client.get("/api/catalogue/manage")).status_code == 403
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    assert [v["id"] for v in (await client.get("/api/catalogue/manage")).json()["versions"]] == [version_id]
    page = (await client.get(f"/api/catalogue/versions/{version_id}")).json()
    assert page["owner"] is True and page["actions"] == ["retire"] and page["tree"][0]["entry"]["code"] == "01"
