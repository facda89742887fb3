import asyncio

import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields
from market.evaluation import services as engine
from market.evaluation.models import ScoreInput
from market.procurement.awards import services as awards
from market.procurement.awards.workflow import OBJECTIONS
from tests.conftest import act_as, api_headers
from tests.factories import do, panel_of, who


async def test_award_needs_every_consensus_score(pool, settings, world, closed_call):
    panel_id = await panel_of(pool, settings, world, closed_call)
    bureau = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(Conflict) as exc:
        await do(pool, awards.award, bureau, closed_call)
    assert exc.value.params == {"n": 4}
    assert panel_id


async def test_the_award_goes_to_the_top_bid_and_is_public_with_the_scores(client, pool, world, scored):
    settings = client.app.state.settings
    await do(pool, awards.award, await who(pool, settings, world, "buyer_admin"), scored)
    client.cookies.delete("market_session")
    award = (await client.get(f"/api/calls/{scored}/award")).json()
    assert award["provider_name_zh"] == "测试provider" and award["amount_fen"] == 100_000_00
    assert [r["rank"] for r in award["results"]] == [1, 2]
    call = (await client.get(f"/api/calls/{scored}")).json()
    assert call["status"] == "notice"
    page = (await client.get(f"/calls/{scored}")).text
    # (50·80 + 30·70 + 20·80) / 100 = 77.00
    assert "测试provider" in page and "77.00" in page


async def test_an_english_page_names_the_candidates_in_english(client, pool, world, scored):
    # A panel names its candidates when it is formed, by their organisations' names in both languages.
    settings = client.app.state.settings
    await do(pool, awards.award, await who(pool, settings, world, "buyer_admin"), scored)
    client.cookies.delete("market_session")
    award = (await client.get(f"/api/calls/{scored}/award")).json()
    top = award["results"][0]
    assert (top["label"], top["label_en"]) == ("测试provider", "Test provider")
    results = (await client.get(f"/calls/{scored}?lang=en")).text.split('id="award"')[1].split("</table>")[0]
    assert "Test provider" in results and "测试provider" not in results
    results = (await client.get(f"/calls/{scored}?lang=zh_Hans")).text.split('id="award"')[1].split("</table>")[0]
    assert "测试provider" in results and "Test provider" not in results


async def test_concurrent_award_requests_make_one_award(client, pool, world, scored):
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    responses = await asyncio.gather(*(client.post(f"/api/calls/{scored}/award", headers=api_headers(client))
                                       for _ in range(8)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and set(codes) == {201, 409}, codes
    assert await pool.fetchval("select count(*) from awards where call_id = $1", scored) == 1
    assert await pool.fetchval("select count(*) from audit_events where verb = 'call.award'") == 1


async def test_scores_are_frozen_once_awarded(pool, settings, world, scored):
    await do(pool, awards.award, await who(pool, settings, world, "buyer_admin"), scored)
    panel_id = await pool.fetchval("select id from panels where subject_id = $1", scored)
    candidate = await pool.fetchval("select candidate_id from panel_candidates where panel_id = $1 limit 1", panel_id)
    with pytest.raises(Conflict):
        await do(pool, engine.record_consensus, await who(pool, settings, world, "evaluator"), panel_id,
                  ScoreInput(candidate_id=candidate, position=1, score=99))


async def test_objections_only_from_bidders_during_the_notice(pool, settings, world, scored):
    buyer = await who(pool, settings, world, "buyer_admin")
    loser = await who(pool, settings, world, "other_provider_admin")
    with pytest.raises(Conflict):  # nothing awarded yet
        await do(pool, awards.object_to, loser, scored, "评分过程不公正，请复核。")
    await do(pool, awards.award, buyer, scored)
    for name in ("funder_admin", "evaluator"):
        with pytest.raises(Forbidden):
            await do(pool, awards.object_to, await who(pool, settings, world, name), scored, "我对结果有意见，请复核。")
    with pytest.raises(InvalidFields):
        await do(pool, awards.object_to, loser, scored, "不服")
    assert await do(pool, awards.object_to, loser, scored, "对方团队资质不符，请复核。")
    await pool.execute("update calls set notice_ends_at = now() - interval '1 second' where id = $1", scored)
    with pytest.raises(Conflict):
        await do(pool, awards.object_to, loser, scored, "逾期提出的质疑，应不予受理。")


@pytest.mark.parametrize("source", OBJECTIONS.statuses)
@pytest.mark.parametrize("action", OBJECTIONS.actions)
async def test_every_objection_transition_allowed_or_refused(pool, settings, world, scored, source, action):
    buyer = await who(pool, settings, world, "buyer_admin")
    await do(pool, awards.award, buyer, scored)
    objection = await do(pool, awards.object_to, await who(pool, settings, world, "other_provider_admin"), scored,
                          "对方团队资质不符，请复核。")
    if source != "pending":
        await pool.execute("update objections set status = $2, answer = '已经处理完毕', answered_at = now() where id = $1",
                           objection, source)
    transition = OBJECTIONS.find(action, source)
    target = transition.target if transition is not None else None
    if target is None:
        with pytest.raises(Conflict):
            await do(pool, awards.answer_objection, buyer, objection, action, "答复如下，理由充分。")
    else:
        assert await do(pool, awards.answer_objection, buyer, objection, action, "答复如下，理由充分。") == target
    status = await pool.fetchval("select status from objections where id = $1", objection)
    assert status == (target or source)


async def test_an_upheld_objection_reopens_the_evaluation(client, pool, world, scored):
    settings = client.app.state.settings
    buyer = await who(pool, settings, world, "buyer_admin")
    await do(pool, awards.award, buyer, scored)
    objection = await do(pool, awards.object_to, await who(pool, settings, world, "other_provider_admin"), scored,
                          "对方团队资质不符，请复核。")
    with pytest.raises(Forbidden):
        await do(pool, awards.answer_objection, await who(pool, settings, world, "provider_admin"), objection, "reject",
                  "我方不同意质疑。")
    await do(pool, awards.answer_objection, buyer, objection, "uphold", "经复核，质疑成立，重新评审。")
    call = (await client.get(f"/api/calls/{scored}")).json()
    assert call["status"] == "closed" and (await client.get(f"/api/calls/{scored}/award")).json() is None
    # the panel can score again, and a new award can be made
    panel_id = await pool.fetchval("select id from panels where subject_id = $1", scored)
    chair = await who(pool, settings, world, "evaluator")
    for c in await do(pool, engine.candidates_of, panel_id):
        await do(pool, engine.record_consensus, chair, panel_id, ScoreInput(
            candidate_id=c.candidate_id, position=1, score=90 if c.label == "测试other_provider" else 65))
    await do(pool, awards.award, buyer, scored)
    assert (await client.get(f"/api/calls/{scored}/award")).json()["provider_name_zh"] == "测试other_provider"
    assert (await client.get(f"/api/calls/{scored}/objections")).json()[0]["status"] == "upheld"
