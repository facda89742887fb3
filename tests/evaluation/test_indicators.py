"""Indicator systems: Excel files read row by row, versions that never change once published, the
lookup a contract makes at signing, who keeps them, and their pages in both languages."""

from decimal import Decimal

import pytest

from market.catalogue import services as catalogue
from market.catalogue.files import ImportRefused
from market.catalogue.models import NewVersion as NewCatalogue
from market.core import i18n
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.evaluation.indicators import files, scoring, tree, workflow
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators.models import NewSystemVersion, NodeEdit
from tests.catalogue_files import csv_bytes as catalogue_csv
from tests.conftest import act_as, api_headers, identity_of, landed, post_form
from tests.indicator_files import DEMO, cell, demo_rows, xlsx

def first_rows(rows):
    """The file row (1 is the header) where each path first stands."""
    found = {}
    for number, row in enumerate(rows, start=1):
        if row:
            found.setdefault(row[0], number)
    return found


@pytest.fixture
async def bureau(pool, settings, world):
    person = world["buyer_admin"]
    return await identity_of(pool, settings, person.user_id, person.org_id)


@pytest.fixture
async def platform(pool, settings, world):
    person = world["platform_admin"]
    return await identity_of(pool, settings, person.user_id, person.org_id)


async def _draft(pool, who, stage="final", applies_to=None, data=None, copy_from=None):
    async with pool.acquire() as conn, conn.transaction():
        version_id = await indicators.create_version(conn, who, NewSystemVersion(
            stage=stage, title_zh="末期评估指标", title_en="Final indicators", applies_to=applies_to, copy_from=copy_from))
        if data is not None:
            await indicators.import_file(conn, who, version_id, data)
    return version_id


async def _publish(pool, who, version_id):
    async with pool.acquire() as conn, conn.transaction():
        return await indicators.change_status(conn, who, version_id, "publish")


# --- files ---------------------------------------------------------------------------------------

def test_the_demo_systems_read_whole():
    for stage in ("midterm", "final"):
        nodes, bands = files.parse((DEMO / f"demo_{stage}.csv").read_bytes())
        built = tree.build(nodes)
        assert [n.name_en for n in built] == ["Qualification and management", "Financial management",
                                              "Delivery against targets", "Outcomes", "Beneficiary satisfaction"]
        assert [n.satisfaction for n in built] == [False, False, False, False, True]
        assert bands.grade_a_min == 85 and bands.pass_grade == "B"
        assert {n.method for n in tree.leaves(built)} == {"scale", "yesno", "target"}
        assert max(n.depth for n in nodes) == 3


def test_export_then_import_gives_the_same_tree():
    nodes, bands = files.parse((DEMO / "demo_final.csv").read_bytes())
    strict = bands.__class__(grade_a_min=Decimal("90.5"), grade_b_min=Decimal(70), pass_grade="A")
    exported = files.to_xlsx(tree.build(nodes), strict, "末期评估指标")
    assert files.parse(exported) == (nodes, strict)
    assert files.parse(files.to_xlsx(tree.build(nodes), strict, "x")) == files.parse(exported)


def test_a_file_with_errors_names_every_row_and_column():
    rows = demo_rows()
    r, c = cell(rows, "1.1", "weight")
    rows[r][c] = "forty"                                      # not a number
    r, c = cell(rows, "1.2", "method")
    rows[r][c] = "stars"                                      # unknown method
    r, c = cell(rows, "2.3", "na_allowed")
    rows[r][c] = "perhaps"
    r, c = cell(rows, "5.1", "target")
    rows[r][c] = "ninety"
    rows.insert(5, ["1.1", "重复", "Duplicate", "10", "yesno"] + [""] * (len(files.COLUMNS) - 5))  # row 6
    r, c = cell(rows, "grade_a_min", "value")
    rows[r][c] = "high"
    with pytest.raises(ImportRefused) as exc:
        files.parse(xlsx(rows))
    found = {(p.row, p.column) for p in exc.value.problems}
    row_of = first_rows(rows)
    assert found == {(row_of["1.1"], "weight"), (row_of["1.2"], "method"), (6, "path"), (row_of["2.3"], "na_allowed"),
                     (row_of["5.1"], "target"), (row_of["grade_a_min"], "value")}


