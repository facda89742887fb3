"""Mid-term and final rounds on indicator systems: a contract keeps the versions it was signed under;
a round's panel scores their leaves, each by its method; the tree makes the total and the system's
bands the grade; the chair sees the agreement and the outliers; the buyer opens and decides rounds
from the contract page, and a decided round gates the payment that waits for it."""

from decimal import Decimal

import pytest

from market.dashboard.services import workbench
from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.delivery import outcomes as evaluated
from market.delivery import rounds
from market.evaluation import services as engine
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators.models import NewSystemVersion
from market.evaluation.models import AddMember, Declaration, ScoreInput
from market.evaluation.views import panel_view
from market.procurement.contracts import services as contracts
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import (
    accept_milestones,
    do,
    identity_for_user,
    make_person,
    open_delivery_round,
    stage_reports_accepted,
    travel,
    who,
)
from tests.indicator_files import demo_rows, xlsx

# The demo mid-term system's leaves (market/evaluation/indicators/demo_midterm.csv) and how the
# hand-computed case scores them: every scale at 5 points, every yes/no "no", every target met,
# and 4.2 (the one that may be) not applicable.
SCALE = ("1.1", "1.2", "2.1", "3.3.1", "3.3.2", "4.1", "5.2")
YESNO = ("1.3", "2.3")  # 25 % of dimension 1 (20 %) and 30 % of dimension 2 (20 %): 5 + 6 points
FIXED_TARGET = {"2.2": 90, "5.1": 90}
OPEN_TARGET = ("3.1", "3.2")  # their target is the contract's: the evaluator gives the score


async def _published(pool, who_, stage):
    async with pool.acquire() as conn, conn.transaction():
        version = await indicators.create_version(conn, who_, NewSystemVersion(
            stage=stage, title_zh=f"{stage}指标", title_en=f"{stage} indicators"))
        await indicators.import_file(conn, who_, version, xlsx(demo_rows(stage)))
        await indicators.change_status(conn, who_, version, "publish")
    return version


@pytest.fixture
async def systems(pool, settings, world, contract_id):
    """The platform's mid-term and final systems, published before the contract is signed."""
    platform = await who(pool, settings, world, "platform_admin")
    return {stage: await _published(pool, platform, stage) for stage in ("midterm", "final")}


@pytest.fixture
async def signed_under(pool, settings, world, systems, contract_id):
    for name in ("buyer_admin", "provider_admin"):
        await do(pool, contracts.sign, await who(pool, settings, world, name), contract_id)
    return contract_id


async def _open(pool, settings, world, contract_id, stage="midterm"):
    return await open_delivery_round(pool, settings, world, contract_id, stage)


async def _score_all(pool, person, panel_id, contract_id, answers, record=engine.score):
    positions = {c.indicator_path: c.position for c in await do(pool, engine.criteria_of, panel_id)}
    for path, answer in answers.items():
        await do(pool, record, person, panel_id, ScoreInput(candidate_id=contract_id, position=positions[path], **answer))


def _hand_case(**changed):
    answers = {p: {"score": 100} for p in SCALE} | {p: {"score": 0} for p in YESNO}
    answers |= {p: {"score": None, "achieved": t} for p, t in FIXED_TARGET.items()}
    answers |= {p: {"score": 100} for p in OPEN_TARGET} | {"4.2": {"score": None}}
    return answers | changed


async def test_a_contract_keeps_the_systems_it_was_signed_under(pool, settings, world, systems, signed_under):
    pinned = await pool.fetchrow("select midterm_system_id, final_system_id from contracts where id = $1",
                                 signed_under)
    assert (pinned["midterm_system_id"], pinned["final_system_id"]) == (systems["midterm"], systems["final"])
    # A new version published afterwards is in force for new contracts, not for this one.
    platform = await who(pool, settings, world, "platform_admin")
    newer = await _published(pool, platform, "midterm")
    catalogue_item = await pool.fetchval("select c.catalogue_entry_id from contracts k join calls c on c.id = k.call_id "
                                         "where k.id = $1", signed_under)
    assert await do(pool, indicators.system_for, catalogue_item, "midterm") == newer
    panel_id, _ = await _open(pool, settings, world, signed_under)
    panel = await pool.fetchrow("select * from panels where id = $1", panel_id)
    assert panel["indicator_version_id"] == systems["midterm"]
    criteria = await do(pool, engine.criteria_of, panel_id)
    assert [c.indicator_path for c in criteria] == [
        "1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3.1", "3.3.2", "4.1", "4.2", "5.1", "5.2"]


