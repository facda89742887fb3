"""Dockings (issue 5, parts 3 and 4): a fair's docking and a rolling docking run's suggestion become a
'fair_docking' call awarded to the provider under notice, then a contract; the rolling run's pins
and bans; a foundation's pledge of what a run suggests; and who may do what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.core.i18n import use_locale
from market.funding.pledges import services as pledges
from market.funding.pledges.models import PledgeInput
from market.funding.resources import services as resources
from market.funding.resources.models import ResourceInput
from market.matching.docking import dockings, rolling
from market.matching.docking.dockings import DockingInput
from market.matching.docking.rolling import RuleInput
from market.matching.fairs import services as fairs
from market.matching.fairs.models import FairInput, ItemInput, RaiseInput
from market.matching.scoring.weights import Weights
from market.matching.solver import solve as solver
from market.procurement.awards import services as awards
from market.procurement.calls import services as calls
from market.procurement.contracts import services as contracts
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import do, end_notice, who

W = Weights()


def terms(amount_fen: int = 100_000_00, **change) -> DockingInput:
    values = {"amount_fen": amount_fen, "service_start": date.today() + timedelta(days=30),
              "service_end": date.today() + timedelta(days=395), "service_place": "湖滨街道"}
    return DockingInput(**{**values, **change})


@pytest.fixture
async def funded(pool, settings, world, market):
    """The world's funder offers ¥30,000 more, for anything: ¥60,000 in all, so project A's ¥50,000
    shortfall can be met."""
    await do(pool, resources.create, await who(pool, settings, world, "funder_admin"),
              ResourceInput(kind="money", title="企业公益金", amount_fen=30_000_00))
    return market


async def _counts(pool) -> tuple[int, ...]:
    return tuple([await pool.fetchval(f"select count(*) from {t}")
                  for t in ("calls", "bids", "awards", "dockings", "pledges", "docking_runs", "docking_rules")])


async def test_a_run_suggests_a_provider_and_funding_for_each_waiting_project(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn:
        assert set(await rolling.open_projects(conn, bureau)) == {funded["a"], funded["b"]}
    run_id = await do(pool, rolling.run, bureau, W)
    async with pool.acquire() as conn:
        with use_locale("en"):
            view = await rolling.view(conn, bureau)
    assert view.run.id == run_id and len(view.waiting) == 2
    by_project = {s.project_id: s for s in view.run.suggestions}
    a, b = by_project[funded["a"]], by_project[funded["b"]]
    o = world.orgs
    assert (a.provider_id, a.price_fen, a.provider_name) == (o["provider"], 250_000_00, "Test provider")
    # A costs ¥250,000 against ¥200,000 of budget: the funder pays exactly the ¥50,000 shortfall.
    assert [(f.funder_id, f.amount_fen) for f in a.funding] == [(o["funder"], 50_000_00)]
    assert (b.provider_id, b.funding) == (o["provider"], [])
    assert 0 <= view.run.gap <= 0.01 and view.run.objective <= view.run.upper_bound + 1e-6
    # The run keeps the solver's input: solving it again gives the same answer (the CLI can check it).
    row = await pool.fetchrow("select instance, result from docking_runs where id = $1", run_id)
    async with pool.acquire() as conn:
        assert await rolling.instance(conn, bureau, run_id) == row["instance"]
    again = solver.solve(msgspec.convert(row["instance"], solver.Instance))
    assert msgspec.to_builtins(again)["assignments"] == row["result"]["assignments"]
    assert msgspec.to_builtins(again)["funding"] == row["result"]["funding"]


async def test_a_pledge_that_stands_counts_as_money_the_project_has(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, pledges.create, await who(pool, settings, world, "funder_admin"),
             PledgeInput(target_type="project", target_id=funded["a"], amount_fen=20_000_00))
    await do(pool, rolling.run, bureau, W)
    async with pool.acquire() as conn:
        view = await rolling.view(conn, bureau)
    a = next(s for s in view.run.suggestions if s.project_id == funded["a"])
    # A costs ¥250,000 against ¥200,000 of budget and ¥20,000 pledged: funders are asked for the
    # ¥30,000 left, not the whole ¥50,000 again.
    assert a.gov_money_fen == 220_000_00
    assert [(f.funder_id, f.amount_fen, f.pledged) for f in a.funding] == [(world.orgs["funder"], 30_000_00, True)]


async def test_pins_and_bans_steer_the_next_run_and_are_checked(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    o = world.orgs
    await do(pool, rolling.set_rule, bureau, RuleInput(project_id=funded["a"], provider_id=o["far_provider"],
                                                        rule="pin"), W)
    await do(pool, rolling.set_rule, bureau, RuleInput(project_id=funded["b"], provider_id=o["provider"],
                                                        rule="ban"), W)
    await do(pool, rolling.run, bureau, W)
    async with pool.acquire() as conn:
        view = await rolling.view(conn, bureau)
    chosen = {s.project_id: s.provider_id for s in view.run.suggestions}
    # A keeps the pinned agency from the other district; B goes to its second-best provider.
    assert chosen == {funded["a"]: o["far_provider"], funded["b"]: o["other_provider"]}
    assert {(r.project_id, r.provider_id, r.rule) for r in view.rules} == {
        (funded["a"], o["far_provider"], "pin"), (funded["b"], o["provider"], "ban")}
    # A second pin on the same project replaces the first; clearing removes it.
    await do(pool, rolling.set_rule, bureau, RuleInput(project_id=funded["a"], provider_id=o["provider"],
                                                        rule="pin"), W)
    assert await pool.fetch("select provider_id from docking_rules where rule = 'pin'") == [(o["provider"],)]
    await do(pool, rolling.set_rule, bureau, RuleInput(project_id=funded["b"], provider_id=o["provider"],
                                                        rule="clear"), W)
    await do(pool, rolling.run, bureau, W)
    async with pool.acquire() as conn:
        view = await rolling.view(conn, bureau)
    assert {s.project_id: s.provider_id for s in view.run.suggestions} == {funded["a"]: o["provider"],
                                                                          funded["b"]: o["provider"]}

    before = await _counts(pool)
    # A conflict of interest cannot be pinned: the reason is given.
    with pytest.raises(InvalidFields) as refused, use_locale("en"):
        await do(pool, rolling.set_rule, bureau, RuleInput(project_id=funded["a"], provider_id=o["street_provider"],
                                                            rule="pin"), W)
    with use_locale("en"):
        assert "a conflict of interest" in refused.value.field_errors()["provider_id"]
    with pytest.raises(InvalidFields):  # another buyer's project is not this owner's to steer
        await do(pool, rolling.set_rule, await who(pool, settings, world, "buyer_admin"),
                  RuleInput(project_id=999_999, provider_id=o["provider"], rule="ban"), W)
    with pytest.raises(Forbidden):
        await do(pool, rolling.set_rule, await who(pool, settings, world, "provider_admin"),
                  RuleInput(project_id=funded["a"], provider_id=o["provider"], rule="ban"), W)
    with pytest.raises(Forbidden):
        await do(pool, rolling.run, await who(pool, settings, world, "provider_admin"), W)
    assert await _counts(pool) == before


async def test_accepting_a_suggestion_publishes_the_docking_then_the_contract_follows(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    funder = await who(pool, settings, world, "funder_admin")
    provider = await who(pool, settings, world, "provider_admin")
    run_id = await do(pool, rolling.run, bureau, W)
    before = await _counts(pool)
    # The contract cannot be worth more than the project's money; the dates must make sense.
    with pytest.raises(InvalidFields) as too_much:
        await do(pool, rolling.accept, bureau, run_id, funded["a"], terms(200_000_01), W)
    with use_locale("en"):
        assert too_much.value.field_errors()["amount_fen"] == (
            "The contract cannot be worth more than the money the project has: ¥200,000.00 (budget ¥200,000.00 and "
            "pledges ¥0.00).")
    with pytest.raises(InvalidFields) as dates:
        await do(pool, rolling.accept, bureau, run_id, funded["a"],
                  terms(service_end=date.today() - timedelta(days=1)), W)
    assert set(dates.value.field_errors()) == {"service_end"}
    with pytest.raises(InvalidFields) as long:  # a leap day is no trouble either
        await do(pool, rolling.accept, bureau, run_id, funded["a"],
                  terms(service_start=date(2028, 2, 29), service_end=date(2031, 3, 2)), W)
    assert set(long.value.field_errors()) == {"service_end"}
    with pytest.raises(Forbidden):  # only the project's buyer gives it to a provider
        await do(pool, rolling.accept, funder, run_id, funded["a"], terms(), W)
    with pytest.raises(NotFound):  # a run that is not this owner's
        await do(pool, rolling.accept, bureau, run_id + 1, funded["a"], terms(), W)
    assert await _counts(pool) == before

    call_id = await do(pool, rolling.accept, bureau, run_id, funded["a"], terms(180_000_00), W)
    async with pool.acquire() as conn:
        call = await conn.fetchrow("select * from calls where id = $1", call_id)
        docking = await dockings.of_call(conn, call_id)
        award = await awards.current_award(conn, None, call_id)
    assert (call["procedure_type"], calls.status_of(call), call["budget_ceiling_fen"]) == (
        "fair_docking", "notice", 180_000_00)
    assert (docking.provider_id, docking.run_id, docking.amount_fen) == (world.orgs["provider"], run_id, 180_000_00)
    assert (award.provider_id, award.docking_id, award.results) == (world.orgs["provider"], docking.id, [])
    # The provider is told; so is the funder the run named, with the amount suggested.
    assert await pool.fetchval("select count(*) from notifications where user_id = $1 and kind = 'call_awarded'",
                               provider.user_id) == 1
    link = await pool.fetchval("select link from notifications where user_id = $1 and kind = 'funding_suggested'",
                               funder.user_id)
    assert link == f"/pledges/new?target_type=project&target_id={funded['a']}&amount_fen=5000000"
    # The project is no longer waiting, and cannot be docked twice.
    async with pool.acquire() as conn:
        assert await rolling.open_projects(conn, bureau) == [funded["b"]]
        view = await rolling.view(conn, bureau, run_id)
    assert next(s for s in view.run.suggestions if s.project_id == funded["a"]).docking.call_id == call_id
    with pytest.raises(Conflict):
        await do(pool, rolling.accept, bureau, run_id, funded["a"], terms(), W)
    # Nobody else bid, so nobody can object; after the notice, the contract is the usual one.
    with pytest.raises(Conflict):
        await do(pool, awards.object_to, provider, call_id, "我方认为对接金额有误，请说明。")
    with pytest.raises(Conflict):
        await do(pool, contracts.generate, bureau, call_id)
    await end_notice(pool, call_id)
    contract_id = await do(pool, contracts.generate, bureau, call_id)
    async with pool.acquire() as conn:
        contract = await contracts.get(conn, bureau, contract_id)
    assert (contract.provider_id, contract.amount_fen, contract.service_place) == (
        world.orgs["provider"], 180_000_00, "湖滨街道")
    assert sum(m.payment_percent or 0 for m in contract.milestones) == 100


async def test_a_foundation_pledges_what_its_run_suggests(pool, settings, world, funded):
    funder = await who(pool, settings, world, "funder_admin")
    run_id = await do(pool, rolling.run, funder, W)
    async with pool.acquire() as conn:
        view = await rolling.view(conn, funder)
    assert view.kind == "funder" and len(view.waiting) == 2
    pledge_id = await do(pool, rolling.pledge, funder, run_id, funded["a"])
    row = await pool.fetchrow("select * from pledges where id = $1", pledge_id)
    assert (row["funder_id"], row["project_id"], row["amount_fen"], row["status"]) == (
        world.orgs["funder"], funded["a"], 50_000_00, "pledged")
    with pytest.raises(Conflict):  # twice is refused
        await do(pool, rolling.pledge, funder, run_id, funded["a"])
    with pytest.raises(Conflict):  # nothing was suggested for B
        await do(pool, rolling.pledge, funder, run_id, funded["b"])
    with pytest.raises(Forbidden):
        await do(pool, rolling.pledge, await who(pool, settings, world, "buyer_admin"), run_id, funded["a"])
    with pytest.raises(Forbidden):  # a foundation does not give the project to a provider
        await do(pool, rolling.accept, funder, run_id, funded["b"], terms(), W)


async def _closed_fair(pool, settings, world, project, provider, all_or_nothing=False, raise_fen=30_000_00):
    """A fair organised by the funder with the project docked with `provider`, one paddle raised, closed."""
    funder = await who(pool, settings, world, "funder_admin")
    now = datetime.now(UTC)
    fair_id = await do(pool, fairs.create, funder, FairInput(title_zh="公益对对碰", place="市民中心", starts_at=now,
                                                                ends_at=now + timedelta(hours=3)))
    await do(pool, fairs.add_item, funder, fair_id, ItemInput(project_id=project, provider_id=provider,
                                                               target_fen=50_000_00, all_or_nothing=all_or_nothing), W)
    for action in ("open",):
        await do(pool, fairs.move, funder, fair_id, action)
    await do(pool, fairs.register, funder, fair_id)
    await do(pool, fairs.move, funder, fair_id, "go_live")
    import uuid
    token = await do(pool, fairs.raise_paddle, funder, fair_id, RaiseInput(project_id=project, amount_fen=raise_fen,
                                                                           token=uuid.uuid4()))
    await do(pool, fairs.confirm_raise, funder, fair_id, token)
    return fair_id


async def test_a_fair_docking_is_accepted_by_the_projects_buyer_after_the_fair(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    funder = await who(pool, settings, world, "funder_admin")
    fair_id = await _closed_fair(pool, settings, world, funded["b"], world.orgs["provider"])
    with pytest.raises(Conflict):  # still live
        await do(pool, fairs.accept_docking, bureau, fair_id, funded["b"], terms(), W)
    await do(pool, fairs.move, funder, fair_id, "close")
    with pytest.raises(Forbidden):  # the organiser is not the project's buyer
        await do(pool, fairs.accept_docking, funder, fair_id, funded["b"], terms(), W)
    # The money: ¥100,000 budget and the ¥30,000 pledged at the fair.
    with pytest.raises(InvalidFields):
        await do(pool, fairs.accept_docking, bureau, fair_id, funded["b"], terms(130_000_01), W)
    call_id = await do(pool, fairs.accept_docking, bureau, fair_id, funded["b"], terms(130_000_00), W)
    with pytest.raises(Conflict):
        await do(pool, fairs.accept_docking, bureau, fair_id, funded["b"], terms(), W)
    async with pool.acquire() as conn:
        found = await dockings.of_fair(conn, fair_id)
    assert found[funded["b"]].call_id == call_id and found[funded["b"]].call_status == "notice"
    assert "公益对对碰" in await pool.fetchval("select description from calls where id = $1", call_id)


async def test_a_fair_docking_refuses_an_unreached_target_and_a_conflicted_provider(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    funder = await who(pool, settings, world, "funder_admin")
    short = await _closed_fair(pool, settings, world, funded["b"], world.orgs["provider"], all_or_nothing=True)
    await do(pool, fairs.move, funder, short, "close")
    before = await _counts(pool)
    with pytest.raises(Conflict):  # ¥30,000 of an all-or-nothing ¥50,000
        await do(pool, fairs.accept_docking, bureau, short, funded["b"], terms(), W)
    # A conflicted provider cannot be lined up with the project in the first place...
    draft = await do(pool, fairs.create, funder, FairInput(title_zh="公益对对碰", place="市民中心",
                                                            starts_at=datetime.now(UTC),
                                                            ends_at=datetime.now(UTC) + timedelta(hours=3)))
    with pytest.raises(InvalidFields) as refused, use_locale("en"):
        await do(pool, fairs.add_item, funder, draft, ItemInput(project_id=funded["a"], target_fen=10_000_00,
                                                                 provider_id=world.orgs["street_provider"]), W)
    with use_locale("en"):
        assert "a conflict of interest" in refused.value.field_errors()["provider_id"]
    # ...and one that became conflicted after the fair (a bureau officer joined it) is refused at docking.
    conflicted = await _closed_fair(pool, settings, world, funded["a"], world.orgs["far_provider"])
    await do(pool, fairs.move, funder, conflicted, "close")
    await pool.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                       world["buyer_admin"].user_id, world.orgs["far_provider"])
    before = await _counts(pool)
    with pytest.raises(InvalidFields) as refused, use_locale("en"):
        await do(pool, fairs.accept_docking, bureau, conflicted, funded["a"], terms(), W)
    with use_locale("en"):
        assert "a conflict of interest" in refused.value.field_errors()["provider_id"]
    assert await _counts(pool) == before


async def test_the_pages_run_accept_and_refuse(client, pool, settings, world, funded):
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    assert (await client.get("/docking")).status_code == 403
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    page = await client.get("/docking")
    assert page.status_code == 200 and "滚动对接" in page.text and "2 个项目" in page.text
    response = await post_form(client, "/docking/runs")
    assert landed(response, "docking_run") == "/docking" and response.headers["location"].endswith("#run")
    run_id = await pool.fetchval("select max(id) from docking_runs")
    assert f"run={run_id}&" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "对接测算已完成" in page.text and 'id="run"' in page.text
    assert "测试provider" in page.text and f"/docking/runs/{run_id}/projects/{funded['a']}/accept" in page.text
    form = await client.get(f"/docking/runs/{run_id}/projects/{funded['a']}/accept")
    assert form.status_code == 200 and 'value="200000.00"' in form.text  # capped at the money the project has
    bad = await post_form(client, f"/docking/runs/{run_id}/projects/{funded['a']}/accept",
                          {"amount_yuan": "999999", "service_start": "2027-01-01", "service_end": "2027-12-31",
                           "service_place": "湖滨街道"})
    assert bad.status_code == 400 and "不能超过项目现有资金" in bad.text and 'id="f-amount_yuan"' in bad.text
    ok = await post_form(client, f"/docking/runs/{run_id}/projects/{funded['a']}/accept",
                         {"amount_yuan": "180000", "service_start": "2027-01-01", "service_end": "2027-12-31",
                          "service_place": "湖滨街道"})
    call_page = landed(ok, "run_docking_published")
    assert call_page.startswith("/calls/")
    call = await client.get(ok.headers["location"])
    assert "滚动对接" in call.text and "¥180,000.00" in call.text
    assert "对接已发布为授予该承接方的采购项目" in call.text and "已收到建议出资金额的通知" in call.text
    await client.get("/lang/en?next=/docking")
    english = await client.get("/docking")
    assert "Rolling docking" in english.text and "docked with Test provider" in english.text
    ban = await post_form(client, "/docking/rules", {"project_id": funded["b"], "provider_id": world.orgs["provider"],
                                                     "rule": "ban"})
    assert landed(ban, "docking_banned") == "/docking"
    banned = await client.get(ban.headers["location"])
    assert "no docking run will suggest this provider for the project" in banned.text and "banned" in banned.text
    cleared = await post_form(client, "/docking/rules", {"project_id": funded["b"],
                                                         "provider_id": world.orgs["provider"], "rule": "clear"})
    assert landed(cleared, "docking_rule_cleared") == "/docking"
    assert "docking runs choose freely" in (await client.get(cleared.headers["location"])).text
    refused = await post_form(client, "/docking/rules", {"project_id": funded["b"], "provider_id": "x",
                                                         "rule": "pin"})
    assert refused.status_code == 400


async def test_the_api_runs_shows_the_instance_and_refuses_bad_terms(client, pool, settings, world, funded):
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    made = await client.post("/api/docking/runs", headers=api_headers(client))
    assert made.status_code == 201
    run = made.json()["run"]
    assert {s["project_id"] for s in run["suggestions"]} == {funded["a"], funded["b"]}
    instance = (await client.get(f"/api/docking/runs/{run['id']}/instance")).json()
    assert [n["id"] for n in instance["needs"]] == [funded["a"], funded["b"]]
    before = await _counts(pool)
    bad = await client.post(f"/api/docking/runs/{run['id']}/projects/{funded['b']}/accept", headers=api_headers(client),
                            json={"amount_fen": -5, "service_start": "2027-01-01", "service_end": "2027-12-31",
                                  "service_place": "湖滨街道"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert await _counts(pool) == before
    ok = await client.post(f"/api/docking/runs/{run['id']}/projects/{funded['b']}/accept", headers=api_headers(client),
                           json={"amount_fen": 100_000_00, "service_start": "2027-01-01", "service_end": "2027-12-31",
                                 "service_place": "湖滨街道"})
    assert ok.status_code == 201 and ok.json()["call_status"] == "notice"
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    assert (await client.get(f"/api/docking/runs/{run['id']}/instance")).status_code == 403


async def test_the_fair_report_leads_the_buyer_to_the_docking_and_the_funder_to_the_pledge(client, pool, settings,
                                                                                           world, funded):
    fair_id = await _closed_fair(pool, settings, world, funded["b"], world.orgs["provider"])
    await do(pool, fairs.move, await who(pool, settings, world, "funder_admin"), fair_id, "close")
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    report = await client.get(f"/fairs/{fair_id}/report")
    assert "等待项目购买方确认" in report.text and f"/fairs/{fair_id}/dockings/" not in report.text
    # A docking suggestion's link opens the pledge form with the amount filled in.
    form = await client.get(f"/pledges/new?target_type=project&target_id={funded['a']}&amount_fen=5000050")
    assert form.status_code == 200 and 'value="50000.50"' in form.text
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    report = await client.get(f"/fairs/{fair_id}/report")
    assert f'href="/fairs/{fair_id}/dockings/{funded["b"]}"' in report.text
    terms_page = await client.get(f"/fairs/{fair_id}/dockings/{funded['b']}")
    assert 'value="130000.00"' in terms_page.text  # ¥100,000 of budget and ¥30,000 raised at the fair
    done = await post_form(client, f"/fairs/{fair_id}/dockings/{funded['b']}",
                           {"amount_yuan": "130000", "service_start": "2027-01-01", "service_end": "2027-12-31",
                            "service_place": "湖滨街道"})
    assert landed(done, "docking_published").startswith("/calls/")
    call = await client.get(done.headers["location"])
    assert "对接已发布为授予该承接方的采购项目，成交结果现已进入公示期。" in call.text
    assert "公益对对碰" in call.text and "对接于" in call.text and "公示至" in call.text
    report = await client.get(f"/fairs/{fair_id}/report")
    assert "¥130,000.00 · 中标公示中" in report.text


async def test_a_project_lined_up_at_a_coming_fair_waits_for_the_fair(pool, settings, world, funded):
    bureau = await who(pool, settings, world, "buyer_admin")
    run_id = await do(pool, rolling.run, bureau, W)
    now = datetime.now(UTC)
    fair_id = await do(pool, fairs.create, bureau, FairInput(title_zh="公益对对碰", place="市民中心",
                                                              starts_at=now + timedelta(days=3),
                                                              ends_at=now + timedelta(days=3, hours=3)))
    await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=funded["b"], target_fen=10_000_00), W)
    async with pool.acquire() as conn:
        assert await rolling.open_projects(conn, bureau) == [funded["a"]]
    with pytest.raises(Conflict):  # the earlier run's suggestion for it cannot be accepted meanwhile
        await do(pool, rolling.accept, bureau, run_id, funded["b"], terms(), W)


async def test_the_fair_form_lines_up_a_project_with_its_provider_or_says_why_not(client, pool, settings, world,
                                                                                 funded):
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    created = await post_form(client, "/fairs", {"title_zh": "公益对对碰", "place": "市民中心",
                                                 "starts_at": "2027-03-01T09:00", "ends_at": "2027-03-01T12:00"})
    fair = landed(created, "fair_created")
    page = await client.get(created.headers["location"])
    assert "相亲会已创建。" in page.text
    assert "与项目对接的承接方（可选）" in page.text and "测试far_provider" not in page.text  # typed, not listed
    refused = await post_form(client, f"{fair}/items", {"project_id": funded["a"], "target_yuan": "10000",
                                                        "provider": "测试street_provider"})
    assert refused.status_code == 400 and "利益冲突" in refused.text and 'id="e-provider"' in refused.text
    several = await post_form(client, f"{fair}/items", {"project_id": funded["a"], "target_yuan": "10000",
                                                        "provider": "测试"})
    assert several.status_code == 400 and "请从名称含有这些词语的服务承接方中选择一个。" in several.text
    assert f'value="{world.orgs["far_provider"]}"' in several.text.split('name="provider_id"')[1].split("</select>")[0]
    assert await pool.fetchval("select count(*) from fair_items") == 0
    added = await post_form(client, f"{fair}/items", {"project_id": funded["a"], "target_yuan": "10000",
                                                      "provider": "测试", "provider_id": world.orgs["provider"]})
    assert landed(added, "fair_item_added") == fair
    assert "该项目已加入推介会的出场顺序" in (await client.get(added.headers["location"].split("#")[0])).text
    assert await pool.fetchval("select provider_id from fair_items") == world.orgs["provider"]


async def test_the_docking_page_and_its_twin_show_the_same_view(client, pool, settings, world, funded):
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    run_id = await do(pool, rolling.run, await who(pool, settings, world, "buyer_admin"), W)
    view = (await client.get(f"/api/docking?run={run_id}")).json()
    assert view["rolling"]["run"]["id"] == run_id and view["rolling"]["kind"] == "buyer"
    assert [p for p, _ in view["projects"]] == [w["project_id"] for w in view["rolling"]["waiting"]]
    assert "providers" not in view and view["readable_contracts"] == []
    page = await client.get(f"/docking?run={run_id}")
    assert all(f'value="{p}"' in page.text for p, _ in view["projects"])
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    for url in ("/docking", "/api/docking"):
        assert (await client.get(url)).status_code == 403, url


async def test_a_refused_run_pledge_shows_the_docking_page_again(client, pool, settings, world, funded):
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    run_id = await do(pool, rolling.run, await who(pool, settings, world, "funder_admin"), W)
    refused = await post_form(client, f"/docking/runs/{run_id}/projects/{funded['b']}/pledge")  # nothing suggested
    assert refused.status_code == 409 and 'id="errors"' in refused.text and "滚动对接" in refused.text
    assert await pool.fetchval("select count(*) from pledges") == 0
    pledged = await post_form(client, f"/docking/runs/{run_id}/projects/{funded['a']}/pledge")
    pledge_id = await pool.fetchval("select id from pledges where project_id = $1", funded["a"])
    assert landed(pledged, "pledge_made") == f"/pledges/{pledge_id}"
    assert "您的认捐已登记" in (await client.get(pledged.headers["location"])).text


async def test_the_pin_or_ban_form_names_the_provider_rather_than_listing_every_one(client, pool, settings, world,
                                                                                  funded):
    """A city has 16,000 providers: the form took them all as options (1 MB a page). Now a provider is named by
    its whole name or its credit code, or chosen from those whose names hold the words typed."""
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    client.cookies.set("market_lang", "en")
    page = (await client.get("/docking")).text
    assert 'name="provider"' in page and 'name="provider_id"' not in page.split('action="/docking/rules">')[-1]
    rules = "select project_id, provider_id, rule from docking_rules order by 1, 2"
    for typed, error in (("", "Name the provider, or give its unified social credit code."),
                         ("Nobody by that name", "No verified provider has a name that holds these words")):
        refused = await post_form(client, "/docking/rules", {"project_id": funded["a"], "provider": typed, "rule": "ban"})
        assert refused.status_code == 400 and error in refused.text and 'id="e-provider"' in refused.text
    assert await pool.fetch(rules) == []
    # Words in more than one name: the form comes back with those providers to choose from, as typed.
    several = await post_form(client, "/docking/rules", {"project_id": funded["a"], "provider": "Test", "rule": "ban"})
    assert several.status_code == 400 and "Choose the provider from those whose names hold these words." in several.text
    offered = several.text.split('name="provider_id"')[1].split("</select>")[0]
    assert f'value="{world.orgs["provider"]}"' in offered and 'value="Test"' in several.text
    assert await pool.fetch(rules) == []
    chosen = await post_form(client, "/docking/rules", {"project_id": funded["a"], "provider": "Test",
                                                        "provider_id": world.orgs["provider"], "rule": "ban"})
    assert landed(chosen, "docking_banned") == "/docking"
    code = await pool.fetchval("select credit_code from organisations where id = $1", world.orgs["provider"])
    for typed in ("测试provider", "test PROVIDER", code.lower()):
        await post_form(client, "/docking/rules", {"project_id": funded["a"], "provider_id": world.orgs["provider"],
                                                   "rule": "clear"})
        named = await post_form(client, "/docking/rules", {"project_id": funded["a"], "provider": typed, "rule": "ban"})
        assert landed(named, "docking_banned") == "/docking", typed
        assert await pool.fetch(rules) == [(funded["a"], world.orgs["provider"], "ban")]
    client.cookies.set("market_lang", "zh_Hans")
    refused = await post_form(client, "/docking/rules", {"project_id": funded["a"], "provider": "查无此名", "rule": "pin"})
    assert refused.status_code == 400 and "没有名称含有这些词语或具有此代码的已核验服务承接方。" in refused.text
