from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields
from market.core.i18n import use_locale
from market.evaluation import scoring, workflow
from market.evaluation import services as engine
from market.evaluation.models import (
    AddMember,
    Candidate,
    Criterion,
    Declaration,
    NoteInput,
    ScoreInput,
)
from market.procurement.awards import panels
from market.procurement.calls import services as calls
from tests.conftest import act_as, api_headers
from tests.factories import call_input, do, panel_of, pass_deadline, who

T0 = datetime(2026, 11, 1, tzinfo=UTC)
CRITERIA = [Criterion(1, "设计", "Design", 50, 60, False), Criterion(2, "团队", "Team", 30, None, False),
            Criterion(3, "价格", "Price", 20, None, True)]


def cand(i, price, minutes=0):
    return Candidate(candidate_id=i, organisation_id=i, label=f"机构{i}", price_fen=price,
                     submitted_at=T0 + timedelta(minutes=minutes), label_en=f"Agency {i}")


def D(x):
    return Decimal(str(x))


def test_price_scores_by_the_lowest_price():
    assert scoring.price_scores({1: 80_000_00, 2: 100_000_00, 3: None}) == {1: D("100.00"), 2: D("80.00"), 3: None}


def test_totals_are_weighted_means_and_na_is_left_out_not_zero():
    ranked = scoring.rank(CRITERIA, [cand(1, 100_00), cand(2, 100_00)], {1: {1: D(80), 2: D(70)}, 2: {1: D(80), 2: None}})
    by_id = {r.candidate_id: r for r in ranked}
    # 1: (50·80 + 30·70 + 20·100) / 100 = 81.00
    assert by_id[1].total == D("81.00")
    # 2: team is N/A → (50·80 + 20·100) / 70 = 85.71, ahead of 1 — not (50·80 + 0 + 20·100)/100 = 60
    assert by_id[2].total == D("85.71")
    assert [r.candidate_id for r in ranked] == [2, 1]


def test_below_a_minimum_is_out_with_the_reason():
    ranked = scoring.rank(CRITERIA, [cand(1, 100_00), cand(2, 90_00)], {1: {1: D(59), 2: D(99)}, 2: {1: D(60), 2: D(10)}})
    assert [(r.candidate_id, r.rank, r.out) for r in ranked] == [(2, 1, False), (1, None, True)]
    assert "59" in ranked[1].reasons[0] and "60" in ranked[1].reasons[0]


def test_a_tie_goes_to_the_lower_price_then_the_earlier_bid_and_says_so():
    criteria = [Criterion(1, "设计", "Design", 100, None, False)]
    ranked = scoring.rank(criteria, [cand(1, 90_00, 5), cand(2, 80_00, 9), cand(3, 80_00, 1)],
                          {1: {1: D(70)}, 2: {1: D(70)}, 3: {1: D(70)}})
    assert [r.candidate_id for r in ranked] == [3, 2, 1]
    assert all(r.tie_note for r in ranked)


@pytest.mark.parametrize("locale,names", [("en", ("Design", "Agency 1", "Agency 2")), ("zh_Hans", ("设计", "机构1", "机构2"))])
def test_reasons_and_ties_name_criteria_and_candidates_in_the_pages_language(locale, names):
    criterion, first, second = names
    with use_locale(locale):
        out = scoring.rank(CRITERIA, [cand(1, 100_00), cand(2, 90_00)], {1: {1: D(59), 2: D(99)}, 2: {1: D(60), 2: D(10)}})
        tied = scoring.rank(CRITERIA[:1], [cand(1, 90_00), cand(2, 80_00)], {1: {1: D(70)}, 2: {1: D(70)}})
    assert criterion in out[1].reasons[0]
    assert first in tied[0].tie_note and second in tied[1].tie_note


def test_nothing_scored_is_out():
    (r,) = scoring.rank(CRITERIA[:2], [cand(1, None)], {})
    assert r.out and r.total is None


async def test_a_panel_only_after_the_deadline_and_with_enough_bids(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(project))
        await calls.publish_call(conn, bureau, call_id)
    with pytest.raises(Conflict):  # still open
        await do(pool, panels.form_panel, bureau, call_id)
    await pass_deadline(pool, call_id)
    with pytest.raises(Conflict) as exc:  # no bids: open competition needs 2
        await do(pool, panels.form_panel, bureau, call_id)
    assert exc.value.params == {"n": 0, "min": 2}