async def test_each_indicator_is_scored_by_its_method(pool, settings, world, signed_under):
    panel_id, chair = await _open(pool, settings, world, signed_under)
    refused = {"1.1": {"score": 50},  # not a point of the 0–5 scale (20 apart)
               "1.3": {"score": 50},  # neither yes (100) nor no (0)
               "1.2": {"score": None},  # may not be not applicable
               "3.1": {"score": None, "achieved": 10}}  # no fixed target to divide by
    for path, answer in refused.items():
        with pytest.raises(InvalidFields) as error:
            await _score_all(pool, chair, panel_id, signed_under, {path: answer})
        assert error.value.errors[0].field in ("score", "achieved"), path
    assert not await pool.fetchval("select count(*) from panel_scores where panel_id = $1", panel_id)
    await _score_all(pool, chair, panel_id, signed_under, {"2.2": {"score": None, "achieved": 45},
                                                         "5.1": {"score": None, "achieved": 120},
                                                         "4.2": {"score": None}})
    kept = {r["indicator_path"]: r["score"] for r in await pool.fetch(
        "select k.indicator_path, s.score from panel_scores s join panel_criteria k using (panel_id, position) "
        "where s.panel_id = $1", panel_id)}
    # 45 of 90 is half; 120 of 90 is capped at the target; 4.2 is not applicable: missing, not zero.
    assert kept == {"2.2": Decimal("50.00"), "5.1": Decimal("100.00"), "4.2": None}


@pytest.mark.parametrize(("changed", "total", "grade", "outcome"), [
    ({}, "89.00", "A", "passed"),  # 100 less the two yes/no leaves: 20 × 25 % + 20 × 30 % = 11 points
    # 4.1 at 0 and 4.2 N/A: dimension 4 is 0 (4.2's weight goes to 4.1), 10 points off: 79.
    ({"4.1": {"score": 0}}, "79.00", "B", "passed"),
    # With 4.2 scored 100 instead, dimension 4 is 40: 6 points off.
    ({"4.1": {"score": 0}, "4.2": {"score": 100}}, "83.00", "B", "passed"),
    # Every scale at 2 points (40): 89 − 60 % of the scale leaves' weight… below the B band.
    ({p: {"score": 40} for p in SCALE} | {p: {"score": 30} for p in OPEN_TARGET}, None, "C", "failed"),
])
async def test_the_tree_makes_the_total_and_the_bands_the_grade(pool, settings, world, signed_under, changed, total,
                                                                grade, outcome):
    panel_id, chair = await _open(pool, settings, world, signed_under)
    answers = _hand_case(**changed)
    await _score_all(pool, chair, panel_id, signed_under, answers)
    await _score_all(pool, chair, panel_id, signed_under, answers, record=engine.record_consensus)
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, rounds.decide_round, bureau, signed_under, "midterm")
    decided = await do(pool, evaluated.stage_outcome, signed_under, "midterm")
    assert (decided.grade, decided.outcome) == (grade, outcome)
    if total is not None:
        assert str(decided.total) == total
    assert await pool.fetchval("select count(*) from notifications where kind = 'evaluation_decided'") >= 1


async def test_the_chair_sees_agreement_and_outliers(pool, settings, world, signed_under):
    panel_id, chair = await _open(pool, settings, world, signed_under)
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("update panels set status = 'forming' where id = $1", panel_id)
        uid = await make_person(conn, world, "second_expert", "evaluator", "evaluator")
    other = await identity_for_user(pool, settings, uid, world.orgs["evaluator"])
    await do(pool, engine.add_member, bureau, panel_id, AddMember(email="second_expert@people.test"))
    await pool.execute("update panels set status = 'scoring' where id = $1", panel_id)
    await do(pool, engine.declare, other, panel_id, Declaration(candidate_id=signed_under, conflicted=False))
    await _score_all(pool, chair, panel_id, signed_under, _hand_case())
    # The second expert agrees everywhere but on 1.1, four points lower: each is 2 points (40 on
    # 0–100) from the median of the two, beyond the 1.5 points that flag an outlier.
    await _score_all(pool, other, panel_id, signed_under, _hand_case(**{"1.1": {"score": 20}}))
    view = await do(pool, panel_view, chair, panel_id)
    assert sorted((o.path, o.score) for o in view.panel.outliers) == [("1.1", 20), ("1.1", 100)]
    assert view.panel.agreement is not None and 0 < view.panel.agreement < 1
    assert view.panel.leaves["1.1"].method == "scale" and len(view.panel.leaves["1.1"].anchors) == 6
    # A member who has not submitted sees neither.
    hidden = await do(pool, panel_view, other, panel_id)
    assert hidden.panel.agreement is None and hidden.panel.outliers == [] and hidden.panel.member_scores == []