def test_the_trees_problems_are_told_on_their_rows_in_the_readers_language():
    rows = demo_rows()
    r, c = cell(rows, "2.2", "weight")
    rows[r][c] = "20"                                         # 2.x add up to 90
    r, _ = cell(rows, "1.1", "weight")
    rows[r][files.COLUMNS.index("anchor_3_en")] = ""          # an anchor missing
    rows.append(["7.1", "孤儿", "Orphan", "100", "yesno"] + [""] * (len(files.COLUMNS) - 5))
    for path in ("3.1", "5"):  # residents are asked only about a leaf of the satisfaction dimension
        r, c = cell(rows, path, "question_zh")
        rows[r][c] = "您满意吗"
    token = i18n.current_locale.set("zh_Hans")
    try:
        with pytest.raises(ImportRefused) as exc:
            files.parse(xlsx(rows))
    finally:
        i18n.current_locale.reset(token)
    row_of = first_rows(rows)
    problems = {(p.row, p.column): p.message for p in exc.value.problems}
    assert set(problems) == {(row_of["2.1"], "weight"), (row_of["1.1"], "anchor_0_zh"), (row_of["7.1"], "path"),
                             (row_of["3.1"], "question_zh"), (row_of["5"], "question_zh")}
    assert "90" in problems[(row_of["2.1"], "weight")] and "100" in problems[(row_of["2.1"], "weight")]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in problems.values())


def test_header_problems_and_excel_numbers():
    with pytest.raises(ImportRefused) as exc:
        files.parse(xlsx([["path", "name_zh", "colour"]]))
    assert {p.column for p in exc.value.problems if p.row == 1} >= {"name_en", "weight", "method", "colour"}
    # Excel keeps 1 and 1.1 typed into a fresh sheet as numbers: they read as the paths they look like
    header = list(files.COLUMNS)
    rows = [header, [1, "一", "One", 100, ""] + [""] * (len(header) - 5),
            [1.1, "一一", "One-one", 100, "yesno"] + [""] * (len(header) - 5)]
    nodes, _ = files.parse(xlsx(rows))
    assert [n.path for n in nodes] == ["1", "1.1"]
    # and 1.10 read as 1.1 is caught as a repeat, not guessed
    rows.append([1.10, "一十", "One-ten", 100, "yesno"] + [""] * (len(header) - 5))
    with pytest.raises(ImportRefused):
        files.parse(xlsx(rows))


# --- versions ------------------------------------------------------------------------------------

async def test_import_publish_and_a_published_version_never_changes(pool, bureau, database):
    from market.core import db
    data = (DEMO / "demo_final.csv").read_bytes()
    version_id = await _draft(pool, bureau, data=data)
    assert await _publish(pool, bureau, version_id) == "published"
    async with pool.acquire() as conn:
        for attempt in (lambda: indicators.import_file(conn, bureau, version_id, data),
                        lambda: indicators.edit_node(conn, bureau, version_id, "1", NodeEdit(
                            name_zh="改", name_en="x", weight=15)),
                        lambda: indicators.delete_draft(conn, bureau, version_id)):
            with pytest.raises(Conflict):
                async with conn.transaction():
                    await attempt()
        loaded = await indicators.load_version(conn, version_id)
    assert loaded.nodes[0].name_zh == "资质与管理" and loaded.status == "published"
    assert scoring.total(loaded.nodes, {p: Decimal(100) for p in scoring.leaf_paths(loaded.nodes)}) == 100
    owner = await db.connect_admin(database)
    try:
        for sql in ("update indicator_nodes set weight = 1", "delete from indicator_nodes",
                    f"update indicator_versions set grade_a_min = 80 where id = {version_id}",
                    f"delete from indicator_versions where id = {version_id}"):
            with pytest.raises(Exception, match="cannot"):
                await owner.execute(sql)
    finally:
        await owner.close()


async def test_publishing_checks_the_tree(pool, bureau):
    empty = await _draft(pool, bureau)
    with pytest.raises(InvalidFields):
        await _publish(pool, bureau, empty)
    version_id = await _draft(pool, bureau, data=(DEMO / "demo_final.csv").read_bytes())
    async with pool.acquire() as conn, conn.transaction():
        await indicators.edit_node(conn, bureau, version_id, "1", NodeEdit(name_zh="资质", name_en="Q", weight=25))
    with pytest.raises(InvalidFields) as exc:
        await _publish(pool, bureau, version_id)
    assert "110" in exc.value.errors[0].text()
    assert await pool.fetchval("select status from indicator_versions where id = $1", version_id) == "draft"


@pytest.mark.parametrize("source", workflow.VERSION.statuses)
@pytest.mark.parametrize("action", workflow.VERSION.actions)
async def test_every_version_transition_allowed_or_refused(pool, bureau, source, action):
    version_id = await _draft(pool, bureau, data=(DEMO / "demo_final.csv").read_bytes())
    async with pool.acquire() as conn:
        await conn.execute("update indicator_versions set status = $1 where id = $2", source, version_id)
        step = workflow.VERSION.find(action, source)
        async with conn.transaction():
            if step is None:
                with pytest.raises(Conflict):
                    await indicators.change_status(conn, bureau, version_id, action)
            else:
                assert await indicators.change_status(conn, bureau, version_id, action) == step.target
        status = await conn.fetchval("select status from indicator_versions where id = $1", version_id)
    assert status == (step.target if step else source)