async def test_the_whole_panel_flow(pool, settings, world, closed_call):
    panel_id = await panel_of(pool, settings, world, closed_call)
    chair = await who(pool, settings, world, "evaluator")
    member = await who(pool, settings, world, "buyer_staff")
    candidates = {c.label: c.candidate_id for c in await do(pool, engine.candidates_of, panel_id)}
    a, b = candidates["测试provider"], candidates["测试other_provider"]
    # scoring before declaring is refused
    with pytest.raises(Conflict):
        await do(pool, engine.score, chair, panel_id, ScoreInput(candidate_id=a, position=1, score=80))
    await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=a, conflicted=False))
    await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=b, conflicted=False))
    await do(pool, engine.declare, member, panel_id, Declaration(candidate_id=a, conflicted=False))
    await do(pool, engine.declare, member, panel_id, Declaration(candidate_id=b, conflicted=True, note="曾任该机构理事"))
    with pytest.raises(Forbidden):
        await do(pool, engine.score, member, panel_id, ScoreInput(candidate_id=b, position=1, score=90))
    with pytest.raises(InvalidFields):  # the price is scored by formula
        await do(pool, engine.score, chair, panel_id, ScoreInput(candidate_id=a, position=3, score=90))
    for who_, cand_, pos, score in ((chair, a, 1, 80), (chair, a, 2, 70), (member, a, 1, 76), (member, a, 2, None),
                                    (chair, b, 1, 65), (chair, b, 2, 60)):
        await do(pool, engine.score, who_, panel_id, ScoreInput(candidate_id=cand_, position=pos, score=score))
    # only the chair records consensus, and only once every member without a conflict has scored
    with pytest.raises(Forbidden):
        await do(pool, engine.record_consensus, member, panel_id, ScoreInput(candidate_id=a, position=1, score=78))
    for cand_, pos, score in ((a, 1, 78), (a, 2, 70), (b, 1, 65), (b, 2, 60)):
        await do(pool, engine.record_consensus, chair, panel_id, ScoreInput(candidate_id=cand_, position=pos, score=score))
    ranked = await do(pool, engine.results, chair, panel_id)
    # a: (50·78 + 30·70 + 20·80) / 100 = 76.00 (price 100,000 vs lowest 80,000 → 80)
    # b: (50·65 + 30·60 + 20·100) / 100 = 70.50
    assert [(r.label, r.total, r.rank) for r in ranked] == [("测试provider", D("76.00"), 1),
                                                            ("测试other_provider", D("70.50"), 2)]
    # A closed panel's verdict is kept; reopened, scored anew and closed again (the clock not moving), it
    # is worked out again.
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, engine.close, panel_id, bureau.user_id)
    first = (await do(pool, engine.verdicts, [panel_id]))[panel_id]
    assert (await do(pool, engine.verdicts, [panel_id]))[panel_id] == first
    await do(pool, engine.reopen, panel_id, bureau.user_id)
    lowest = min(a, b)
    await do(pool, engine.record_consensus, chair, panel_id, ScoreInput(candidate_id=lowest, position=1, score=10))
    await do(pool, engine.close, panel_id, bureau.user_id)
    again = (await do(pool, engine.verdicts, [panel_id]))[panel_id]
    engine.forget_verdicts()
    assert again != first and again == (await do(pool, engine.verdicts, [panel_id]))[panel_id]


async def test_consensus_waits_for_every_eligible_member(pool, settings, world, closed_call):
    panel_id = await panel_of(pool, settings, world, closed_call)
    chair = await who(pool, settings, world, "evaluator")
    a = (await do(pool, engine.candidates_of, panel_id))[0].candidate_id
    await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=a, conflicted=False))
    await do(pool, engine.score, chair, panel_id, ScoreInput(candidate_id=a, position=1, score=80))
    with pytest.raises(Conflict) as exc:
        await do(pool, engine.record_consensus, chair, panel_id, ScoreInput(candidate_id=a, position=1, score=80))
    assert exc.value.params == {"n": 1}


