"""Open data in OCDS 1.1 (/api/ocds): every package is valid against the standard's own release
package schema, and every coded value is in the standard's codelist (the 1.1.5 files in
`ocds-1.1.5/`); a call's release tells its tender, award, contract, milestones met and money paid out as
the pages do, and nothing the pages keep back (a sealed bid's bidder, a private donor); the pages of
all releases give every published call once, a draft never."""

from __future__ import annotations

import csv
import gzip
import json
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from market.app import load_settings
from market.core import clock
from market.core.settings import SettingsError
from market.opendata import bulk, ocds
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.needs import services as needs
from market.procurement.needs.models import NeedInput, ProjectInput
from market.procurement.calls.models import CriterionInput
from tests.factories import (
    accept_milestones,
    bid_input,
    call_input,
    do,
    evaluate_delivery,
    make_project,
    travel,
    who,
)

HERE = Path(__file__).parent / "ocds-1.1.5"
_RELEASE = json.loads((HERE / "release-schema.json").read_text())
_PACKAGE = json.loads((HERE / "release-package-schema.json").read_text())
# The package schema refers to the release schema by its published address: found here, not fetched.
VALIDATOR = Draft4Validator(_PACKAGE, format_checker=FormatChecker(), registry=Registry().with_resource(
    _RELEASE["id"], Resource.from_contents(_RELEASE, default_specification=DRAFT4)))
# Codes outside the standard's open codelists, each for a reason: the product's own purchasing catalogue
# classifies what a call buys (no international scheme has the catalogue's items).
OUR_CODES = {"itemClassificationScheme.csv": {"x_market_catalogue"}}


def valid(package: dict) -> dict:
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(package)]
    for release in package["releases"]:
        problems += off_codelist(_RELEASE, release, release["ocid"])
    assert not problems, problems[:10]
    return package


@cache
def codes(codelist: str) -> frozenset[str]:
    with (HERE / "codelists" / codelist).open(newline="") as fh:
        return frozenset(row["Code"] for row in csv.DictReader(fh)) | OUR_CODES.get(codelist, set())


def off_codelist(schema: dict, value: object, path: str) -> list[str]:
    """Each value of a coded field (open codelists too, which the schema leaves open) not in its codelist,
    walking the release schema beside the value."""
    if "$ref" in schema:
        return off_codelist(_RELEASE["definitions"][schema["$ref"].rsplit("/", 1)[1]], value, path)
    problems = []
    if "codelist" in schema and value is not None:
        problems += [f"{path}: {code!r} is not in {schema['codelist']}"
                     for code in (value if isinstance(value, list) else [value]) if code not in codes(schema["codelist"])]
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in schema.get("properties", {}):
                problems += off_codelist(schema["properties"][key], item, f"{path}/{key}")
    elif isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            problems += off_codelist(schema["items"], item, f"{path}/{n}")
    return problems


def test_the_codelist_check_finds_a_code_the_standard_does_not_have():
    release = {"parties": [{"id": "1", "roles": ["buyer", "sponsor"]}],
               "contracts": [{"implementation": {"milestones": [{"type": "payment"}, {"type": "handover"}]}}]}
    assert off_codelist(_RELEASE, release, "r") == [
        "r/parties/0/roles: 'sponsor' is not in partyRole.csv",
        "r/contracts/0/implementation/milestones/1/type: 'handover' is not in milestoneType.csv"]


