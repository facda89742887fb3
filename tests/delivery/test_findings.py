"""A decided delivery evaluation's findings become rectification items (one per indicator scored
below 60 % of its maximum, or one for a failed total), owned by the provider, verified by the buyer,
due after MARKET_RECTIFICATION_DAYS; they show on the contract page and on the provider's next
evaluation panel, and lower its scorecard — and so its fit — until verified."""

from datetime import timedelta
from decimal import Decimal

from market.core import clock
from market.delivery import rounds, scorecard
from market.delivery import services as delivery
from market.evaluation import services as engine
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators import tree
from market.evaluation.indicators.models import NewSystemVersion
from market.evaluation.models import ScoreInput
from market.evaluation.views import panel_view
from market.procurement.contracts import services as contracts
from market.rectification import services as items
from market.storage.services import storage_from_settings
from tests.conftest import act_as
from tests.factories import PNG, do, evaluate_delivery, open_delivery_round, stage_reports_accepted, travel, who
from tests.indicator_files import demo_rows, xlsx


async def _decided(pool, settings, world, contract_id, scores, stage="midterm", days=30):
    """Open, score (every criterion by its path or position, as given) and decide a round."""
    panel_id, chair = await open_delivery_round(pool, settings, world, contract_id, stage)
    for c in await do(pool, engine.criteria_of, panel_id):
        answer = scores[c.indicator_path or str(c.position)]
        for record in (engine.score, engine.record_consensus):
            await do(pool, record, chair, panel_id, ScoreInput(candidate_id=contract_id, position=c.position, **answer))
    await do(pool, rounds.decide_round, await who(pool, settings, world, "buyer_admin"), contract_id, stage, days)
    return panel_id


async def test_a_failed_plain_evaluation_is_one_finding_for_the_provider(client, pool, settings, world, signed):
    panel_id = await _decided(pool, settings, world, signed, {"1": {"score": 50}}, days=20)
    (item,) = await pool.fetch("select * from rectification_items")
    assert (item["source"], item["source_id"], item["key"]) == ("evaluation", panel_id, "criterion-1")
    assert (item["owner_id"], item["buyer_id"]) == (world.orgs["provider"], world.orgs["bureau"])
    assert item["due"] == clock.today() + timedelta(days=20)
    assert "50" in item["finding_zh"] and item["evidence_required"]
    # the provider's two people are told once each, linked to its open items
    told = await pool.fetch("select user_id, link, params from notifications where kind = 'rectification_findings'")
    assert len(told) == 2 and {n["link"] for n in told} == {f"/rectification?status=open&organisation={item['owner_id']}"}
    assert told[0]["params"]["count"] == 1 and told[0]["params"]["contract"] == signed
    assert await pool.fetchval("select count(*) from notifications where kind = 'rectification_raised'") == 0
    # The contract page lists it, and the provider's next evaluation panel shows it beside the indicators.
    view = await do(pool, delivery.contract_view, None, signed, 7)
    assert [i.id for i in view.rectification.items] == [item["id"]] and view.rectification.total == 1
    bureau = await who(pool, settings, world, "buyer_admin")
    await stage_reports_accepted(pool, settings, world, signed, "final")
    final_panel = await do(pool, rounds.open_round, bureau, signed, "final")
    assert [i.id for i in (await do(pool, panel_view, bureau, final_panel)).rectification.items] == [item["id"]]
    await act_as(client, pool, settings, world["buyer_admin"].user_id, world.orgs["bureau"])
    assert f'data-item="{item["id"]}"' in (await client.get(f"/panels/{final_panel}")).text
    assert f'data-item="{item["id"]}"' in (await client.get(f"/contracts/{signed}")).text
    assert "data-total" not in (await client.get(f"/contracts/{signed}")).text

    # Many findings (a failed evaluation's fourteen indicators): the pages show the five due first and
    # say how many there are, the panel with the way to the rest.
    for n in range(1, 7):
        async with pool.acquire() as conn, conn.transaction():
            await items.raise_item(conn, source="evaluation", source_id=panel_id, key=f"later-{n}",
                                   owner_id=item["owner_id"], buyer_id=item["buyer_id"], finding_zh=f"第{n}项",
                                   finding_en="", evidence_required="", due=item["due"] + timedelta(days=n))
    view = await do(pool, delivery.contract_view, None, signed, 7)
    assert view.rectification.total == 7 and len(view.rectification.items) == 5
    assert view.rectification.items[0].id == item["id"] and view.rectification.items[-1].finding_zh == "第4项"
    contract_page = (await client.get(f"/contracts/{signed}?lang=zh_Hans")).text
    assert contract_page.count('data-item="') == 5 and "共 7 项，此处列出最先到期的 5 项。" in contract_page
    panel_page = (await client.get(f"/panels/{final_panel}?lang=en")).text
    assert "The 5 due first of 7." in panel_page
    assert f'href="/rectification?organisation={item["owner_id"]}"' in panel_page[panel_page.index('data-total="7"'):]