async def test_a_new_version_is_a_copy_and_replaces_the_one_in_force(pool, bureau):
    first = await _draft(pool, bureau, data=(DEMO / "demo_final.csv").read_bytes())
    await _publish(pool, bureau, first)
    second = await _draft(pool, bureau, copy_from=first)
    async with pool.acquire() as conn, conn.transaction():
        await indicators.edit_node(conn, bureau, second, "1.1", NodeEdit(name_zh="项目团队", name_en="Team", weight=40))
    await _publish(pool, bureau, second)
    async with pool.acquire() as conn:
        old, new = await indicators.load_version(conn, first), await indicators.load_version(conn, second)
    assert (old.status, new.status) == ("retired", "published") and new.revision == old.revision + 1
    assert old.nodes[0].children[0].name_zh == "项目团队配置" and new.nodes[0].children[0].name_zh == "项目团队"
    assert tree.as_rows(old.nodes)[2:] == tree.as_rows(new.nodes)[2:]


async def test_system_for_looks_from_the_item_up_to_the_platform(pool, bureau, platform):
    async with pool.acquire() as conn, conn.transaction():
        catalogue_id = await catalogue.create_version(conn, bureau, NewCatalogue(year=2026, title_zh="2026年目录"))
        await catalogue.import_file(conn, bureau, catalogue_id, catalogue_csv())
        meals = await conn.fetchval("select id from catalogue_entries where version_id = $1 and code = '01.01.01'",
                                    catalogue_id)
        bathing = await conn.fetchval("select id from catalogue_entries where version_id = $1 and code = '01.01.02'",
                                      catalogue_id)
        station = await conn.fetchval("select id from catalogue_entries where version_id = $1 and code = '08.01.01'",
                                      catalogue_id)

    async def lookup(item, stage="final"):
        async with pool.acquire() as conn:
            return await indicators.system_for(conn, item, stage)
    assert await lookup(meals) is None
    data = (DEMO / "demo_final.csv").read_bytes()
    default = await _draft(pool, platform, data=data)
    await _publish(pool, platform, default)
    assert await lookup(meals) == default and await lookup(meals, "midterm") is None
    category = await _draft(pool, bureau, applies_to="01", data=data)
    await _publish(pool, bureau, category)
    item = await _draft(pool, bureau, applies_to="01.01.01", data=data)
    await _publish(pool, bureau, item)
    assert (await lookup(meals), await lookup(bathing), await lookup(station)) == (item, category, default)
    unpublished = await _draft(pool, bureau, applies_to="01.01.02", data=data)
    assert await lookup(bathing) == category != unpublished
    with pytest.raises(Invalid):
        await _draft(pool, bureau, applies_to="09.09")  # not in the bureau's catalogue
    with pytest.raises(NotFound):
        await lookup(999999)


async def test_who_keeps_indicator_systems(pool, settings, world, bureau):
    for name in ("provider_admin", "funder_admin", "evaluator", "resident"):
        person = world[name]
        who = await identity_of(pool, settings, person.user_id, person.org_id)
        async with pool.acquire() as conn, conn.transaction():
            with pytest.raises(Forbidden):
                await indicators.create_version(conn, who, NewSystemVersion(stage="final", title_zh="指标"))
    staff = world["buyer_staff"]
    who = await identity_of(pool, settings, staff.user_id, staff.org_id)
    version_id = await _draft(pool, who, data=(DEMO / "demo_final.csv").read_bytes())
    with pytest.raises(Forbidden):
        await _publish(pool, who, version_id)  # staff draft, administrators publish
    evaluator = world["evaluator"]
    reader = await identity_of(pool, settings, evaluator.user_id, evaluator.org_id)
    async with pool.acquire() as conn:
        with pytest.raises(NotFound):
            await indicators.get_version(conn, reader, version_id)  # a draft is its keepers'
    await _publish(pool, bureau, version_id)
    async with pool.acquire() as conn:
        assert (await indicators.get_version(conn, reader, version_id)).status == "published"
        with pytest.raises(Forbidden):
            async with conn.transaction():
                await indicators.change_status(conn, reader, version_id, "retire")


# --- pages ---------------------------------------------------------------------------------------