async def test_who_opens_and_decides_a_round_and_when(pool, settings, world, signed_under):
    bureau = await who(pool, settings, world, "buyer_admin")
    provider = await who(pool, settings, world, "provider_admin")
    with pytest.raises(Forbidden):
        await do(pool, rounds.open_round, provider, signed_under, "midterm")
    with pytest.raises(NotFound):
        await do(pool, rounds.open_round, bureau, signed_under, "interim")
    with pytest.raises(Conflict, match="follows the mid-term"):
        await do(pool, rounds.open_round, bureau, signed_under, "final")
    with pytest.raises(Conflict, match="No evaluation"):
        await do(pool, rounds.decide_round, bureau, signed_under, "midterm")
    # The panel scores the provider on its mid-term report: none is open before the buyer accepts it.
    with pytest.raises(Conflict, match="report for it is accepted"):
        await do(pool, rounds.open_round, bureau, signed_under, "midterm")
    assert not await pool.fetchval("select count(*) from panels where subject_type = 'midterm' and subject_id = $1", signed_under)
    await stage_reports_accepted(pool, settings, world, signed_under, "midterm")
    panel_id = await do(pool, rounds.open_round, bureau, signed_under, "midterm")
    # Its one candidate is the provider, named as a bid panel names its bidders.
    (candidate,) = await do(pool, engine.candidates_of, panel_id)
    assert candidate.label == await pool.fetchval("select name_zh from organisations where id = $1",
                                                  provider.org_id)
    with pytest.raises(Conflict, match="opened already"):
        await do(pool, rounds.open_round, bureau, signed_under, "midterm")
    with pytest.raises(Conflict, match="not started scoring"):
        await do(pool, rounds.decide_round, bureau, signed_under, "midterm")
    await do(pool, engine.add_member, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
    await do(pool, engine.start_scoring, bureau, panel_id)
    with pytest.raises(Conflict, match="consensus scores still to record"):
        await do(pool, rounds.decide_round, bureau, signed_under, "midterm")
    with pytest.raises(Forbidden):
        await do(pool, rounds.decide_round, provider, signed_under, "midterm")


async def test_the_buyer_runs_a_round_from_the_contract_page(client, pool, settings, world, signed_under):
    """Open from the contract page, score on the panel page by method, decide after confirming; the
    payment that waited for the mid-term may then be accepted."""
    buyer = world["buyer_admin"]
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    page = (await client.get(f"/contracts/{signed_under}")).text
    assert "/evaluations/midterm/open" not in page and "承接方的对应报告通过审核后可开启" in page
    await stage_reports_accepted(pool, settings, world, signed_under, "midterm")
    page = (await client.get(f"/contracts/{signed_under}")).text
    assert f'action="/contracts/{signed_under}/evaluations/midterm/open"' in page
    assert "/evaluations/final/open" not in page  # the final follows the mid-term
    opened = await post_form(client, f"/contracts/{signed_under}/evaluations/midterm/open")
    panel_id = await pool.fetchval("select id from panels where subject_type = 'midterm' and subject_id = $1",
                                   signed_under)
    assert opened.status_code in (302, 303) and opened.headers["location"].startswith(f"/panels/{panel_id}")
    chair = await who(pool, settings, world, "buyer_admin")
    await do(pool, engine.add_member, chair, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
    await do(pool, engine.start_scoring, chair, panel_id)

    person = world["evaluator"]
    await act_as(client, pool, settings, person.user_id, person.org_id)
    declared = await post_form(client, f"/panels/{panel_id}/declarations", {"candidate_id": signed_under, "conflicted": "no"})
    assert landed(declared, "declared") == f"/panels/{panel_id}"
    html = (await client.get(declared.headers["location"])).text
    # At the candidate declared for, whose criteria it now offers to score.
    assert declared.headers["location"].endswith(f"#candidate-{signed_under}")
    assert "您的声明已记录" in html and f'id="candidate-{signed_under}"' in html
    # A scale offers its six anchored points, yes/no its two, a fixed target asks what was achieved.
    assert html.count('<select id="f-score-') == len(SCALE) + 1 + len(YESNO)  # 4.2 is a scale too
    # the chair's own score and the consensus
    assert html.count(f'name="achieved-{signed_under}-') == html.count('name="achieved"') == len(FIXED_TARGET)
    assert "项目人员名单、社工证书" in html  # the evidence the indicator expects
    positions = {c.indicator_path: c.position for c in await do(pool, engine.criteria_of, panel_id)}
    key = f"{signed_under}-{positions['1.3']}"
    wrong = await post_form(client, f"/panels/{panel_id}/scores", {
        "candidate_id": signed_under, "only": positions["1.3"], f"score-{key}": "50"})
    assert wrong.status_code == 400 and "请从给出的选项中选择。" in wrong.text  # next to that indicator, in Chinese
    assert f'<p class="error-text" id="e-score-{key}">请从给出的选项中选择。</p>' in wrong.text
    evaluator = await who(pool, settings, world, "evaluator")
    await _score_all(pool, evaluator, panel_id, signed_under, _hand_case())
    await _score_all(pool, evaluator, panel_id, signed_under, _hand_case(), record=engine.record_consensus)

    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    page = (await client.get(f"/contracts/{signed_under}")).text
    assert f'href="/contracts/{signed_under}/evaluations/midterm/decide"' in page
    form = (await client.get(f"/contracts/{signed_under}/evaluations/midterm/decide")).text
    assert "89.00" in form and 'data-passed="yes"' in form
    unconfirmed = await post_form(client, f"/contracts/{signed_under}/evaluations/midterm/decide")
    assert unconfirmed.status_code == 400
    assert await pool.fetchval("select status from panels where id = $1", panel_id) == "scoring"
    decided = await post_form(client, f"/contracts/{signed_under}/evaluations/midterm/decide", {"confirmed-decide": "yes"})
    assert decided.status_code in (302, 303)
    twin = (await client.get(f"/api/contracts/{signed_under}")).json()
    midterm = next(o for o in twin["outcomes"] if o["stage"] == "midterm")
    assert (midterm["outcome"], midterm["grade"], midterm["total"]) == ("passed", "A", "89.00")
    # The payment that waited for a passed mid-term may now be accepted, once due.
    rows = await pool.fetch("select position, due_date, waits_for from contract_milestones where contract_id = $1 "
                            "order by position", signed_under)
    waiting = next(r for r in rows if r["waits_for"] == "midterm")
    await travel(pool, days=(waiting["due_date"] - (await pool.fetchval("select market_now()::date"))).days + 1)
    await accept_milestones(pool, settings, world, signed_under, [r["position"] for r in rows[: waiting["position"]]])
    assert await pool.fetchval("select accepted_at is not null from contract_milestones where contract_id = $1 "
                               "and position = $2", signed_under, waiting["position"])


async def test_each_role_finds_its_part_of_a_round_on_its_workbench(pool, settings, world, signed_under):
    """The agency's admin: the panel to staff; the expert: the scores to give, then to submit; the
    buyer: the round to decide once every consensus score is in."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        uid = await make_person(conn, world, "agency_admin", "evaluator", "admin")
    agency_admin = await identity_for_user(pool, settings, uid, world.orgs["evaluator"])
    expert = await who(pool, settings, world, "evaluator")

    async def kinds(identity):
        bench = await do(pool, workbench, identity)
        return {x.kind: x.items for x in bench.lists if x.items}

    await stage_reports_accepted(pool, settings, world, signed_under, "midterm")
    panel_id = await do(pool, rounds.open_round, bureau, signed_under, "midterm")
    await do(pool, engine.assign_agency, bureau, panel_id, world.orgs["evaluator"])
    (staffing,) = (await kinds(agency_admin))["panels_to_staff"]
    assert staffing.link == f"/panels/{panel_id}" and staffing.state == "midterm"
    await do(pool, engine.add_member, agency_admin, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
    await do(pool, engine.start_scoring, agency_admin, panel_id)
    assert "panels_to_staff" not in await kinds(agency_admin)
    # The agency follows its panel while its experts score, until every one of them has submitted.
    (followed,) = (await kinds(agency_admin))["panels_being_scored"]
    assert followed.link == f"/panels/{panel_id}" and followed.counts["experts_to_submit"] == 1
    await do(pool, engine.declare, expert, panel_id, Declaration(candidate_id=signed_under, conflicted=False))
    (scoring,) = (await kinds(expert))["panels_to_score"]
    assert scoring.counts["to_score"] == 14
    await _score_all(pool, expert, panel_id, signed_under, _hand_case())
    (scoring,) = (await kinds(expert))["panels_to_score"]
    assert (scoring.counts["to_score"], scoring.counts["to_submit"], scoring.counts["to_consensus"]) == (0, 1, 14)
    assert "rounds_to_decide" not in await kinds(bureau)
    await _score_all(pool, expert, panel_id, signed_under, _hand_case(), record=engine.record_consensus)
    (deciding,) = (await kinds(bureau))["rounds_to_decide"]
    assert deciding.link == f"/contracts/{signed_under}/evaluations/midterm/decide"
    await do(pool, engine.submit, expert, panel_id)
    assert "panels_to_score" not in await kinds(expert)
    assert "panels_being_scored" not in await kinds(agency_admin)


async def test_an_evaluator_saves_every_score_of_a_candidate_at_once(client, pool, settings, world, signed_under):
    """Thirty indicators were thirty presses, each reloading a page ten screens long. The candidate's
    scores now go in one form: what is given is kept, an indicator left at "choose" stays as it was,
    and where one is refused nothing is kept, the refusal stands at its indicator and every other
    choice is shown again as it was made."""
    panel_id, _ = await _open(pool, settings, world, signed_under)
    positions = {c.indicator_path: c.position for c in await do(pool, engine.criteria_of, panel_id)}
    person = world["evaluator"]
    await act_as(client, pool, settings, person.user_id, person.org_id)

    def field(path: str, name: str = "score") -> str:
        return f"{name}-{signed_under}-{positions[path]}"

    given = {field("1.1"): "80", field("1.2"): "60", field("1.3"): "100", field("2.2", "achieved"): "45",
             field("1.1", "note"): "查阅台账"}
    refused = await post_form(client, f"/panels/{panel_id}/scores",
                              {"candidate_id": signed_under, **given, field("2.1"): "70",  # 70 is no point of the scale
                               field("3.3.1", "note"): "缺少签到表",  # a note beside a choice left at "choose"
                               field("3.1"): "", field("3.1", "note"): "待补材料"})  # beside a number left empty
    assert refused.status_code == 400 and f'id="e-{field("2.1")}"' in refused.text
    assert f'id="e-{field("3.3.1")}"' in refused.text and 'value="缺少签到表"' in refused.text
    assert "请先为这条说明评分" in refused.text and 'value="待补材料"' in refused.text
    assert await pool.fetchval("select count(*) from panel_scores where panel_id = $1", panel_id) == 0
    again = refused.text[refused.text.index(f'id="f-{field("1.2")}"'):]
    assert '<option value="60" selected>' in again[:again.index("</select>")] and 'value="查阅台账"' in refused.text
    nothing = await post_form(client, f"/panels/{panel_id}/scores", {"candidate_id": signed_under})
    assert nothing.status_code == 400 and "没有可保存的评分" in nothing.text
    saved = await post_form(client, f"/panels/{panel_id}/scores", {"candidate_id": signed_under, **given})
    assert landed(saved, "scores_saved") == f"/panels/{panel_id}"
    assert saved.headers["location"].endswith(f"#candidate-{signed_under}")
    kept = {r["position"]: (r["score"], r["note"]) for r in await pool.fetch(
        "select position, score, note from panel_scores where panel_id = $1", panel_id)}
    assert kept == {positions["1.1"]: (80, "查阅台账"), positions["1.2"]: (60, ""), positions["1.3"]: (100, ""),
                    positions["2.2"]: (50, "")}  # 45 achieved of a target of 90
    # What was achieved is not shown again: a note changed later is kept beside the score already given.
    noted = await post_form(client, f"/panels/{panel_id}/scores",
                            {"candidate_id": signed_under, field("2.2", "achieved"): "", field("2.2", "note"): "核对花名册"})
    assert landed(noted, "scores_saved") == f"/panels/{panel_id}"
    assert tuple(await pool.fetchrow("select score, note from panel_scores where panel_id = $1 and position = $2",
                                     panel_id, positions["2.2"])) == (50, "核对花名册")
    # A number left empty and saved by its own button is "not applicable", as its placeholder says;
    # this one may not be.
    empty = await post_form(client, f"/panels/{panel_id}/scores",
                            {"candidate_id": signed_under, "only": positions["3.1"], field("3.1"): ""})
    assert empty.status_code == 400 and "该指标不能标记为不适用" in empty.text
    assert await pool.fetchval("select count(*) from panel_scores where panel_id = $1 and position = $2",
                               panel_id, positions["3.1"]) == 0
    page = (await client.get(saved.headers["location"])).text
    assert "评分已保存" in page and f'form="scores-{signed_under}"' in page and f'id="scores-{signed_under}"' in page
    # The JSON twin takes the same scores as a list, under the same rule.
    url = f"/api/panels/{panel_id}/candidates/{signed_under}/scores"
    empty = await client.post(f"{url}?lang=en", json=[], headers=api_headers(client))
    assert empty.status_code == 400 and "There is no score to save" in empty.text  # no step recorded of nothing
    body = [{"candidate_id": signed_under, "position": positions["1.1"], "score": 60},
            {"candidate_id": signed_under, "position": positions["2.1"], "score": 70}]
    assert (await client.post(url, json=body, headers=api_headers(client))).status_code == 400
    assert await pool.fetchval("select score from panel_scores where panel_id = $1 and position = $2",
                               panel_id, positions["1.1"]) == 80
    body[1]["score"] = 60
    assert (await client.post(url, json=body, headers=api_headers(client))).status_code == 201
    assert await pool.fetchval("select count(*) from panel_scores where panel_id = $1 and score = 60", panel_id) == 3


async def test_the_score_forms_say_what_was_given_and_offer_na_only_where_allowed(client, pool, settings, world,
                                                                               signed_under):
    """A select starts on "choose" (required) until a score is given, then shows it; "not applicable"
    is offered only where the indicator allows it, and chosen it records N/A; the chair's consensus
    form shows what was recorded; once submitted, one's own scores are shown, not offered again."""
    panel_id, chair = await _open(pool, settings, world, signed_under)
    positions = {c.indicator_path: c.position for c in await do(pool, engine.criteria_of, panel_id)}
    person = world["evaluator"]
    await act_as(client, pool, settings, person.user_id, person.org_id)
    html = (await client.get(f"/panels/{panel_id}")).text
    own = html[html.index('id="f-score-1-1"'):html.index("</select>", html.index('id="f-score-1-1"'))]
    assert '<option value="" selected disabled>' in own and 'value="na"' not in own
    na = html[html.index(f'id="f-score-1-{positions["4.2"]}"'):]
    assert 'value="na"' in na[:na.index("</select>")]
    sent = await post_form(client, f"/panels/{panel_id}/scores", {"candidate_id": signed_under, "only": positions["4.2"],
                                                                 f"score-{signed_under}-{positions['4.2']}": "na"})
    # The page lands at the criterion just scored, with the sentence that says so.
    at = f"scores-{signed_under}-{positions['4.2']}"
    assert landed(sent, "score_saved") == f"/panels/{panel_id}" and sent.headers["location"].endswith(f"#{at}")
    assert f'id="{at}"' in html and "评分已保存" in (await client.get(sent.headers["location"])).text
    assert await pool.fetchval("select score from panel_scores where panel_id = $1 and position = $2",
                               panel_id, positions["4.2"]) is None
    await _score_all(pool, chair, panel_id, signed_under, _hand_case())
    await _score_all(pool, chair, panel_id, signed_under, {"1.1": {"score": 80, "note": "合议一致"}},
                     record=engine.record_consensus)
    html = (await client.get(f"/panels/{panel_id}")).text
    agreed = html[html.index('id="c-1-1"'):]
    assert '<option value="80" selected>' in agreed[:agreed.index("</select>")] and 'value="合议一致"' in agreed
    await do(pool, engine.submit, chair, panel_id)
    html = (await client.get(f"/panels/{panel_id}")).text
    assert f'action="/panels/{panel_id}/scores"' not in html and 'class="row given"' in html
    assert f'action="/panels/{panel_id}/consensus"' in html  # the chair records the rest