async def test_who_may_join_and_see_a_panel(client, pool, world, closed_call):
    settings = client.app.state.settings
    panel_id = await panel_of(pool, settings, world, closed_call)
    bureau = await who(pool, settings, world, "buyer_admin")
    await pool.execute("update panels set status = 'forming' where id = $1", panel_id)
    for name in ("resident", "provider_admin"):
        with pytest.raises(InvalidFields):
            await do(pool, engine.add_member, bureau, panel_id, AddMember(email=world[name].email))
    with pytest.raises(Forbidden):
        await do(pool, engine.add_member, await who(pool, settings, world, "evaluator"), panel_id,
                  AddMember(email=world["resident"].email))
    for name, status in (("other_provider_admin", 404), ("funder_admin", 404), ("evaluator", 200), ("buyer_staff", 200)):
        await act_as(client, pool, settings, world[name].user_id)
        assert (await client.get(f"/api/panels/{panel_id}")).status_code == status, name
    await act_as(client, pool, settings, world["evaluator"].user_id)
    page = await client.get(f"/panels/{panel_id}")
    assert page.status_code == 200 and "测试provider" in page.text
    r = await client.post(f"/api/panels/{panel_id}/scores", headers=api_headers(client),
                          json={"candidate_id": 1, "position": 1, "score": 101})
    assert r.status_code == 400


@pytest.mark.parametrize("status", workflow.PANEL_STATUSES)
@pytest.mark.parametrize("action", workflow.PANELS.actions)
async def test_every_panel_action_allowed_or_refused(pool, settings, world, closed_call, status, action):
    bureau = await who(pool, settings, world, "buyer_admin")
    chair = await who(pool, settings, world, "evaluator")
    async with pool.acquire() as conn, conn.transaction():
        panel_id = await panels.form_panel(conn, bureau, closed_call)
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
    await pool.execute("update panels set status = $2 where id = $1", panel_id, status)
    candidate = await pool.fetchval("select candidate_id from panel_candidates where panel_id = $1 limit 1", panel_id)
    if action in ("score", "consensus") and status == "scoring":
        await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=candidate, conflicted=False))
        await do(pool, engine.score, chair, panel_id, ScoreInput(candidate_id=candidate, position=1, score=70))
    if action == "submit" and status == "scoring":  # conflicted with every candidate: nothing left to score
        for c in await do(pool, engine.candidates_of, panel_id):
            await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=c.candidate_id, conflicted=True))
    steps = {
        "assign_agency": lambda c: engine.assign_agency(c, bureau, panel_id, world.orgs["evaluator"]),
        "note": lambda c: engine.write_note(c, chair, panel_id, NoteInput(candidate_id=candidate, kind="document",
                                                                          body="读了投标书")),
        "submit": lambda c: engine.submit(c, chair, panel_id),
        "add_member": lambda c: engine.add_member(c, bureau, panel_id, AddMember(email=world["buyer_staff"].email)),
        "start": lambda c: engine.start_scoring(c, bureau, panel_id),
        "declare": lambda c: engine.declare(c, chair, panel_id, Declaration(candidate_id=candidate, conflicted=False)),
        "score": lambda c: engine.score(c, chair, panel_id, ScoreInput(candidate_id=candidate, position=1, score=80)),
        "consensus": lambda c: engine.record_consensus(c, chair, panel_id,
                                                       ScoreInput(candidate_id=candidate, position=1, score=75)),
        "close": lambda c: engine.close(c, panel_id, bureau.user_id),
        "reopen": lambda c: engine.reopen(c, panel_id, bureau.user_id),
    }
    transition = workflow.PANELS.find(action, status)
    if transition is not None:
        await do(pool, steps[action])
    else:
        with pytest.raises(Conflict):
            await do(pool, steps[action])
    expected = transition.target if transition is not None else status
    assert await pool.fetchval("select status from panels where id = $1", panel_id) == expected


async def test_a_call_with_too_few_bids_is_declared_failed_and_its_project_may_try_again(client, pool, world, project):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(project))
        await calls.publish_call(conn, bureau, call_id)
    with pytest.raises(Conflict):  # still open
        await do(pool, panels.declare_failed, bureau, call_id)
    await pass_deadline(pool, call_id)
    with pytest.raises(Forbidden):
        await do(pool, panels.declare_failed, await who(pool, settings, world, "provider_admin"), call_id)
    reason = await do(pool, panels.declare_failed, bureau, call_id)
    assert "0" in reason and "2" in reason
    assert (await client.get(f"/api/calls/{call_id}")).json()["status"] == "failed"
    with pytest.raises(Conflict):
        await do(pool, panels.declare_failed, bureau, call_id)
    async with pool.acquire() as conn, conn.transaction():  # a new call for the same project
        assert await calls.create_call(conn, bureau, call_input(project))


async def test_a_call_with_enough_bids_is_not_declared_failed(pool, settings, world, closed_call):
    with pytest.raises(Conflict):
        await do(pool, panels.declare_failed, await who(pool, settings, world, "buyer_admin"), closed_call)