async def test_a_calls_release_tells_its_tender_award_contract_and_delivery(client, pool, settings, world, signed):
    call_id = await pool.fetchval("select call_id from contracts where id = $1", signed)
    due = await pool.fetchval("select due_date from contract_milestones where contract_id = $1 and position = 1",
                              signed)
    await travel(pool, days=(due - clock.today()).days)
    before = (await client.get(f"/api/ocds/calls/{call_id}")).json()["releases"][0]
    await accept_milestones(pool, settings, world, signed, [1])
    package = valid((await client.get(f"/api/ocds/calls/{call_id}")).json())
    (release,) = package["releases"]
    # A milestone met is a change: the release gets a new date, so a new id.
    assert release["id"] != before["id"] and release["date"] > before["date"]
    assert release["date"] >= release["contracts"][0]["implementation"]["milestones"][0]["dateMet"]
    assert package["publishedDate"] == release["date"]  # made on demand: dated by the last change it tells
    call = await pool.fetchrow("select * from calls where id = $1", call_id)
    award = await pool.fetchrow("select a.*, b.provider_id from awards a join bids b on b.id = a.bid_id "
                                "where a.call_id = $1", call_id)
    assert release["ocid"] == f"ocds-market-call-{call_id}" and release["tag"] == ["compiled"]
    tender = release["tender"]
    assert (tender["title"], tender["value"], tender["procurementMethod"], tender["status"]) == (
        call["title_zh"], {"amount": call["budget_ceiling_fen"] / 100, "currency": "CNY"}, "open", "complete")
    assert tender["numberOfTenderers"] == len(tender["tenderers"]) == 2  # named once the ranking is published
    # Who may bid and how bids are scored, as the call's page says them, in both languages.
    assert (tender["awardCriteria"], tender["submissionMethod"]) == ("ratedCriteria", ["electronicSubmission"])
    assert tender["awardCriteriaDetails"] == "; ".join(
        f"{c['name_zh']} {c['weight']}%" + ("（最低分 {}）".format(c["min_score"]) if c["min_score"] is not None else "")
        + ("（按报价公式计分）" if c["is_price"] else "")
        for c in await pool.fetch("select * from call_criteria where call_id = $1 order by position", call_id)
    ).replace("; ", "；")
    assert "Minimum score" in tender["awardCriteriaDetails_en"] and "by formula from the price" in tender["awardCriteriaDetails_en"]
    assert tender["eligibilityCriteria"].startswith("社会") and tender["eligibilityCriteria_en"].startswith("Social")
    # The project behind it: its budget and where the money comes from.
    bought_for = await pool.fetchrow("select * from projects where id = $1", call["project_id"])
    assert release["planning"]["budget"]["description"] == bought_for["budget_line"]
    assert release["planning"]["budget"]["amount"] == {"amount": bought_for["budget_fen"] / 100, "currency": "CNY"}
    assert release["buyer"]["id"] == f"market-org-{world.orgs['bureau']}"
    (awarded,) = release["awards"]
    assert awarded["status"] == "active" and awarded["value"]["amount"] == award["amount_fen"] / 100
    assert awarded["suppliers"][0]["id"] == f"market-org-{award['provider_id']}"
    (contract,) = release["contracts"]
    assert contract["awardID"] == awarded["id"] and contract["status"] == "active" and contract["dateSigned"]
    milestones = contract["implementation"]["milestones"]
    assert milestones[0]["status"] == "met" and {m["type"] for m in milestones} == {"delivery", "reporting", "payment"}
    paid = await pool.fetchval("select coalesce(sum(amount_fen), 0) from disbursements where contract_id = $1", signed)
    assert sum(t["value"]["amount"] for t in contract["implementation"]["transactions"]) == paid / 100
    # A payment milestone met has the money paid for it among the transactions (as OCDS asks).
    assert [m["type"] for m in milestones if m["status"] == "met"] == ["payment"] and paid > 0
    assert (milestones[0]["title"], milestones[0]["title_en"]) == ("合同签订后首期拨付", "First payment, on signing")
    parties = {p["id"]: p for p in release["parties"]}
    assert set(parties[awarded["suppliers"][0]["id"]]["roles"]) >= {"supplier", "tenderer"}
    assert parties[release["buyer"]["id"]]["identifier"]["id"] == await pool.fetchval(
        "select credit_code from organisations where id = $1", world.orgs["bureau"])
    # Its documents are the product's own public pages and files: the call's notice, the signed contract.
    assert tender["documents"][0]["url"].endswith(f"/calls/{call_id}")
    (signed_pdf,) = contract["documents"]
    assert (signed_pdf["documentType"], signed_pdf["format"]) == ("contractSigned", "application/pdf")
    path = signed_pdf["url"].removeprefix(settings.base_url)
    read = await client.get(path)
    assert read.status_code == 200 and read.headers["content-type"] == "application/pdf"  # by anyone
    # The call's page links it, for anyone.
    page = (await client.get(f"/calls/{call_id}?lang=zh_Hans")).text
    assert f'href="/api/ocds/calls/{call_id}"' in page and "开放合同数据标准" in page
    # Never a bid's content, a person or an address.
    text = json.dumps(package, ensure_ascii=False)
    bid = await pool.fetchrow("select objectives, team from bids where call_id = $1 limit 1", call_id)
    assert bid["objectives"] not in text and bid["team"] not in text and "私密地址" not in text


