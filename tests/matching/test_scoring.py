"""Fit scoring (issue 5, part 1): each factor by hand, the exclusions and their reasons, the
explanation, the weights as configuration, the solver's instance built from the database, and who
may see a project's matches."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from market.app import create_app, load_settings
from market.core.i18n import use_locale
from market.core.settings import SettingsError
from market.matching.scoring import candidates
from market.matching.scoring import weights as weights_module
from market.matching.scoring.fit import (
    FunderFacts,
    Gift,
    Place,
    ProjectFacts,
    ProviderFacts,
    Rules,
    affinity,
    score_funder,
    score_provider,
)
from market.matching.scoring.weights import Weights, WeightsError
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from tests.conftest import act_as
from tests.factories import W, bid_input, call_input, do, end_notice, evaluate_delivery, make_org, pass_deadline, who

TODAY = date(2026, 6, 1)
PROJECT = ProjectFacts(
    id=1, buyer_id=100, buyer_members=frozenset({1}), item_code="01.01.02", category_name="Elderly care",
    place=Place(10, 20, 30), places=frozenset({10, 20, 30}), district_name="上城区", budget_fen=200_000_00,
    funding_target_fen=50_000_00, rules=Rules(provider_types=("social_service_agency",)))
PROVIDER = ProviderFacts(
    id=7, name="阳光", subtype="social_service_agency", rating=4, registration_date=date(2015, 1, 1),
    place=Place(10, 20, 30), members=frozenset({2}), items=frozenset({"01.01.02"}), active_projects=frozenset({99}),
    scorecard=85.0, scorecard_grade="A", scorecard_count=2, late_reports=1)
FUNDER = FunderFacts(id=50, name="银泰", members=frozenset({3}), money_fen=30_000_00, categories=frozenset({"01"}),
                     places=frozenset({20}), gifts=(Gift("01", Place(10, 20, 31)),))


def provider(**change) -> ProviderFacts:
    return msgspec.structs.replace(PROVIDER, **change)


def project(**change) -> ProjectFacts:
    return msgspec.structs.replace(PROJECT, **change)


def funder(**change) -> FunderFacts:
    return msgspec.structs.replace(FUNDER, **change)


def points(fit) -> dict[str, float]:
    return {line.factor: line.points for line in fit.lines}


def pscore(p=PROVIDER, proj=PROJECT, weights=W, bid=200_000_00) -> float:
    return score_provider(proj, p, weights, today=TODAY, bid_fen=bid).score


# ---- providers, factor by factor -----------------------------------------------------------------

def test_a_provider_score_by_hand():
    fit = score_provider(PROJECT, PROVIDER, W, today=TODAY, bid_fen=200_000_00)
    # planned cost ¥250,000 = budget ¥200,000 + ¥50,000 asked of funders; the bid is 20 % under it.
    assert points(fit) == {"item": 20, "same_community": 15, "capacity": 6.67, "rating": 12, "evaluations": 6.25,
                           "late_report": -3, "upheld_objection": 0, "price": 4}
    assert fit.score == 60.92 and fit.excluded == ()


def test_catalogue_match_item_then_category_then_none():
    item = pscore(provider(items=frozenset({"01.01.02"})))
    category = pscore(provider(items=frozenset({"01.03.01"})))
    none = pscore(provider(items=frozenset({"08.01.01"})))
    assert item - category == 10 and category - none == 10


def test_nearer_scores_more_and_another_district_only_where_allowed():
    anywhere = project(rules=Rules(provider_types=("social_service_agency",), cross_district=True))
    at = {level: pscore(provider(place=place), anywhere) for level, place in (
        ("community", Place(10, 20, 30)), ("street", Place(10, 20, 31)), ("district", Place(10, 21, 32)),
        ("other", Place(11, 22, 33)))}
    assert at["community"] - at["street"] == 5 and at["street"] - at["district"] == 5
    assert at["district"] - at["other"] == 5
    kept_in = score_provider(PROJECT, provider(place=Place(11, 22, 33)), W, today=TODAY)
    assert kept_in.score is None and [r.rule for r in kept_in.excluded] == ["district"]


def test_load_lowers_the_score_and_full_capacity_excludes():
    free = pscore(provider(active_projects=frozenset()))
    one = pscore(provider(active_projects=frozenset({98})))
    assert free - one == pytest.approx(3.33)
    # Its own contract for this project is not load that keeps it from this project.
    assert pscore(provider(active_projects=frozenset({PROJECT.id}))) == free
    full = score_provider(PROJECT, provider(active_projects=frozenset({97, 98, 99})), W, today=TODAY)
    assert full.score is None and [r.rule for r in full.excluded] == ["capacity"]


def test_rating_and_track_record():
    assert pscore(provider(rating=5)) - pscore(provider(rating=4)) == 3
    assert pscore(provider(rating=None)) == pscore(provider(rating=4)) - 12
    # (mean − 60) / 40 × 10: a grade A earns, below 60 costs, no record is neutral.
    assert points(score_provider(PROJECT, provider(scorecard=100.0), W, today=TODAY))["evaluations"] == 10
    assert points(score_provider(PROJECT, provider(scorecard=50.0), W, today=TODAY))["evaluations"] == -2.5
    assert points(score_provider(PROJECT, provider(scorecard=None), W, today=TODAY))["evaluations"] == 0
    assert pscore(provider(late_reports=3)) - pscore(provider(late_reports=1)) == -6
    assert pscore(provider(upheld_objections=2)) - pscore(provider(upheld_objections=0)) == -10
    # Complaints are not recorded yet: the hook has weight 0 and no line.
    assert "upheld_complaint" not in points(score_provider(PROJECT, provider(upheld_complaints=4), W, today=TODAY))
    with_complaints = Weights(upheld_complaint=2)
    assert pscore(provider(upheld_complaints=4), weights=with_complaints) == pscore(weights=with_complaints) - 8


def test_a_lower_price_scores_more_and_no_bid_is_priced_at_the_planned_cost():
    assert pscore(bid=150_000_00) - pscore(bid=200_000_00) == 4  # 40 % under vs 20 % under, × 20
    no_bid = score_provider(PROJECT, PROVIDER, W, today=TODAY)
    assert points(no_bid)["price"] == 0


# ---- providers: exclusions -------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "facts", "rule"), [
    ({}, {"members": frozenset({1, 2})}, "conflict"),
    ({}, {"subtype": "social_group"}, "provider_type"),
    ({"rules": Rules(provider_types=("social_service_agency",), min_rating=5)}, {}, "rating"),
    ({"rules": Rules(provider_types=("social_service_agency",), min_years=20)}, {}, "years"),
    ({}, {"place": Place(11)}, "district"),
    ({"bidding_closed": True}, {}, "no_bid"),
])
def test_ineligible_pairs_and_conflicts_are_excluded_with_their_reason(change, facts, rule):
    fit = score_provider(project(**change), provider(**facts), W, today=TODAY)
    assert fit.score is None and fit.lines == ()
    assert [r.rule for r in fit.excluded] == [rule]
    assert fit.excluded[0].text()


def test_a_provider_barred_from_the_item_is_excluded_with_the_date_its_bar_ends():
    owner = msgspec.structs.replace(PROJECT, catalogue_owner_id=100)
    barred = provider(barred={(100, "01.01.02"): date(2027, 3, 1)})
    (reason,) = score_provider(owner, barred, W, today=TODAY).excluded
    with use_locale("en"):
        assert reason.rule == "barred" and reason.text() == (
            "Its standing bars it from this catalogue item until Mar 1, 2027, after a failed evaluation of its "
            "delivery.")
    # Another item, or the same code in another buyer's catalogue, is no bar.
    assert score_provider(owner, provider(barred={(100, "01.01.01"): date(2027, 3, 1)}), W, today=TODAY).score
    assert score_provider(owner, provider(barred={(101, "01.01.02"): date(2027, 3, 1)}), W, today=TODAY).score


def test_exclusion_reasons_read_in_english():
    with use_locale("en"):
        (reason,) = score_provider(PROJECT, provider(members=frozenset({1, 2})), W, today=TODAY).excluded
        assert reason.text() == "It and the buyer have members in common (1): a conflict of interest."
        (reason,) = score_provider(PROJECT, provider(subtype="social_group"), W, today=TODAY).excluded
        assert reason.text() == "The rules ask for Social service agency; it is a Social group."


def test_the_explanation_names_each_factor_with_its_points():
    fit = score_provider(PROJECT, PROVIDER, W, today=TODAY, bid_fen=200_000_00)
    with use_locale("en"):
        text = {line.factor: line.text() for line in fit.lines}
    assert text["item"] == "It has bid for this catalogue item (01.01.02) before."
    assert text["same_community"] == "Registered in the project's community."
    assert text["capacity"] == "Signed contracts under way: 1, of a capacity of 3."
    assert text["rating"] == "Rated 4A."
    assert text["evaluations"] == "Its delivery scorecard: 85, grade A (the mean of its last 2 evaluations)."
    assert text["late_report"] == "Reports late: 1."
    assert text["price"] == "Its bid of ¥200,000.00 against the project's planned cost of ¥250,000.00."
    assert sum(line.points for line in fit.lines) == pytest.approx(fit.score)


# ---- funders ----------------------------------------------------------------------------------------

def test_a_funder_score_by_hand():
    fit = score_funder(PROJECT, FUNDER, W)
    assert points(fit) == {"prefers_category": 30, "prefers_place": 20, "gave_category": 5, "gave_place": 6.67,
                           "money": 15}
    assert fit.score == 76.67
    # A perfect fit paying the whole planned cost is worth `funding` points.
    assert affinity(fit, PROJECT, W) * PROJECT.planned_fen == pytest.approx(0.7667 * W.funding)
    with use_locale("en"):
        assert [line.text() for line in fit.lines][-1] == ("It offers ¥30,000.00, against the ¥50,000.00 the "
                                                           "project asks of funders.")


def test_each_funder_factor_moves_the_score_the_right_way():
    def s(**change):
        return score_funder(PROJECT, funder(**change), W).score
    assert s() - s(categories=frozenset(), any_category=True) == 15
    assert s(categories=frozenset(), any_category=True) - s(categories=frozenset({"08"})) == 15
    assert s() - s(places=frozenset(), anywhere=True) == 10 and s(places=frozenset({99})) == s() - 20
    assert s(gifts=(Gift("01", Place(10, 20, 30)),) * 3) - s(gifts=()) == 25  # 15 for three, 10 in the community
    assert s(money_fen=100_000_00) - s() == 10 and s(money_fen=10_000_00) < s()


@pytest.mark.parametrize(("change", "rule"), [
    ({"members": frozenset({1})}, "conflict"),
    ({"members": frozenset({2})}, "related_party"),
    ({"money_fen": 0}, "no_money"),
])
def test_funder_conflicts_and_funders_without_money_are_excluded(change, rule):
    fit = score_funder(PROJECT, funder(**change), W, [PROVIDER])
    assert fit.score is None and [r.rule for r in fit.excluded] == [rule]
    assert affinity(fit, PROJECT, W) == 0


# ---- weights ------------------------------------------------------------------------------------------

def test_an_override_of_the_weights_changes_the_ranking():
    near = provider(id=1, rating=4)
    far = provider(id=2, rating=5, place=Place(10, 21, 32))
    assert pscore(near) - pscore(far) == 7  # 12 + 15 against 15 + 5
    rating_first = weights_module.parse('{"rating": 100}')
    assert pscore(far, weights=rating_first) > pscore(near, weights=rating_first)


@pytest.mark.parametrize(("raw", "says"), [
    ('{"prise": 3}', "prise"), ('{"price": -1}', "$.price"), ("[1]", "object"), ("{", "JSON"),
    ('{"same_street": 99}', "same_street"), ('{"funding": 30}', "funding"),
])
def test_a_bad_override_stops_start_up_with_a_clear_message(raw, says):
    with pytest.raises(WeightsError, match=r"."):
        weights_module.parse(raw)
    with pytest.raises(SettingsError) as exc:
        load_settings({"MARKET_SECRET_KEY": "s" * 40, "MARKET_MATCHING_WEIGHTS": raw})
    assert "MARKET_MATCHING_WEIGHTS" in str(exc.value) and says in str(exc.value)


# ---- from the database ------------------------------------------------------------------------------


async def _build(pool, project_ids, weights=W):
    async with pool.acquire() as conn:
        with use_locale("en"):
            return await candidates.build(conn, project_ids, weights)


async def test_candidates_from_the_database_exclude_with_reasons(pool, world, market):
    found = await _build(pool, [market["a"], market["b"]])
    a, b = found.projects
    o = world.orgs
    assert [c.party_id for c in a.providers] == [o["provider"], o["far_provider"]]
    excluded = {c.party_id: [r.rule for r in c.fit.excluded] for c in a.excluded_providers}
    assert excluded == {o["other_provider"]: ["provider_type"], o["street_provider"]: ["conflict"]}
    far = next(c for c in a.providers if c.party_id == o["far_provider"])
    assert points(far.fit)["other_district"] == 0
    # B keeps to the district: the far agency is neither a candidate nor listed, but counted with the rule.
    assert o["far_provider"] not in {c.party_id for c in b.providers + b.excluded_providers}
    assert b.other_district == 1
    with use_locale("en"):
        assert b.other_district_reason.text() == ("The rules keep to providers registered in 330102 (en); it is "
                                                  "registered in another district.")
    assert {c.party_id: [r.rule for r in c.fit.excluded] for c in a.excluded_funders} == {
        o["bureau_friend"]: ["conflict"], o["provider_friend"]: ["related_party"], o["goods_only"]: ["no_money"]}
    (top,) = a.funders
    assert top.party_id == o["funder"] and points(top.fit)["prefers_place"] == 20
    assert points(top.fit)["money"] == 15  # ¥30,000 of the ¥50,000 asked


async def test_the_instance_is_valid_for_the_solver(pool, world, market):
    found = await _build(pool, [market["a"], market["b"]])
    instance = candidates.to_instance(found)
    needs_ = {n["id"] for n in instance["needs"]}
    providers = {p["id"]: p for p in instance["providers"]}
    funders = {f["id"]: f for f in instance["funders"]}
    assert needs_ == {market["a"], market["b"]}
    assert {n["id"]: n["gov_money"] for n in instance["needs"]} == {market["a"]: 200_000_00, market["b"]: 100_000_00}
    edges = [(e["need"], e["provider"]) for e in instance["provider_edges"]]
    assert len(edges) == len(set(edges)) and all(n in needs_ and p in providers for n, p in edges)
    fedges = [(e["need"], e["funder"]) for e in instance["funder_edges"]]
    assert len(fedges) == len(set(fedges)) and all(n in needs_ and f in funders for n, f in fedges)
    money = [n["gov_money"] for n in instance["needs"]] + [e["price"] for e in instance["provider_edges"]] + [
        f["budget"] for f in instance["funders"]]
    assert all(type(x) is int and x >= 0 for x in money)
    assert all(type(p["capacity"]) is int and p["capacity"] >= 1 for p in instance["providers"])
    assert all(isinstance(e["value"], float) for e in instance["provider_edges"])
    # No excluded pair has an edge; the unpriced are priced at the planned cost.
    o = world.orgs
    assert (market["a"], o["street_provider"]) not in edges and (market["a"], o["other_provider"]) not in edges
    assert (market["b"], o["far_provider"]) not in edges
    assert {e["price"] for e in instance["provider_edges"] if e["need"] == market["a"]} == {250_000_00}
    assert funders == {o["funder"]: {"id": o["funder"], "budget": 30_000_00}}
    assert instance["pinned"] == [] and msgspec.json.decode(msgspec.json.encode(instance)) == instance


async def test_the_solver_accepts_the_instance(pool, market):
    from market.matching.solver import problem
    from market.matching.solver import solve as solver
    instance = candidates.to_instance(await _build(pool, [market["a"], market["b"]]))
    assert sorted(problem.index(msgspec.convert(instance, solver.Instance)).need_ids) == sorted([market["a"], market["b"]])


async def test_an_override_changes_the_ranking_from_the_database(pool, world, market):
    first = (await _build(pool, [market["a"]])).projects[0].providers[0].party_id
    rating_first = weights_module.parse('{"rating": 200, "same_community": 0, "same_street": 0, "same_district": 0}')
    then = (await _build(pool, [market["a"]], rating_first)).projects[0].providers[0].party_id
    assert (first, then) == (world.orgs["provider"], world.orgs["far_provider"])


async def test_a_sealed_bid_is_not_used_until_it_is_opened(pool, settings, world, market):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(market["a"]))
        await calls.publish_call(conn, bureau, call_id)
    await do(pool, bids.submit, await who(pool, settings, world, "provider_admin"), call_id, bid_input(150_000_00))
    (a,) = (await _build(pool, [market["a"]])).projects
    mine = next(c for c in a.providers if c.party_id == world.orgs["provider"])
    assert (mine.bid, mine.price_fen, points(mine.fit)["item"]) == (False, 250_000_00, 0)
    await pass_deadline(pool, call_id)
    (a,) = (await _build(pool, [market["a"]])).projects
    mine = a.providers[0]
    assert (mine.party_id, mine.bid, mine.price_fen, points(mine.fit)["item"]) == (world.orgs["provider"], True,
                                                                                    150_000_00, 20)
    # The call has closed: who did not bid is no longer a candidate, and says so.
    assert [r.rule for c in a.excluded_providers if c.party_id == world.orgs["far_provider"]
            for r in c.fit.excluded] == ["no_bid"]


@pytest.fixture
async def signed(pool, settings, world, awarded):
    """The world's provider won the closed call (evaluation total 77.00) and signed its contract; a
    report milestone is overdue."""
    from market.procurement.contracts import services as contracts
    await end_notice(pool, awarded)
    buyer = await who(pool, settings, world, "buyer_admin")
    contract_id = await do(pool, contracts.generate, buyer, awarded)
    await do(pool, contracts.sign, buyer, contract_id)
    await do(pool, contracts.sign, await who(pool, settings, world, "provider_admin"), contract_id)
    await pool.execute("update contract_milestones set due_date = current_date - 10 where contract_id = $1 "
                       "and position = (select min(position) from contract_milestones where contract_id = $1 "
                       "and kind = 'report')", contract_id)
    return awarded


async def test_track_record_from_the_database(pool, world, signed):
    project_id = await pool.fetchval("select project_id from calls where id = $1", signed)
    found = await _build(pool, [project_id])
    me = found.providers[world.orgs["provider"]]
    # The bid panel's total (77.00) is no delivery evaluation: no scorecard yet.
    assert me.scorecard is None and me.late_reports == 1 and me.active_projects == {project_id}
    (pc,) = found.projects
    # The award stands: the winner is pinned, and its contract for this project is no load against it.
    assert pc.pinned == world.orgs["provider"]
    assert points(pc.providers[0].fit)["capacity"] == 10
    instance = candidates.to_instance(found)
    assert instance["pinned"] == [[project_id, world.orgs["provider"]]]
    assert {p["id"]: p["capacity"] for p in instance["providers"]}[world.orgs["provider"]] == 3


async def test_fit_scoring_reads_the_delivery_scorecard_not_the_bid_panels(pool, world, settings, signed):
    """Mid-term 92 and final 70: the scorecard's mean, 81 (grade B), earns (81 − 60) ÷ 40 × 10 = 5.25 points;
    the bid panel that awarded the contract (77.00) counts for nothing here."""
    contract_id = await pool.fetchval("select id from contracts where call_id = $1", signed)
    for stage, total in (("midterm", 92), ("final", 70)):
        await evaluate_delivery(pool, settings, world, contract_id, stage, total=total)
    project_id = await pool.fetchval("select project_id from calls where id = $1", signed)
    found = await _build(pool, [project_id])
    me = found.providers[world.orgs["provider"]]
    assert (me.scorecard, me.scorecard_grade, me.scorecard_count) == (81.0, "B", 2)
    (pc,) = found.projects
    mine = next(c for c in pc.providers if c.party_id == world.orgs["provider"])
    (line,) = [x for x in mine.fit.lines if x.factor == "evaluations"]
    assert line.points == 5.25 and "rating" in {x.factor for x in mine.fit.lines}  # the 1A–5A rating: its own
    with use_locale("en"):
        assert line.text() == "Its delivery scorecard: 81, grade B (the mean of its last 2 evaluations)."
    with use_locale("zh_Hans"):
        assert line.text() == "交付评估记分卡：81 分，B 级（最近 2 次评估的平均分）。"


async def test_a_project_that_keeps_to_its_district_reads_only_its_districts_providers(pool, world, market):
    """On a city a project's page read the facts of 15,000 providers to score its district's few hundred."""
    together = (await _build(pool, [market["a"], market["b"]])).projects[1]
    alone = await _build(pool, [market["b"]])
    (b,) = alone.projects
    assert world.orgs["far_provider"] not in alone.providers and world.orgs["provider"] in alone.providers
    assert (b.other_district, b.other_district_reason) == (together.other_district, together.other_district_reason) \
        == (1, together.other_district_reason)
    assert b.providers == together.providers and b.excluded_providers == together.excluded_providers
    assert b.funders == together.funders and b.excluded_funders == together.excluded_funders


async def test_an_upheld_objection_counts_against_the_winner(pool, settings, world, awarded):
    from market.procurement.awards import services as awards
    objection = await do(pool, awards.object_to, await who(pool, settings, world, "other_provider_admin"), awarded,
                          "评分有误，请复核价格分。")
    await do(pool, awards.answer_objection, await who(pool, settings, world, "buyer_admin"), objection, "uphold",
              "经复核，价格分计算有误，重新评审。")
    found = await _build(pool, [])
    assert found.providers[world.orgs["provider"]].upheld_objections == 1
    assert found.providers[world.orgs["other_provider"]].upheld_objections == 0


# ---- pages --------------------------------------------------------------------------------------------

async def test_the_matches_page_explains_and_refuses_the_wrong_people(client, pool, world, market):
    settings = client.app.state.settings
    url = f"/projects/{market['a']}/matches"
    client.cookies.set("market_lang", "en")
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    page = await client.get(url)
    assert page.status_code == 200
    for text in ("Test provider", "Registered in the project&#39;s community.", "Rated 4A.", "Test other_provider",
                 "The rules ask for Social service agency; it is a Social group.",
                 "a conflict of interest", "a related party", "It offers no money at present.",
                 "It offers ¥30,000.00, against the ¥50,000.00 the project asks of funders.", "/matching/weights"):
        assert text in page.text, text
    data = (await client.get(f"/api{url}")).json()
    assert data["providers"][0]["provider_id"] == world.orgs["provider"]
    assert {"factor": "rating", "points": 12.0, "text": "Rated 4A."} in data["providers"][0]["lines"]
    assert {o["id"] for x in data["excluded"] for o in x["first"]} == {world.orgs[k] for k in (
        "other_provider", "street_provider", "bureau_friend", "provider_friend", "goods_only")}
    assert data["excluded_total"] == 5 and all(x["count"] == len(x["first"]) for x in data["excluded"])
    assert data["weights"]["price"] == 20
    assert url in (await client.get(f"/projects/{market['a']}")).text
    await act_as(client, pool, settings, world["platform_admin"].user_id)
    assert (await client.get(url)).status_code == 200
    for name in ("provider_admin", "funder_admin", "resident", "evaluator"):
        await act_as(client, pool, settings, world[name].user_id)
        assert (await client.get(url)).status_code == 403, name
        assert (await client.get(f"/api{url}")).status_code == 403, name
        assert url not in (await client.get(f"/projects/{market['a']}")).text
    await act_as(client, pool, settings, market["far_buyer"])
    far = await client.get(url)
    assert far.status_code == 403 and "buyers whose area includes it" in far.text
    client.cookies.delete("market_session")
    assert (await client.get(url)).status_code == 303
    await pool.execute("update projects set status = 'cancelled' where id = $1", market["a"])
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.get(f"/api{url}")).status_code == 409
    client.cookies.delete("market_session")
    assert (await client.get(f"/api{url}")).status_code == 401


async def test_the_excluded_pairs_are_counted_by_reason_and_the_first_of_each_named(client, pool, world, market):
    """On a city one rule shuts out thousands of providers: the page counts them under the reason and names
    the first few, rather than a row for each (2 MB a page)."""
    async with pool.acquire() as conn, conn.transaction():
        for serial in range(12):
            await make_org(conn, world, f"group_{serial}", "provider", "social_group", 60 + serial, world.community,
                           rating=4, registered=date(2012, 1, 1))
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    url = f"/projects/{market['a']}/matches"
    data = (await client.get(f"/api{url}?lang=en")).json()
    (groups,) = [x for x in data["excluded"] if x["count"] == 13]  # the 12 and the world's other_provider
    assert groups["side"] == "provider" and groups == data["excluded"][0]
    assert groups["rules"] == ["provider_type"] and groups["reasons"] == ["Not a kind of organisation the rules ask for"]
    named = sorted([world.orgs["other_provider"], *(world.orgs[f"group_{n}"] for n in range(12))])
    assert [o["id"] for o in groups["first"]] == named[:candidates.NAMED_EXCLUDED]
    assert {tuple(o["reasons"]) for o in groups["first"]} == {
        ("The rules ask for Social service agency; it is a Social group.",)}
    assert data["excluded_total"] == 5 + 12
    for lang, heading, more in (("en", "Not a kind of organisation the rules ask for", "and 3 more"),
                                ("zh_Hans", "不是规则要求的组织类型", "另有 3 个")):
        client.cookies.set("market_lang", lang)
        page = (await client.get(url)).text
        excluded = page[page.index('id="excluded"'):]
        assert heading in excluded and more in excluded
        assert excluded.count('href="/organisations/') == candidates.NAMED_EXCLUDED + 4


async def test_the_weights_page_is_public_and_shows_an_override(database, pool, settings):
    app = create_app(load_settings({"MARKET_DATA_DIR": str(settings.data_dir), "MARKET_SECRET_KEY": "t" * 40,
                                    "MARKET_NOTIFY_SECONDS": "0", "MARKET_MATCHING_WEIGHTS": '{"price": 18.5}'}),
                     dsn=database)
    async with AsyncTestClient(app, base_url="http://testserver.local") as c:
        c.cookies.set("market_lang", "en")
        page = await c.get("/matching/weights")
        assert page.status_code == 200
        assert "18.5" in page.text and "(default 20)" in page.text and "Late reports" in page.text
        data = (await c.get("/api/matching/weights")).json()
        assert data["weights"]["price"] == 18.5 and data["weights"]["rating"] == 15
        assert {n["key"] for n in data["notes"]} == set(Weights.__struct_fields__)


async def test_fit_scoring_reads_late_rectification_through_the_scorecard(pool, world, settings, signed):
    """The same 81 (B) as above, with one rectification item left open past its deadline: the
    scorecard is capped just under B (59.99, grade C), and the evaluations factor earns nothing."""
    from datetime import timedelta

    from market.core import clock
    from market.rectification import services as rectification
    contract_id = await pool.fetchval("select id from contracts where call_id = $1", signed)
    for stage, total in (("midterm", 92), ("final", 70)):
        await evaluate_delivery(pool, settings, world, contract_id, stage, total=total)
    await do(pool, lambda conn: rectification.raise_item(
        conn, source="evaluation", source_id=1, key="1", owner_id=world.orgs["provider"],
        buyer_id=world.orgs["bureau"], finding_zh="服务记录不全", finding_en="", evidence_required="",
        due=clock.today() - timedelta(days=1)))
    project_id = await pool.fetchval("select project_id from calls where id = $1", signed)
    found = await _build(pool, [project_id])
    me = found.providers[world.orgs["provider"]]
    assert (me.scorecard, me.scorecard_grade) == (59.99, "C")
    (pc,) = found.projects
    mine = next(c for c in pc.providers if c.party_id == world.orgs["provider"])
    (line,) = [x for x in mine.fit.lines if x.factor == "evaluations"]
    assert line.points < 5.25 and line.points <= 0