async def test_panel_members_read_the_bids_they_score_unless_conflicted(client, pool, world, closed_call):
    """As an evaluator, /calls/N/bids once said there was nothing to show while the panel asked for scores."""
    settings = client.app.state.settings
    panel_id = await panel_of(pool, settings, world, closed_call)
    bid_ids = [r["id"] for r in await pool.fetch("select id from bids where call_id = $1 order by id", closed_call)]
    chair = await who(pool, settings, world, "evaluator")
    await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=bid_ids[1], conflicted=True))
    await act_as(client, pool, settings, world["evaluator"].user_id)
    assert (await client.get(f"/api/bids/{bid_ids[0]}")).status_code == 200
    assert (await client.get(f"/api/bids/{bid_ids[1]}")).status_code == 404  # declared a conflict with it
    assert [b["id"] for b in (await client.get(f"/api/calls/{closed_call}/bids")).json()] == [bid_ids[0]]
    assert f'href="/calls/{closed_call}/bids"' in (await client.get(f"/panels/{panel_id}")).text
    # Nobody outside the panel reads them, evaluators of other panels included.
    await pool.execute("delete from panel_members where panel_id = $1 and role = 'member'", panel_id)
    await act_as(client, pool, settings, world["buyer_staff"].user_id)  # the buyer's staff: the buyer reads anyway
    assert (await client.get(f"/api/bids/{bid_ids[0]}")).status_code == 200
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    assert (await client.get(f"/api/bids/{bid_ids[0]}")).status_code == 404


async def test_an_evaluator_is_told_and_the_panel_names_its_call(client, pool, world, closed_call):
    settings = client.app.state.settings
    panel_id = await panel_of(pool, settings, world, closed_call)
    title = await pool.fetchval("select title_zh from calls where id = $1", closed_call)
    told = await pool.fetchrow("select link, params from notifications where user_id = $1 and kind = 'panel_member_added'",
                               world["evaluator"].user_id)
    assert told["link"] == f"/panels/{panel_id}" and told["params"]["title"] == title
    await act_as(client, pool, settings, world["evaluator"].user_id)
    page = (await client.get(f"/panels/{panel_id}?lang=en")).text
    assert f'<a href="/calls/{closed_call}">{title}</a>' in page and f'href="/calls/{closed_call}/bids"' in page
    # Before any score, no totals: they would rest on the price alone (once 100.00 and 97.43).
    assert "100.00" not in page and "still to record" in page
    # Its candidates by their English names, where the Chinese page has the Chinese ones.
    bidders = await pool.fetch("select o.name_zh, o.name_en from bids b join organisations o on o.id = b.provider_id"
                               " where b.call_id = $1", closed_call)
    chinese = (await client.get(f"/panels/{panel_id}?lang=zh_Hans")).text
    assert bidders and all(f"<h3>{b['name_en']}" in page and f"<h3>{b['name_zh']}" in chinese for b in bidders)
    api = (await client.get(f"/api/panels/{panel_id}")).json()["panel"]
    assert api["results"] == [] and api["consensus_missing"] == 4 and api["subject"]["link"] == f"/calls/{closed_call}"


async def test_the_chair_sees_the_members_scores_before_the_consensus(client, pool, world, closed_call):
    settings = client.app.state.settings
    panel_id = await panel_of(pool, settings, world, closed_call)
    bid = await pool.fetchval("select min(id) from bids where call_id = $1", closed_call)
    staff = await who(pool, settings, world, "buyer_staff")
    await do(pool, engine.declare, staff, panel_id, Declaration(candidate_id=bid, conflicted=False))
    await do(pool, engine.score, staff, panel_id, ScoreInput(candidate_id=bid, position=1, score=73.5, note="设计扎实"))
    for name, sees in (("evaluator", True), ("buyer_staff", False)):
        await act_as(client, pool, settings, world[name].user_id)
        scores = (await client.get(f"/api/panels/{panel_id}")).json()["panel"]["member_scores"]
        assert bool(scores) is sees, name
        if sees:
            assert scores == [{"user_id": world["buyer_staff"].user_id, "display_name": scores[0]["display_name"],
                               "candidate_id": bid, "position": 1, "score": 73.5, "note": "设计扎实"}]
    await act_as(client, pool, settings, world["evaluator"].user_id)
    chair = await who(pool, settings, world, "evaluator")
    await do(pool, engine.declare, chair, panel_id, Declaration(candidate_id=bid, conflicted=False))
    page = (await client.get(f"/panels/{panel_id}?lang=en")).text
    assert "73.5" in page and "设计扎实" in page