async def test_a_release_tells_a_calls_amendments_the_call_it_follows_and_its_delivery_evaluated(
        client, pool, settings, world, published, signed):
    """What the call's page and the contract's page tell besides: each change to the published call (when
    and which terms), the project's earlier call that was cancelled (a related process, by its ocid), and
    each decided delivery evaluation's public report among the contract's documents."""
    bureau = await who(pool, settings, world, "buyer_admin")
    project = await make_project(pool, settings, world, published, title="青年路社区助餐服务")
    async with pool.acquire() as conn, conn.transaction():
        first = await calls.create_call(conn, bureau, call_input(project, title_zh="青年路社区助餐服务采购",
                                                                budget_ceiling_fen=90_000_00))
        await calls.publish_call(conn, bureau, first)
        await calls.cancel_call(conn, bureau, first, "服务范围需要调整。")
        second = await calls.create_call(conn, bureau, call_input(project, title_zh="青年路社区助餐服务采购（重新发布）",
                                                                 title_en="Meals for Qingnian Road (again)",
                                                                 budget_ceiling_fen=90_000_00))
        await calls.publish_call(conn, bureau, second)
    before = valid((await client.get(f"/api/ocds/calls/{second}")).json())["releases"][0]
    assert "amendments" not in before["tender"]
    await travel(pool, hours=1)
    await do(pool, calls.update_call, bureau, second, call_input(
        project, title_zh="青年路社区助餐服务采购（重新发布）", title_en="Meals for Qingnian Road (again)",
        budget_ceiling_fen=80_000_00, criteria=[CriterionInput(name_zh="项目设计", weight=70),
                                                 CriterionInput(name_zh="价格", weight=30, is_price=True)]))
    (release,) = valid((await client.get(f"/api/ocds/calls/{second}")).json())["releases"]
    (amendment,) = release["tender"]["amendments"]
    assert amendment["description"] == "修改了：最高限价、评分办法" and amendment["date"] == release["date"] > before["date"]
    assert release["tender"]["title_en"] == "Meals for Qingnian Road (again)"
    (related,) = release["relatedProcesses"]
    assert (related["relationship"], related["scheme"], related["identifier"], related["title"]) == (
        ["unsuccessfulProcess"], "ocid", f"ocds-market-call-{first}", "青年路社区助餐服务采购")
    cancelled = valid((await client.get(related["uri"].removeprefix(settings.base_url))).json())["releases"][0]
    assert cancelled["tender"]["status"] == "cancelled" and "relatedProcesses" not in cancelled
    # The contract's mid-term evaluation decided: its report is one of the contract's documents, for anyone.
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=80)
    call_id = await pool.fetchval("select call_id from contracts where id = $1", signed)
    (contract,) = valid((await client.get(f"/api/ocds/calls/{call_id}")).json())["releases"][0]["contracts"]
    (report,) = contract["implementation"]["documents"]
    assert (report["documentType"], report["title"], report["title_en"]) == (
        "physicalProgressReport", "中期评估：合格", "Mid-term evaluation: passed")
    read = await client.get(report["url"].removeprefix(settings.base_url))
    assert read.status_code == 200 and read.headers["content-type"] == "application/pdf"


async def test_an_open_calls_bidders_stay_sealed_and_a_draft_is_not_published(client, pool, settings, world,
                                                                               open_call, published):
    await do(pool, bids.submit, await who(pool, settings, world, "provider_admin"), open_call, bid_input())
    tender = valid((await client.get(f"/api/ocds/calls/{open_call}")).json())["releases"][0]["tender"]
    assert tender["status"] == "active" and "tenderers" not in tender and "numberOfTenderers" not in tender
    bureau = await who(pool, settings, world, "buyer_admin")
    other = await make_project(pool, settings, world, published, title="青年路社区助餐服务")
    draft = await do(pool, calls.create_call, bureau, call_input(other, title_zh="尚未发布的草稿采购", budget_ceiling_fen=90_000_00))
    assert (await client.get(f"/api/ocds/calls/{draft}")).status_code == 404
    await travel(pool, days=40)  # past the deadline: how many bid is public, as on the call's page; who, not yet
    tender = valid((await client.get(f"/api/ocds/calls/{open_call}")).json())["releases"][0]["tender"]
    assert tender["numberOfTenderers"] == 1 and "tenderers" not in tender