async def test_a_passed_plain_evaluation_finds_nothing(pool, settings, world, signed):
    await _decided(pool, settings, world, signed, {"1": {"score": 80}})
    assert await pool.fetchval("select count(*) from rectification_items") == 0


async def test_each_low_indicator_is_a_finding_asking_for_its_evidence(pool, settings, world, contract_id):
    platform = await who(pool, settings, world, "platform_admin")
    async with pool.acquire() as conn, conn.transaction():
        version = await indicators.create_version(conn, platform, NewSystemVersion(
            stage="midterm", title_zh="中期指标", title_en="mid-term indicators"))
        await indicators.import_file(conn, platform, version, xlsx(demo_rows("midterm")))
        await indicators.change_status(conn, platform, version, "publish")
    for name in ("buyer_admin", "provider_admin"):
        await do(pool, contracts.sign, await who(pool, settings, world, name), contract_id)
    system = await do(pool, indicators.load_version, version)
    leaves = {leaf.path: leaf for leaf in tree.leaves(system.nodes)}
    # Everything at full marks but two: a scale leaf at 2 of 5 points (40) and a yes/no leaf "no" (0).
    scores = {p: {"score": 100} for p, leaf in leaves.items() if leaf.method in ("scale", "yesno")}
    scores |= {p: {"score": None, "achieved": float(leaf.target)} for p, leaf in leaves.items() if leaf.target is not None}
    scores |= {p: {"score": 100} for p, leaf in leaves.items() if leaf.method == "target" and leaf.target is None}
    scores |= {p: {"score": None} for p, leaf in leaves.items() if p not in scores}
    scores |= {"1.1": {"score": 40}, "1.3": {"score": 0}}
    panel_id = await _decided(pool, settings, world, contract_id, scores)
    found = {r["key"]: r for r in await pool.fetch("select * from rectification_items where source_id = $1",
                                                   panel_id)}
    positions = {c.indicator_path: c.position for c in await do(pool, engine.criteria_of, panel_id)}
    assert set(found) == {f"criterion-{positions['1.1']}", f"criterion-{positions['1.3']}"}
    low = found[f"criterion-{positions['1.1']}"]
    assert low["evidence_required"] == (leaves["1.1"].evidence_zh or leaves["1.1"].evidence_en or low["evidence_required"])
    assert leaves["1.1"].name_zh in low["finding_zh"]
    # two findings, one notice to each of the provider's people saying so
    told = await pool.fetch("select user_id, params from notifications where kind = 'rectification_findings'")
    assert sorted(n["params"]["count"] for n in told) == [2, 2] and len({n["user_id"] for n in told}) == 2


async def test_unverified_items_lower_the_scorecard_until_verified(client, pool, settings, world, signed):
    await evaluate_delivery(pool, settings, world, signed, "midterm", total=90)
    provider = world.orgs["provider"]

    async def summary():
        return (await do(pool, scorecard.summaries, [provider]))[provider]

    assert ((await summary()).score, (await summary()).grade) == (Decimal("90.00"), "A")
    item_id = await do(pool, lambda conn: items.raise_item(
        conn, source="complaint", source_id=1, key="1", owner_id=provider, buyer_id=world.orgs["bureau"],
        finding_zh="上门服务迟到", finding_en="Late home visits", evidence_required="排班表", due=clock.today()
        + timedelta(days=5)))
    in_time = await summary()
    assert (in_time.score, in_time.grade, in_time.open_items) == (Decimal("89.00"), "A", 1)  # one point off
    await travel(pool, days=6)
    late = await summary()
    # A late item caps the summary one band lower: at most just under A.
    assert (late.score, late.grade, late.late_items, late.before_rectification) == (Decimal("84.99"), "B", 1,
                                                                                    Decimal("90.00"))
    await act_as(client, pool, settings, None)
    page = (await client.get(f"/organisations/{provider}/scorecard")).text
    assert 'id="rectification-rule"' in page and 'data-late="1"' in page
    twin = (await client.get(f"/api/organisations/{provider}/scorecard")).json()
    assert twin["summary"]["grade"] == "B" and twin["summary"]["late_items"] == 1
    owner = await who(pool, settings, world, "provider_admin")
    await do(pool, items.submit_fix, storage_from_settings(settings), settings, owner, item_id, "已调整排班，按时上门。",
             [(PNG, "排班表.png")])
    await do(pool, items.verify, await who(pool, settings, world, "buyer_admin"), item_id)
    assert ((await summary()).score, (await summary()).grade) == (Decimal("90.00"), "A")