async def test_pages_and_twins_in_both_languages(client, pool, world, bureau):
    version_id = await _draft(pool, bureau, data=(DEMO / "demo_final.csv").read_bytes())
    assert (await client.get("/api/indicators")).status_code == 401
    await act_as(client, pool, client.app.state.settings, world["evaluator"].user_id)
    assert (await client.get(f"/indicators/versions/{version_id}")).status_code == 404
    await _publish(pool, bureau, version_id)
    twin = (await client.get(f"/api/indicators/versions/{version_id}")).json()
    assert twin["manager"] is False and twin["actions"] == [] and twin["system"]["nodes"][4]["satisfaction"] is True
    assert twin["system"]["nodes"][0]["children"][0]["anchors"][0]["text_zh"] == "未开展，无任何佐证材料"
    listing = (await client.get("/api/indicators")).json()
    assert [v["id"] for v in listing["versions"]] == [version_id] and listing["may_create"] is False
    for locale, words in (("zh_Hans", ("服务对象满意度", "末期评估", "达到要求")),
                          ("en", ("Beneficiary satisfaction", "final evaluation", "Meets the requirement"))):
        text = (await client.get(f"/indicators/versions/{version_id}?lang={locale}")).text
        assert all(w in text for w in words), (locale, [w for w in words if w not in text])
    export = await client.get(f"/indicators/versions/{version_id}/export")
    assert export.status_code == 200 and files.parse(export.content)[0][0].name_zh == "资质与管理"


async def test_keeping_a_system_through_the_pages(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    assert "Start a new draft" in (await client.get("/indicators?lang=en")).text
    assert (await client.get("/api/indicators")).json()["may_create"] is True
    r = await post_form(client, "/indicators/versions", {"stage": "midterm", "title_zh": "x"})
    assert r.status_code == 400 and 'id="e-title_zh"' in r.text
    r = await post_form(client, "/indicators/versions", {"stage": "midterm", "title_zh": "中期评估指标"})
    version_id = int(landed(r, "indicators_draft_created").rsplit("/", 1)[1])
    assert "指标体系草稿已创建" in (await client.get(r.headers["location"] + "&lang=zh_Hans")).text
    rows = demo_rows("midterm")
    r_, c = cell(rows, "3.1", "weight")
    rows[r_][c] = "30"
    bad = await client.post(f"/indicators/versions/{version_id}/import", data={"_csrf_token": client.cookies["market_csrf"]},
                            files={"file": ("中期.xlsx", xlsx(rows), "application/octet-stream")})
    assert bad.status_code == 400 and f"<td>{first_rows(rows)['3.1']}</td>" in bad.text and "95" in bad.text
    assert await pool.fetchval("select count(*) from indicator_nodes where version_id = $1", version_id) == 0
    r = await client.post(f"/api/indicators/versions/{version_id}/import", headers=api_headers(client),
                          files={"file": ("中期.xlsx", xlsx(demo_rows("midterm")), "application/octet-stream")})
    assert r.status_code == 201 and r.json() == {"nodes": 20}
    form = await client.get(f"/indicators/versions/{version_id}/nodes/1.1")
    assert form.status_code == 200 and "项目团队配置" in form.text
    r = await post_form(client, f"/indicators/versions/{version_id}/nodes/1.1",
                        {"name_zh": "项目团队", "name_en": "Team", "weight": "40", "na_allowed": "yes"})
    assert r.status_code == 303
    r = await post_form(client, f"/indicators/versions/{version_id}/nodes/1.1", {"name_zh": "项目团队", "name_en": "Team",
                                                                                  "weight": "400"})
    assert r.status_code == 400 and 'id="e-weight"' in r.text
    # How residents are asked: offered, and kept, on a leaf of the satisfaction dimension alone.
    assert 'name="question_zh"' not in form.text
    asked = await client.get(f"/indicators/versions/{version_id}/nodes/5.2")
    assert 'name="question_zh"' in asked.text and "这个项目给社区带来的变化" in asked.text
    r = await post_form(client, f"/indicators/versions/{version_id}/nodes/1.1",
                        {"name_zh": "项目团队", "name_en": "Team", "weight": "40", "question_zh": "您满意吗"})
    assert r.status_code == 400 and "只有服务对象满意度部分下没有下级指标的指标才向居民提问" in r.text
    assert await pool.fetchval("select question_zh from indicator_nodes where version_id = $1 and path = '1.1'",
                               version_id) == ""
    r = await post_form(client, f"/indicators/versions/{version_id}/nodes/5.2",
                        {"name_zh": "社区居委会评价", "name_en": "The community committee's assessment", "weight": "30",
                         "question_zh": "项目给小区带来的变化", "question_en": "What the project changed here"})
    assert r.status_code == 303
    assert "向居民提问：项目给小区带来的变化" in (await client.get(f"/indicators/versions/{version_id}?lang=zh_Hans")).text
    r = await post_form(client, f"/indicators/versions/{version_id}/publish")
    assert r.status_code == 400 and 'id="e-confirmed-publish"' in r.text
    r = await post_form(client, f"/indicators/versions/{version_id}/publish", {"confirmed-publish": "yes"})
    landed(r, "indicators_published")
    assert "The indicator system is published" in (await client.get(r.headers["location"] + "&lang=en")).text
    system = (await client.get(f"/api/indicators/versions/{version_id}")).json()["system"]
    assert system["status"] == "published" and system["nodes"][0]["children"][0]["na_allowed"] is True
