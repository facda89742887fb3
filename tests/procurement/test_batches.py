"""Review batches of an all-year venture round: sealed until cut off, scored by the batch's panel,
every proposal above the minimum funded best first within the round's budget, objections, and a
contract per funded proposal."""

import pytest

from market.core.errors import Conflict, Forbidden, NotFound
from market.evaluation import services as engine
from market.evaluation.models import AddMember, Declaration, ScoreInput
from market.procurement.awards import batches
from market.procurement.awards import services as awards
from market.procurement.awards.models import BATCH_STATUSES
from market.procurement.bids import services as bids
from market.procurement.calls import services as calls
from market.procurement.calls.models import CriterionInput
from market.procurement.contracts import services as contracts
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import SECRET, bid_input, call_input, do, who

PROPOSERS = (("provider_admin", 100_000_00), ("other_provider_admin", 80_000_00))


async def _round(pool, settings, world, published, budget=200_000_00):
    """A published venture round whose project has `budget`; proposals up to ¥100,000 each."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        project = await needs.create_project(conn, bureau, ProjectInput(
            title_zh="社区营造公益创投", description="常年受理社区营造类公益创投项目。", catalogue_entry_id=published["01.01.01"],
            budget_fen=budget, budget_line="福彩公益金", jurisdiction_id=world.street))
        call_id = await calls.create_call(conn, bureau, call_input(
            project, procedure_type="venture_round", deadline_at=None, budget_ceiling_fen=100_000_00, criteria=[
                CriterionInput(name_zh="项目设计", weight=50, min_score=60), CriterionInput(name_zh="团队能力", weight=30),
                CriterionInput(name_zh="价格", weight=20, is_price=True)]))
        await calls.publish_call(conn, bureau, call_id)
    return call_id


@pytest.fixture
async def venture(pool, settings, world, published):
    """The round with a proposal from each provider, none reviewed yet."""
    call_id = await _round(pool, settings, world, published)
    for name, amount in PROPOSERS:
        await do(pool, bids.submit, await who(pool, settings, world, name), call_id, bid_input(amount))
    return call_id


async def _score(pool, settings, world, call_id, number, design):
    """Form the batch's panel and record every score; `design` maps a proposer's label to its design score."""
    bureau = await who(pool, settings, world, "buyer_admin")
    chair = await who(pool, settings, world, "evaluator")
    batch_id = await pool.fetchval("select id from call_batches where call_id = $1 and number = $2", call_id, number)
    panel_id = await engine.panel_for(pool, "batch", batch_id)
    async with pool.acquire() as conn, conn.transaction():
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
        await engine.start_scoring(conn, bureau, panel_id)
    for c in await do(pool, engine.candidates_of, panel_id):
        await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=c.candidate_id, conflicted=False))
        for position, score in ((1, design[c.label]), (2, 70)):
            await do(pool, engine.score, chair, panel_id, ScoreInput(candidate_id=c.candidate_id, position=position,
                                                                       score=score))
            await do(pool, engine.record_consensus, chair, panel_id,
                      ScoreInput(candidate_id=c.candidate_id, position=position, score=score))
    return panel_id


async def end_notice(pool, call_id, number):
    await pool.execute("update call_batches set decided_at = now() - interval '10 days', "
                       "notice_ends_at = now() - interval '1 day' where call_id = $1 and number = $2", call_id, number)


def test_what_may_be_done_to_a_batch_in_each_status():
    expected = {"decide": {"reviewing"}, "object": {"notice"}, "reopen": {"notice", "decided"},
                "contract": {"decided"}}
    for action, statuses in expected.items():
        for status in BATCH_STATUSES:
            assert batches.BATCHES.allowed(action, status) == (status in statuses), (action, status)


async def test_proposals_stay_sealed_until_a_batch_is_cut_off(client, pool, world, venture):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    assert await do(pool, bids.readable_bids, bureau, venture) == []
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert SECRET not in (await client.get(f"/calls/{venture}/bids")).text
    assert (await client.get(f"/api/calls/{venture}/bids")).json() == []

    response = await post_form(client, f"/calls/{venture}/batches")
    assert landed(response, "batch_opened") == f"/calls/{venture}/batches/1"
    assert "目前收到的申报已组成新的一批" in (await client.get(response.headers["location"])).text
    assert {b.amount_fen for b in await do(pool, bids.readable_bids, bureau, venture)} == {100_000_00, 80_000_00}
    assert SECRET in (await client.get(f"/calls/{venture}/batches/1")).text
    # A proposal made after the cut-off waits, sealed, for the next batch.
    other = await who(pool, settings, world, "other_provider_admin")
    await do(pool, bids.submit, other, venture, bid_input(60_000_00))
    assert 60_000_00 not in {b.amount_fen for b in await do(pool, bids.readable_bids, bureau, venture)}
    # Others than the buyer see how many proposals the batch had, never what they say.
    for name in (None, "resident", "funder_admin", "evaluator"):
        await act_as(client, pool, settings, world[name].user_id if name else None)
        page = (await client.get(f"/calls/{venture}/batches/1")).text
        assert SECRET not in page and "2" in page
        batch = (await client.get(f"/api/calls/{venture}/batches/1")).json()["batch"]
        assert batch["proposals"] == 2 and batch["status"] == "reviewing" and batch["results"] == []


async def test_cutting_off_a_batch_is_refused_when_it_should_be(pool, settings, world, published, open_call):
    bureau = await who(pool, settings, world, "buyer_admin")
    call_id = await _round(pool, settings, world, published)
    with pytest.raises(Conflict) as exc:  # nothing to review
        await do(pool, batches.cut_off, bureau, call_id)
    assert exc.value.params == {"n": 1}
    with pytest.raises(Conflict):  # a call with a deadline is not reviewed in batches
        await do(pool, batches.cut_off, bureau, open_call)
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, bids.submit, provider, call_id, bid_input(90_000_00))
    with pytest.raises(Forbidden):
        await do(pool, batches.cut_off, provider, call_id)
    with pytest.raises(Forbidden):
        await do(pool, batches.cut_off, await who(pool, settings, world, "funder_admin"), call_id)
    # A proposal not confirmed after the call changed waits for its bidder.
    row = await pool.fetchrow("select * from calls where id = $1", call_id)
    await do(pool, calls.update_call, bureau, call_id, call_input(row["project_id"], procedure_type="venture_round",
                                                                   deadline_at=None, title_zh="社区营造公益创投（修订）",
                                                                   budget_ceiling_fen=100_000_00))
    with pytest.raises(Conflict):
        await do(pool, batches.cut_off, bureau, call_id)
    await do(pool, bids.confirm, provider, call_id)
    assert await do(pool, batches.cut_off, bureau, call_id) == 1
    await do(pool, bids.submit, await who(pool, settings, world, "other_provider_admin"), call_id, bid_input(5000_00))
    with pytest.raises(Conflict) as exc:  # one batch under review at a time
        await do(pool, batches.cut_off, bureau, call_id)
    assert exc.value.params == {"n": 1}
    await do(pool, calls.cancel_call, bureau, call_id, "本年度公益创投资金已调整，停止受理。")
    with pytest.raises(Conflict):
        await do(pool, batches.decide, bureau, call_id, 1)


async def test_every_proposal_above_the_minimum_is_funded_best_first(client, pool, world, venture):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, batches.cut_off, bureau, venture)
    with pytest.raises(Conflict) as exc:  # the panel has not scored
        await do(pool, batches.decide, bureau, venture, 1)
    await _score(pool, settings, world, venture, 1, {"测试provider": 80, "测试other_provider": 75})
    funded = await do(pool, batches.decide, bureau, venture, 1)
    assert len(funded) == 2
    assert await pool.fetchval("select count(*) from awards where call_id = $1 and reopened_at is null", venture) == 2
    client.cookies.delete("market_session")
    batch = (await client.get(f"/api/calls/{venture}/batches/1")).json()["batch"]
    assert batch["status"] == "notice"
    # Design 50%, team 30%, price 20% by formula: the cheaper proposal ranks first, 78.50 against 77.00.
    assert [(f["amount_fen"], f["total"]) for f in batch["funded"]] == [(80_000_00, "78.50"), (100_000_00, "77.00")]
    assert [r["rank"] for r in batch["results"]] == [1, 2] and batch["not_funded"] == {}
    page = (await client.get(f"/calls/{venture}")).text
    assert "¥20,000.00" in page  # what is left of the round's ¥200,000
    with pytest.raises(Conflict) as exc:  # decided already
        await do(pool, batches.decide, bureau, venture, 1)
    assert exc.value.status == 409
    with pytest.raises(Conflict):  # the budget is not spent yet, but nothing waits
        await do(pool, batches.cut_off, bureau, venture)


async def test_the_budget_and_the_minimum_scores_decide_what_is_not_funded(pool, settings, world, published):
    call_id = await _round(pool, settings, world, published, budget=150_000_00)
    for name, amount in PROPOSERS:
        await do(pool, bids.submit, await who(pool, settings, world, name), call_id, bid_input(amount))
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, batches.cut_off, bureau, call_id)
    await _score(pool, settings, world, call_id, 1, {"测试provider": 80, "测试other_provider": 75})
    funded = await do(pool, batches.decide, bureau, call_id, 1)
    batch = await do(pool, batches.get_batch, None, call_id, 1)
    # The cheaper proposal ranks first and is funded; ¥70,000 is left, too little for the other.
    assert [f.amount_fen for f in batch.funded] == [80_000_00] and funded == [batch.funded[0].bid_id]
    (reason,) = batch.not_funded.values()
    assert "剩余预算" in reason  # zh-Hans by default
    assert (await do(pool, batches.budget, call_id)).remaining_fen == 70_000_00

    # Below the minimum design score: out, with the reason, and nothing is funded.
    call_id = await _round(pool, settings, world, published)
    await do(pool, bids.submit, await who(pool, settings, world, "provider_admin"), call_id, bid_input(50_000_00))
    await do(pool, batches.cut_off, bureau, call_id)
    await _score(pool, settings, world, call_id, 1, {"测试provider": 50})
    assert await do(pool, batches.decide, bureau, call_id, 1) == []
    batch = await do(pool, batches.get_batch, None, call_id, 1)
    assert batch.funded == [] and batch.results[0].rank is None and batch.not_funded


async def test_a_provider_proposes_again_for_the_next_batch(pool, settings, world, venture):
    bureau = await who(pool, settings, world, "buyer_admin")
    provider = await who(pool, settings, world, "provider_admin")
    await do(pool, batches.cut_off, bureau, venture)
    with pytest.raises(Conflict):  # the proposal under review is no longer the bidder's to withdraw
        await do(pool, bids.withdraw, provider, venture)
    await do(pool, bids.submit, provider, venture, bid_input(70_000_00))
    await do(pool, bids.withdraw, provider, venture)
    await do(pool, bids.submit, provider, venture, bid_input(65_000_00))
    await _score(pool, settings, world, venture, 1, {"测试provider": 50, "测试other_provider": 50})
    assert await do(pool, batches.decide, bureau, venture, 1) == []
    assert await do(pool, batches.cut_off, bureau, venture) == 2
    second = await do(pool, batches.get_batch, bureau, venture, 2)
    assert second.proposals == 1
    assert await pool.fetchval("select amount_fen from bids where batch_id = $1", second.id) == 65_000_00


async def test_an_upheld_objection_reopens_the_batch(client, pool, world, venture):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, batches.cut_off, bureau, venture)
    panel_id = await _score(pool, settings, world, venture, 1, {"测试provider": 80, "测试other_provider": 50})
    loser = await who(pool, settings, world, "other_provider_admin")
    with pytest.raises(Conflict):  # not decided yet
        await do(pool, batches.object_to, loser, venture, 1, "评分过程不公正，请复核。")
    await do(pool, batches.decide, bureau, venture, 1)
    with pytest.raises(Forbidden):
        await do(pool, batches.object_to, await who(pool, settings, world, "funder_admin"), venture, 1,
                  "评分过程不公正，请复核。")
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    response = await post_form(client, f"/calls/{venture}/batches/1/objections", {"text": "项目设计得分明显偏低，请复核。"})
    assert response.status_code == 303
    objection = await pool.fetchval("select id from objections where batch_id is not null")
    assert (await client.get(f"/api/calls/{venture}/batches/1/objections")).json()[0]["status"] == "pending"
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    response = await post_form(client, f"/objections/{objection}/uphold", {"answer": "经复核，评分有误，重新评审。"})
    assert landed(response, "objection_upheld") == f"/calls/{venture}/batches/1"
    assert response.headers["location"].endswith("#objections")
    assert "异议成立" in (await client.get(response.headers["location"])).text
    batch = await do(pool, batches.get_batch, None, venture, 1)
    assert batch.status == "reviewing" and batch.funded == []
    assert await pool.fetchval("select status from panels where id = $1", panel_id) == "scoring"
    chair = await who(pool, settings, world, "evaluator")
    loser_bid = await pool.fetchval("select id from bids where call_id = $1 and amount_fen = $2", venture, 80_000_00)
    await do(pool, engine.record_consensus, chair, panel_id, ScoreInput(candidate_id=loser_bid, position=1, score=75))
    assert len(await do(pool, batches.decide, bureau, venture, 1)) == 2


async def test_each_funded_proposal_gets_its_contract_after_the_notice(client, pool, world, venture):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, batches.cut_off, bureau, venture)
    await _score(pool, settings, world, venture, 1, {"测试provider": 80, "测试other_provider": 75})
    await do(pool, batches.decide, bureau, venture, 1)
    award_ids = [r["id"] for r in await pool.fetch("select id from awards where call_id = $1 order by id", venture)]
    with pytest.raises(Conflict):  # still under notice
        await do(pool, contracts.generate_for_award, bureau, award_ids[0])
    await end_notice(pool, venture, 1)
    with pytest.raises(Forbidden):
        await do(pool, contracts.generate_for_award, await who(pool, settings, world, "provider_admin"), award_ids[0])
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    for award_id in award_ids:
        response = await post_form(client, f"/awards/{award_id}/contract")
        assert landed(response, "contract_generated").startswith("/contracts/")
    rows = await pool.fetch("select k.provider_id, k.amount_fen from contracts k where k.call_id = $1 order by k.id",
                            venture)
    assert sorted(r["amount_fen"] for r in rows) == [80_000_00, 100_000_00]
    assert {r["provider_id"] for r in rows} == {world["provider_admin"].org_id, world["other_provider_admin"].org_id}
    with pytest.raises(Conflict):
        await do(pool, contracts.generate_for_award, bureau, award_ids[0])
    with pytest.raises(NotFound):  # a call's award is not a batch's
        await do(pool, contracts.generate_for_award, bureau, 10**9)
    batch = (await client.get(f"/api/calls/{venture}/batches/1")).json()["batch"]
    assert all(f["contract_id"] for f in batch["funded"])
    with pytest.raises(Conflict):  # a batch with contracts cannot be reopened
        await do(pool, batches.reopen, batch["id"], world["buyer_admin"].user_id)


async def test_the_api_lists_batches_and_decides(client, pool, world, venture):
    settings = client.app.state.settings
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    response = await client.post(f"/api/calls/{venture}/batches", headers=api_headers(client))
    assert response.status_code == 201 and response.json()["number"] == 1
    await _score(pool, settings, world, venture, 1, {"测试provider": 80, "测试other_provider": 75})
    response = await client.post(f"/api/calls/{venture}/batches/1/decide", headers=api_headers(client))
    assert response.status_code == 201 and len(response.json()["funded"]) == 2
    listed = (await client.get(f"/api/calls/{venture}/batches")).json()
    assert [(b["number"], b["status"]) for b in listed] == [(1, "notice")]
    assert (await client.get(f"/api/calls/{venture}/batches/9")).status_code == 404
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    assert (await client.post(f"/api/calls/{venture}/batches/1/decide",
                              headers=api_headers(client))).status_code == 403
    objections = await do(pool, awards.objections, venture, listed[0]["id"])
    assert objections == []