async def test_the_pages_of_releases_give_every_published_call_once(client, pool, settings, world, published):
    bureau = await who(pool, settings, world, "buyer_admin")
    public = []
    resident = await who(pool, settings, world, "resident")
    need = await do(pool, needs.raise_need, resident, NeedInput(
        title="青年路社区老人洗澡难", description="社区里有失能老人需要上门助浴。", community_id=world.community,
        beneficiaries="失能老人"))
    for n in range(5):
        project = await do(pool, needs.create_project, bureau, ProjectInput(
            title_zh=f"青年路社区第{n}项服务", description="为独居老人提供上门助浴服务。",
            catalogue_entry_id=published["01.01.02"], budget_fen=100_000_00, budget_line="福彩公益金",
            jurisdiction_id=world.street, need_ids=[need] if n == 0 else []))
        async with pool.acquire() as conn, conn.transaction():
            call_id = await calls.create_call(conn, bureau, call_input(project, title_zh=f"第{n}个公开采购项目", budget_ceiling_fen=90_000_00))
            if n != 2:  # one stays a draft
                await calls.publish_call(conn, bureau, call_id)
                public.append(call_id)
    seen, cursor = [], None
    while True:
        async with pool.acquire() as conn:
            package = valid(await ocds.page(conn, settings, cursor, "http://test/api/ocds/releases", limit=2))
        seen += [int(r["ocid"].rsplit("-", 1)[1]) for r in package["releases"]]
        assert (package["total"], package["totalEstimated"]) == (len(public), False)
        assert len(package["releases"]) <= 2
        if "next" not in package["links"]:
            break
        cursor = unquote(package["links"]["next"].split("cursor=", 1)[1])
    assert seen == public
    async with pool.acquire() as conn:
        (made_of_needs,) = await ocds.releases(conn, settings, [public[0]])
    assert made_of_needs["planning"]["rationale"].startswith("由 1 项居民需求立项")  # 居民需求服务项目化
    home = (await client.get("/?lang=zh_Hans")).text
    assert 'href="/opendata"' in home and "开放数据（OCDS）" in home  # every page's footer
    first = valid((await client.get("/api/ocds/releases")).json())
    assert [int(r["ocid"].rsplit("-", 1)[1]) for r in first["releases"]] == public
    assert first["publishedDate"] == max(r["date"] for r in first["releases"])  # one zone, so the text orders
    await _the_bulk_file_holds_them_all_and_is_made_daily(client, pool, public, first)


async def _the_bulk_file_holds_them_all_and_is_made_daily(client, pool, public, paged):
    """Every release in one file, as the pages give them, made once a day by whichever process finds it
    due; a reader finds it from every page's footer and reads it again only when it changed."""
    storage, settings = client.app.state.storage, client.app.state.settings
    assert "首个文件在首次请求时生成" in (await client.get("/opendata?lang=zh_Hans")).text
    first_asked = await client.get(bulk.PATH)  # before any process made it: made for the first reader
    async with pool.acquire() as conn:
        made, _ = await bulk.newest(conn)
        assert await bulk.make_if_due(conn, storage, settings) is None  # once a day
    assert first_asked.status_code == 200 and first_asked.headers["etag"] == f'"{made.sha256}"'
    home = (await client.get("/?lang=en")).text
    assert 'href="/opendata"' in home  # every page's footer
    shown = (await client.get("/opendata?lang=en")).text
    assert f'href="{bulk.PATH}"' in shown and made.sha256 in shown and "Download every release" in shown
    twin = (await client.get("/api/opendata")).json()
    assert (twin["bulk"]["releases"], twin["bulk"]["sha256"], twin["bulk"]["url"]) == (len(public), made.sha256, bulk.PATH)
    got = await client.get(bulk.PATH)
    assert got.headers["content-type"] == bulk.CONTENT_TYPE and got.headers["etag"] == f'"{made.sha256}"'
    package = valid(json.loads(gzip.decompress(got.content)))
    assert package["releases"] == paged["releases"] and package["publishedDate"] == paged["publishedDate"]
    assert (await client.get(bulk.PATH, headers={"if-none-match": f'"{made.sha256}"'})).status_code == 304
    # A day later it is made again; the newest two files are kept, an older one goes from the storage.
    keys = []
    for _ in range(3):
        await travel(pool, days=1, hours=1)
        async with pool.acquire() as conn:
            assert await bulk.make_if_due(conn, storage, settings) is not None
            keys.append((await bulk.newest(conn))[1])
    assert await pool.fetchval("select count(*) from opendata_exports") == 2
    with pytest.raises(FileNotFoundError):
        storage.get(keys[0])
    assert gzip.decompress(storage.get(keys[2]))


def test_the_prefix_is_a_setting_checked_at_start():
    assert load_settings({"MARKET_OCDS_PREFIX": "ocds-abc123"}).ocds_prefix == "ocds-abc123"
    with pytest.raises(SettingsError):
        load_settings({"MARKET_OCDS_PREFIX": "my-prefix"})
