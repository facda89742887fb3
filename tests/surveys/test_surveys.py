"""Residents' satisfaction surveys: questions from the contract's indicator system, the buyer opening,
closing and reopening (and what is refused), answers by a slip's code (spent once, however many race
for it) and by a number confirmed by text message (limited, and never kept), results with their
intervals and none at all under 5 answers, moderated comments, the threshold's finding, the community
standing survey's yearly figures, and the printed poster and slips."""

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from pypdf import PdfReader

from market.app import create_app
from market.audit.models import Verb
from market.core import clock
from market.core.errors import Conflict, Forbidden, Invalid, NotFound
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators.models import NewSystemVersion
from market.procurement.contracts import services as contracts
from market.sms.services import HttpSender, OutboxSender, keyed_hash
from market.surveys import services as surveys
from market.surveys import stats
from market.surveys.models import AnswerInput
from market.surveys.workflow import SURVEY, SURVEY_TEXT
from tests.conftest import act_as, post_form
from tests.factories import do, who
from tests.indicator_files import cell, demo_rows, xlsx
from tests.sms_standin import API_KEY


async def _buyer(pool, settings, world):
    return await who(pool, settings, world, "buyer_admin")


@pytest.fixture
async def survey(pool, settings, world, signed):
    """The signed contract's survey, opened by the buyer: (id, token)."""
    buyer = await _buyer(pool, settings, world)
    survey_id = await do(pool, surveys.ensure_for_contract, signed)
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, buyer, survey_id, "open")
    token = await pool.fetchval("select token from surveys where id = $1", survey_id)
    return survey_id, token


async def _codes(pool, settings, world, survey_id, n):
    buyer = await _buyer(pool, settings, world)
    async with pool.acquire() as conn, conn.transaction():
        batch = await surveys.make_codes(conn, buyer, survey_id, n)
        return await surveys.batch_codes(conn, buyer, survey_id, batch)


def _answer(*scores, comment=""):
    return AnswerInput(scores=dict(enumerate(scores, start=1)), comment=comment)


async def _answer_all(pool, settings, world, survey_id, token, rows):
    codes = await _codes(pool, settings, world, survey_id, len(rows))
    for code, (scores, comment) in zip(codes, rows, strict=True):
        await do(pool, surveys.answer_with_code, token, code, _answer(*scores, comment=comment))


# ---- questions --------------------------------------------------------------------------------

async def test_a_survey_asks_the_satisfaction_leaves_of_the_contracts_indicator_system(pool, settings, world,
                                                                                        contract_id):
    platform = await who(pool, settings, world, "platform_admin")
    async with pool.acquire() as conn, conn.transaction():
        version = await indicators.create_version(conn, platform, NewSystemVersion(
            stage="final", title_zh="末期指标", title_en="final indicators"))
        rows = demo_rows("final")
        for column in ("question_zh", "question_en"):  # 5.1 asked by its name, 5.2 in the residents' words
            r, c = cell(rows, "5.1", column)
            rows[r][c] = ""
        await indicators.import_file(conn, platform, version, xlsx(rows))
        await indicators.change_status(conn, platform, version, "publish")
    for name in ("buyer_admin", "provider_admin"):
        await do(pool, contracts.sign, await who(pool, settings, world, name), contract_id)
    survey_id = await do(pool, surveys.ensure_for_contract, contract_id)
    asked = await do(pool, surveys.questions, survey_id)
    # The demo final system's dimension 5 (服务对象满意度): its two leaves, the first by its name with "(%)"
    # dropped, the second as the system says residents are asked about it.
    assert [(q.text_zh, q.text_en) for q in asked] == [
        ("服务对象满意率", "Share of beneficiaries satisfied"),
        ("这个项目给社区带来的变化", "What this project changed in your community")]


async def test_without_a_system_the_fixed_questions_are_asked_and_a_survey_is_made_once(pool, settings, world,
                                                                                       signed):
    first = await do(pool, surveys.ensure_for_contract, signed)
    assert await do(pool, surveys.ensure_for_contract, signed) == first
    assert [q.text_zh for q in await do(pool, surveys.questions, first)] == [
        zh for zh, _ in surveys.PROJECT_QUESTIONS]
    assert await pool.fetchval("select status from surveys where id = $1", first) == "draft"


async def test_an_unsigned_contract_has_no_survey(pool, settings, world, contract_id):
    with pytest.raises(NotFound):
        await do(pool, surveys.ensure_for_contract, contract_id)


# ---- the buyer's steps ------------------------------------------------------------------------

async def test_open_close_reopen_each_audited_and_what_is_refused(pool, settings, world, signed):
    buyer = await _buyer(pool, settings, world)
    provider = await who(pool, settings, world, "provider_admin")
    survey_id = await do(pool, surveys.ensure_for_contract, signed)

    async def move(person, action):
        async with pool.acquire() as conn, conn.transaction():
            return await surveys.change_status(conn, settings, person, survey_id, action)

    with pytest.raises(Conflict):
        await move(buyer, "close")  # a draft is not open
    with pytest.raises(Forbidden):
        await move(provider, "open")  # the provider does not run its own survey
    assert await move(buyer, "open") == "open"
    with pytest.raises(Conflict):
        await move(buyer, "open")
    with pytest.raises(Conflict):
        await move(buyer, "reopen")
    assert await move(buyer, "close") == "closed"
    with pytest.raises(Forbidden):
        await move(provider, "reopen")
    assert await move(buyer, "reopen") == "open"
    verbs = [r["verb"] for r in await pool.fetch(
        "select verb from audit_events where object_type = 'survey' and object_id = $1 order by id", str(survey_id))]
    assert verbs == [Verb.SURVEY_OPEN, Verb.SURVEY_CLOSE, Verb.SURVEY_REOPEN]
    # The provider was told the survey opened, to print the poster.
    assert await pool.fetchval("select count(*) from notifications where kind = 'survey_opened' and user_id = $1",
                               world["provider_admin"].user_id) == 1
    # Once the contract is ended, the survey cannot be opened again.
    await move(buyer, "close")
    await pool.execute("insert into contract_delivery (contract_id, status, ended_at) values ($1, 'ended', now())",
                       signed)
    with pytest.raises(Conflict):
        await move(buyer, "reopen")


def test_the_machines_take_the_steps_the_buyer_takes():
    assert {(t.action, t.source, t.target) for t in SURVEY.transitions} == {
        ("open", "draft", "open"), ("close", "open", "closed"), ("reopen", "closed", "open")}
    assert {(t.action, t.source, t.target) for t in SURVEY_TEXT.transitions} == {
        ("publish", "pending", "published"), ("hide", "pending", "hidden"), ("hide", "published", "hidden"),
        ("publish", "hidden", "published")}


async def test_a_communitys_standing_survey_is_open_and_cannot_be_closed(pool, settings, world):
    buyer = await _buyer(pool, settings, world)
    listing = await do(pool, surveys.survey_list, buyer)
    community = [s for s in listing.surveys if s.kind == "community"]
    # The bureau keeps both communities of the test district (no committee or street office of their own).
    assert sorted(s.title_zh for s in community) == ["东坡路社区", "青年路社区"]
    assert {s.status for s in community} == {"open"}
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(Conflict):
            await surveys.change_status(conn, settings, buyer, community[0].id, "close")


async def test_the_surveys_come_a_page_at_a_time_projects_first_each_once(client, pool, settings, world, survey):
    """A district bureau keeps hundreds of communities' surveys and its contracts': the list is paged."""
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    seen, cursor = [], None
    while True:
        page = (await client.get("/api/surveys", params={"limit": 1, **({"cursor": cursor} if cursor else {})})).json()
        assert page["total"] == 3 and len(page["surveys"]) == 1
        seen += page["surveys"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s["kind"] for s in seen] == ["project", "community", "community"] and seen[0]["id"] == survey[0]
    assert seen[1]["id"] > seen[2]["id"]
    html = (await client.get("/surveys")).text
    assert all(f'href="/surveys/{s["id"]}"' in html for s in seen)


async def test_listing_makes_every_missing_survey_in_the_same_few_statements(client, pool, settings, world, signed):
    """A district bureau's first look at its surveys makes those of hundreds of contracts and communities:
    in the same statements for ten as for two, each survey with its questions."""
    from tests.app.test_statements import _statements
    from tests.factories import clone_contract

    async def clones(n):
        return [await clone_contract(pool, signed, world.orgs["provider"]) for _ in range(n)]
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    await _statements(client, "/surveys")  # the first contract's and the communities'; asyncpg meets the types
    await clones(2)
    few = await _statements(client, "/surveys")
    made = await clones(10)
    many = await _statements(client, "/surveys")
    assert len(many) == len(few)
    asked = await pool.fetch("select s.contract_id, count(*) as n, min(q.text_zh) filter (where q.position = 1) "
                             "as first from surveys s join survey_questions q on q.survey_id = s.id "
                             "where s.contract_id = any($1::bigint[]) group by 1", made)
    assert sorted(r["contract_id"] for r in asked) == made
    assert all(r["n"] == len(surveys.PROJECT_QUESTIONS) and r["first"] == surveys.PROJECT_QUESTIONS[0][0]
               for r in asked)
    assert await pool.fetchval("select count(*) from surveys where kind = 'community'") == 2


# ---- answering with a slip's code --------------------------------------------------------------

async def test_a_code_answers_once_and_its_second_use_is_refused_next_to_it(client, pool, settings, world, survey):
    survey_id, token = survey
    code = (await _codes(pool, settings, world, survey_id, 1))[0]
    page = await client.get(f"/s/{token}")
    assert page.status_code == 200 and "总体满意度" in page.text
    answer = {"q1": "5", "q2": "4", "q3": "4", "q4": "5", "code": f"{code[:4].lower()}-{code[4:]}"}
    sent = await post_form(client, f"/s/{token}", answer)
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"/s/{token}/thanks")
    again = await post_form(client, f"/s/{token}", answer)
    assert again.status_code == 409
    assert 'id="e-code"' in again.text and "已被使用" in again.text
    assert await pool.fetchval("select count(*) from survey_answers where survey_id = $1", survey_id) == 1
    wrong = await post_form(client, f"/s/{token}", {**answer, "code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 400 and 'id="e-code"' in wrong.text
    forged = await client.post(f"/s/{token}", data={**answer, "code": "ZZZZ-ZZZZ"})  # no CSRF token
    assert forged.status_code == 403
    missing = await post_form(client, f"/s/{token}", {"code": code})
    assert missing.status_code == 400 and all(f'id="e-q{i}"' in missing.text for i in range(1, 5))


async def test_eight_answers_racing_with_one_code_store_one(pool, settings, world, survey):
    survey_id, token = survey
    code = (await _codes(pool, settings, world, survey_id, 1))[0]

    async def one(n):
        async with pool.acquire() as conn, conn.transaction():
            return await surveys.answer_with_code(conn, token, code, _answer(5, 5, 4, n % 5 + 1))

    outcomes = await asyncio.gather(*(one(n) for n in range(8)), return_exceptions=True)
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert all(isinstance(o, Conflict) and o.field == "code" for o in outcomes if not isinstance(o, int))
    assert await pool.fetchval("select count(*) from survey_answers where survey_id = $1", survey_id) == 1
    assert await pool.fetchval("select count(*) from survey_scores s join survey_answers a on a.id = s.answer_id "
                               "where a.survey_id = $1", survey_id) == 4


async def test_a_draft_or_closed_survey_takes_no_answers(pool, settings, world, survey):
    survey_id, token = survey
    codes = await _codes(pool, settings, world, survey_id, 1)
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, await _buyer(pool, settings, world), survey_id, "close")
    with pytest.raises(Conflict):
        await do(pool, surveys.answer_with_code, token, codes[0], _answer(5, 5, 5, 5))


async def test_the_survey_page_works_without_an_account_in_both_languages(client, pool, settings, world, survey):
    _, token = survey
    zh = await client.get(f"/s/{token}")
    assert 'lang="zh' in zh.text and "非常满意" in zh.text and '<script' not in zh.text.split("</head>")[1]
    client.cookies.set("market_lang", "en")
    en = await client.get(f"/s/{token}")
    assert "Very satisfied" in en.text and "The code on your slip" in en.text
    assert (await client.get("/s/nosuchtoken00")).status_code == 404
    api = (await client.get(f"/api/s/{token}")).json()
    assert api["accepting"] is True and "results" not in api


# ---- results -----------------------------------------------------------------------------------

def test_wilson_and_t_intervals_match_hand_computation():
    low, high = stats.wilson(4, 5)  # 80 % of 5: Wilson gives 37.6 %–96.4 %
    assert (round(100 * low, 1), round(100 * high, 1)) == (37.6, 96.4)
    assert stats.wilson(5, 5)[1] == 1.0
    mean, low, high = stats.mean_interval([5, 4, 4, 3, 5])  # sd 0.837, t(4) 2.776: 4.2 ± 1.04
    assert (round(mean, 2), round(low, 2), round(high, 2)) == (4.2, 3.16, 5.0)


async def test_results_with_counts_means_and_intervals(pool, settings, world, survey):
    survey_id, token = survey
    rows = [((5, 5, 4, 5), ""), ((4, 4, 4, 4), ""), ((4, 3, 3, 4), ""), ((3, 2, 3, 3), ""), ((5, 5, 5, 5), "")]
    await _answer_all(pool, settings, world, survey_id, token, rows)
    view = await do(pool, surveys.survey_view, settings, await _buyer(pool, settings, world), survey_id)
    assert view.answers == 5 and view.results is not None
    first = view.results.questions[0].figure
    assert (first.answers, first.mean, first.satisfied, first.satisfied_percent) == (5, 4.2, 4, 80.0)
    assert (first.satisfied_low, first.satisfied_high) == (37.6, 96.4)
    # Residents' means 4.75, 4, 3.5, 2.75, 5: three of five satisfied.
    assert view.results.overall.satisfied == 3 and view.results.overall.mean == 4.0


TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")


async def test_four_answers_show_no_figure_on_any_page_json_or_export(client, pool, settings, world, survey):
    survey_id, token = survey
    rows = [((5, 4, 4, 4), "独一无二的意见甲"), ((4, 4, 4, 4), ""), ((5, 5, 5, 4), ""), ((4, 4, 5, 5), "")]
    await _answer_all(pool, settings, world, survey_id, token, rows)
    contract = await pool.fetchval("select contract_id from surveys where id = $1", survey_id)
    # Question 1's mean 4.5, question 2's 4.25, every share 100 %; overall 4.25–4.75.
    figures = ("4.5", "4.25", "4.75", "100%", "100.0", "独一无二的意见甲")
    seen = []
    for person in ("buyer_admin", "provider_admin"):
        p = world[person]
        await act_as(client, pool, settings, p.user_id, p.org_id)
        for url in ("/surveys", f"/surveys/{survey_id}", "/api/surveys", f"/api/surveys/{survey_id}",
                    f"/surveys/{survey_id}/results.csv", "/dashboard", f"/contracts/{contract}", f"/s/{token}",
                    f"/api/s/{token}", f"/s/{token}/thanks"):
            response = await client.get(url)
            assert response.status_code == 200, url
            # Timestamps out first: the seconds of "…T05:14:54.512+08:00" hold a "4.5" of their own.
            text = TIMESTAMP.sub("", response.content.decode("utf-8-sig"))
            seen.append(url)
            assert not [f for f in figures if f in text], (person, url)
            if "surveys/" in url and "api" not in url and "csv" not in url:
                assert "少于5份答卷，结果不予显示" in text
        api = (await client.get(f"/api/surveys/{survey_id}")).json()
        assert api["results"] is None and api["comments"] == [] and api["results_shown"] is False
        csv = (await client.get(f"/surveys/{survey_id}/results.csv")).content.decode("utf-8-sig")
        assert "少于5份答卷" in csv and len(csv.strip().splitlines()) == 2
    with pytest.raises(NotFound):  # nothing to moderate either
        answer_id = await pool.fetchval("select id from survey_answers where comment <> ''")
        await do(pool, surveys.moderate, await _buyer(pool, settings, world), survey_id, answer_id, "publish")
    assert len(seen) == 20


async def test_closing_below_the_threshold_tells_both_parties_and_makes_a_finding(pool, settings, world, survey):
    survey_id, token = survey
    rows = [((2, 3, 2, 3), ""), ((4, 4, 4, 4), ""), ((3, 3, 3, 3), ""), ((5, 5, 5, 5), ""), ((2, 2, 2, 2), "")]
    await _answer_all(pool, settings, world, survey_id, token, rows)
    assert await do(pool, surveys.finding_of, survey_id) is None  # open: not judged yet
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, await _buyer(pool, settings, world), survey_id, "close")
    finding = await do(pool, surveys.finding_of, survey_id)
    assert finding.provider_id == world["provider_admin"].org_id and finding.buyer_id == world["buyer_admin"].org_id
    assert finding.satisfied_percent == 40.0 and finding.threshold_percent == 80
    assert "40.0%" in finding.text_zh and "80%" in finding.text_en
    told = {r["user_id"] for r in await pool.fetch("select user_id from notifications "
                                                    "where kind = 'survey_below_threshold'")}
    assert {world["buyer_admin"].user_id, world["provider_admin"].user_id} <= told
    # The finding is the provider's to put right, the buyer's to verify (the rectification loop).
    item = await pool.fetchrow("select owner_id, buyer_id, finding_zh, source_link "
                               "from rectification_items where source = 'survey' and source_id = $1", survey_id)
    assert (item["owner_id"], item["buyer_id"]) == (world["provider_admin"].org_id, world["buyer_admin"].org_id)
    assert item["finding_zh"] == finding.text_zh and item["source_link"] == f"/surveys/{survey_id}"


async def test_a_survey_closed_above_the_threshold_has_no_finding(pool, settings, world, survey):
    survey_id, token = survey
    await _answer_all(pool, settings, world, survey_id, token, [((5, 5, 4, 4), "")] * 5)
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, await _buyer(pool, settings, world), survey_id, "close")
    assert await do(pool, surveys.finding_of, survey_id) is None
    assert await pool.fetchval("select count(*) from rectification_items") == 0


async def test_a_closed_survey_says_so_and_offers_no_slips_to_print(client, pool, settings, world, survey):
    survey_id, _ = survey
    await _codes(pool, settings, world, survey_id, 3)
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    page = (await client.get(f"/surveys/{survey_id}?lang=en")).text
    assert "Answers so far" in page and f"/surveys/{survey_id}/codes.pdf" in page
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, await _buyer(pool, settings, world), survey_id, "close")
    page = (await client.get(f"/surveys/{survey_id}?lang=en")).text
    assert "The survey is closed: residents can no longer answer it." in page
    assert "once the survey is open" not in page and f"/surveys/{survey_id}/codes.pdf" not in page
    assert "Answers so far" not in page


async def test_comments_appear_only_once_published(client, pool, settings, world, survey):
    survey_id, token = survey
    rows = [((5, 5, 5, 5), "助浴师傅很耐心"), ((4, 4, 4, 4), "时间安排可以更灵活"), ((4, 4, 4, 4), ""),
            ((5, 4, 4, 4), ""), ((4, 5, 4, 4), "")]
    await _answer_all(pool, settings, world, survey_id, token, rows)
    buyer = await _buyer(pool, settings, world)
    provider = await who(pool, settings, world, "provider_admin")
    ids = {r["comment"]: r["id"] for r in await pool.fetch("select id, comment from survey_answers where comment <> ''")}
    assert [c.text for c in (await do(pool, surveys.survey_view, settings, provider, survey_id)).comments] == []
    await do(pool, surveys.moderate, buyer, survey_id, ids["助浴师傅很耐心"], "publish")
    await do(pool, surveys.moderate, buyer, survey_id, ids["时间安排可以更灵活"], "hide")
    with pytest.raises(Conflict):
        await do(pool, surveys.moderate, buyer, survey_id, ids["时间安排可以更灵活"], "hide")
    with pytest.raises(Forbidden):
        await do(pool, surveys.moderate, provider, survey_id, ids["助浴师傅很耐心"], "hide")
    await do(pool, surveys.moderate, buyer, survey_id, ids["助浴师傅很耐心"], "hide")
    await do(pool, surveys.moderate, buyer, survey_id, ids["助浴师傅很耐心"], "publish")
    with pytest.raises(Conflict):
        await do(pool, surveys.moderate, buyer, survey_id, ids["助浴师傅很耐心"], "publish")
    assert [c.text for c in (await do(pool, surveys.survey_view, settings, provider, survey_id)).comments] == [
        "助浴师傅很耐心"]
    p = world["provider_admin"]
    await act_as(client, pool, settings, p.user_id, p.org_id)
    csv = (await client.get(f"/surveys/{survey_id}/results.csv")).content.decode("utf-8-sig")
    assert "助浴师傅很耐心" in csv and "时间安排可以更灵活" not in csv
    b = world["buyer_admin"]
    await act_as(client, pool, settings, b.user_id, b.org_id)
    page = await client.get(f"/surveys/{survey_id}")
    assert "时间安排可以更灵活" in page.text  # the buyer still sees what it hid, to change its mind
    shown = await post_form(client, f"/surveys/{survey_id}/comments/{ids['时间安排可以更灵活']}", {"action": "publish"})
    assert shown.status_code == 303
    assert await pool.fetchval("select comment_status from survey_answers where id = $1",
                               ids["时间安排可以更灵活"]) == "published"


async def test_strangers_do_not_see_a_survey(client, pool, settings, world, survey):
    survey_id, _ = survey
    other = await who(pool, settings, world, "other_provider_admin")
    with pytest.raises(NotFound):
        await do(pool, surveys.survey_view, settings, other, survey_id)
    p = world["other_provider_admin"]
    await act_as(client, pool, settings, p.user_id, p.org_id)
    for url in (f"/surveys/{survey_id}", f"/surveys/{survey_id}/results.csv", f"/surveys/{survey_id}/poster.pdf"):
        assert (await client.get(url)).status_code == 404


# ---- answering with a phone number -------------------------------------------------------------

async def _outbox_code(pool, settings, number):
    body = await pool.fetchval("select body from sms_outbox where to_hash = $1 order by id desc limit 1",
                               keyed_hash(settings, "phone", number))
    return "".join(ch for ch in body if ch.isdigit())[:6]


async def test_a_number_confirmed_by_text_answers_once_and_is_never_kept(client, pool, settings, world, survey):
    _, token = survey
    form = await client.get(f"/s/{token}/phone")
    assert form.status_code == 200
    sent = await post_form(client, f"/s/{token}/phone", {"phone": "138 1234 5678"})
    assert sent.status_code == 303
    ticket = sent.headers["location"].split("ticket=")[1].split("&")[0]
    page = await client.get(f"/s/{token}?ticket={ticket}")
    assert 'name="sms_code"' in page.text and 'name="code"' not in page.text
    code = await _outbox_code(pool, settings, "+8613812345678")
    scores = {"q1": "4", "q2": "4", "q3": "5", "q4": "4"}
    wrong = await post_form(client, f"/s/{token}", {**scores, "ticket": ticket, "sms_code": "000000"
                                                     if code != "000000" else "111111"})
    assert wrong.status_code == 400 and 'id="e-sms_code"' in wrong.text
    assert await pool.fetchval("select attempts from survey_phone_codes where ticket = $1", ticket) == 1
    answered = await post_form(client, f"/s/{token}", {**scores, "ticket": ticket, "sms_code": code})
    assert answered.status_code == 303
    again = await post_form(client, f"/s/{token}/phone", {"phone": "13812345678"})
    assert again.status_code == 409 and 'id="e-phone"' in again.text
    # The number is nowhere in the database: only its keyed hash and, in the outbox, its last four digits.
    dump = ""
    for table in ("survey_answers", "survey_phone_codes", "sms_outbox", "audit_events"):
        dump += " ".join(str(tuple(r)) for r in await pool.fetch(f"select * from {table}"))
    assert "13812345678" not in dump and "1381234" not in dump
    assert await pool.fetchval("select count(*) from survey_answers where phone_hash is not null") == 1


async def test_a_code_by_text_expires_and_wrong_codes_run_out(pool, settings, world, survey):
    _, token = survey
    sender = OutboxSender(settings)
    ticket = await do(pool, lambda conn: surveys.send_sms_code(conn, settings, sender, token, "13900000001", "10.0.0.1"))
    code = await _outbox_code(pool, settings, "+8613900000001")
    for _ in range(surveys.MAX_SMS_ATTEMPTS):
        await do(pool, surveys.note_sms_attempt, settings, token, ticket, "x")
    with pytest.raises(Invalid, match="Too many wrong codes"):
        await do(pool, surveys.answer_with_phone, settings, token, ticket, code, _answer(5, 5, 5, 5))
    ticket = await do(pool, lambda conn: surveys.send_sms_code(conn, settings, sender, token, "13900000001", "10.0.0.1"))
    code = await _outbox_code(pool, settings, "+8613900000001")
    await do(pool, clock.advance, timedelta(minutes=settings.sms_code_minutes + 1))
    with pytest.raises(Invalid, match="expired"):
        await do(pool, surveys.answer_with_phone, settings, token, ticket, code, _answer(5, 5, 5, 5))


async def test_texts_are_limited_per_number_and_per_address(pool, settings, world, survey):
    _, token = survey
    sender = OutboxSender(settings)

    async def ask(number, address):
        return await do(pool, lambda conn: surveys.send_sms_code(conn, settings, sender, token, number, address))

    for _ in range(settings.sms_per_number_per_hour):
        await ask("13700000000", "10.0.0.2")
    with pytest.raises(Invalid, match="this number") as refused:
        await ask("13700000000", "10.0.0.3")
    assert refused.value.field == "phone"
    for n in range(settings.sms_per_address_per_hour - settings.sms_per_number_per_hour):
        await ask(f"136000000{n:02d}", "10.0.0.2")
    with pytest.raises(Invalid, match="this network"):
        await ask("13500000000", "10.0.0.2")
    with pytest.raises(Invalid, match="11 digits"):
        await ask("12345", "10.0.0.4")
    await do(pool, clock.advance, timedelta(hours=1, minutes=1))
    assert await ask("13700000000", "10.0.0.2")


async def test_the_http_adapter_sends_through_the_providers_api(pool, settings, sms_api):
    configured = msgspec.structs.replace(settings, sms_backend="http", sms_api_url=sms_api.url, sms_api_key=API_KEY,
                                         sms_sender="上城区民政局")
    sender = HttpSender(configured)
    await do(pool, sender.send, "+8613812345678", "您的问卷验证码是123456")
    assert sms_api.messages[-1]["to"] == "+8613812345678" and sms_api.messages[-1]["from"] == "上城区民政局"
    sms_api.fail_next()
    with pytest.raises(Exception, match="could not be sent"):
        await do(pool, sender.send, "+8613812345678", "再试一次")
    wrong_key = HttpSender(msgspec.structs.replace(configured, sms_api_key="nope"))
    with pytest.raises(Exception, match="could not be sent"):
        await do(pool, wrong_key.send, "+8613812345678", "x")
    assert len(sms_api.messages) == 1


@pytest.fixture
def http_sms_settings(settings, sms_api):
    return msgspec.structs.replace(settings, sms_backend="http", sms_api_url=sms_api.url, sms_api_key=API_KEY)


async def test_the_survey_page_texts_through_the_configured_provider(database, pool, world, sms_api,
                                                                    http_sms_settings):
    buyer = await who(pool, http_sms_settings, world, "buyer_admin")
    community = (await do(pool, surveys.survey_list, buyer)).surveys[0]
    token = await pool.fetchval("select token from surveys where id = $1", community.id)
    async with AsyncTestClient(create_app(http_sms_settings, dsn=database), base_url="http://testserver.local") as c:
        c.follow_redirects = False
        await c.get("/health")
        sent = await post_form(c, f"/s/{token}/phone", {"phone": "13812345678"})
        assert sent.status_code == 303
        sms_api.fail_next()
        failed = await post_form(c, f"/s/{token}/phone", {"phone": "13812345679"})
        assert failed.status_code == 503
    message = sms_api.messages[-1]
    assert message["to"] == "+8613812345678" and sum(ch.isdigit() for ch in message["text"]) >= 6
    assert await pool.fetchval("select count(*) from sms_outbox") == 0
    # The refused request left no code behind, so it counts against no limit.
    assert await pool.fetchval("select count(*) from survey_phone_codes") == 1


# ---- what other parts read ---------------------------------------------------------------------

async def test_satisfaction_by_place_and_year_and_none_under_five(pool, settings, world):
    buyer = await _buyer(pool, settings, world)
    listing = await do(pool, surveys.survey_list, buyer)
    token = {s.title_zh: await pool.fetchval("select token from surveys where id = $1", s.id)
             for s in listing.surveys if s.kind == "community"}["东坡路社区"]
    survey_id = await pool.fetchval("select id from surveys where token = $1", token)
    codes = await _codes(pool, settings, world, survey_id, 9)
    last_year = datetime(clock.now().year - 1, 6, 1, tzinfo=UTC)
    for code, scores in zip(codes[:5], [(5,) * 5, (4,) * 5, (4,) * 5, (3,) * 5, (2,) * 5], strict=True):
        await do(pool, surveys.answer_with_code, token, code, _answer(*scores), last_year)
    for code in codes[5:]:
        await do(pool, surveys.answer_with_code, token, code, _answer(5, 5, 5, 5, 4))
    years = [last_year.year, clock.now().year]
    found = await do(pool, surveys.satisfaction_by_place, [world.community, world.other_community, world.street],
                     years, "Asia/Shanghai")
    past = found[(world.community, last_year.year)]
    assert tuple(past) == (past.answers, past.satisfied_percent, past.mean) == (5, 60.0, 3.6)
    assert tuple(found[(world.community, clock.now().year)]) == (4, None, None)
    assert (world.other_community, last_year.year) not in found
    # A street's card takes in its communities.
    assert found[(world.street, last_year.year)] == past
    # Only the years asked for; and each answer keeps its scores' sum and number (migration 0065).
    this_year = await do(pool, surveys.satisfaction_by_place, [world.community], [clock.now().year], "Asia/Shanghai")
    assert list(this_year) == [(world.community, clock.now().year)]
    assert await pool.fetch("""select a.score_total, a.score_count from survey_answers a where a.survey_id = $1
                                 except select sum(x.score), count(*) from survey_scores x join survey_answers a
                                     on a.id = x.answer_id where a.survey_id = $1 group by a.id""", survey_id) == []


async def test_the_workbench_leads_to_the_surveys(client, pool, settings, world, survey):
    survey_id, _ = survey
    for person in ("buyer_admin", "provider_admin"):
        p = world[person]
        await act_as(client, pool, settings, p.user_id, p.org_id)
        dashboard = await client.get("/dashboard")
        assert 'href="/surveys"' in dashboard.text
        listing = await client.get("/surveys")
        assert f'href="/surveys/{survey_id}"' in listing.text


# ---- printed forms -----------------------------------------------------------------------------

async def test_the_poster_and_the_slips_print_the_link_and_the_codes(client, pool, settings, world, survey):
    survey_id, token = survey
    codes = await _codes(pool, settings, world, survey_id, 5)
    b = world["buyer_admin"]
    await act_as(client, pool, settings, b.user_id, b.org_id)
    page = await client.get(f"/surveys/{survey_id}")
    assert "<svg" in page.text and f"/s/{token}" in page.text
    poster = await client.get(f"/surveys/{survey_id}/poster.pdf")
    assert poster.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(poster.content)).pages[0].extract_text()
    assert f"/s/{token}" in text and "满意度" in text
    slips = await client.get(f"/surveys/{survey_id}/codes.pdf")
    sheet = "".join(p.extract_text() for p in PdfReader(io.BytesIO(slips.content)).pages)
    assert all(f"{c[:4]}-{c[4:]}" in sheet for c in codes)
    for count in ("0", "501", "lots"):
        made = await post_form(client, f"/surveys/{survey_id}/codes", {"count": count})
        assert made.status_code == 400 and 'id="e-count"' in made.text
    assert (await post_form(client, f"/surveys/{survey_id}/codes", {"count": "500"})).status_code == 303
    assert await pool.fetchval("select count(*) from survey_codes where survey_id = $1", survey_id) == 505
    p = world["provider_admin"]
    await act_as(client, pool, settings, p.user_id, p.org_id)
    assert (await client.get(f"/surveys/{survey_id}/poster.pdf")).status_code == 200
    assert (await client.get(f"/surveys/{survey_id}/codes.pdf")).status_code == 403


async def test_the_buyer_opens_the_survey_from_its_page(client, pool, settings, world, signed):
    b = world["buyer_admin"]
    await act_as(client, pool, settings, b.user_id, b.org_id)
    reached = await client.get(f"/contracts/{signed}/survey")
    assert reached.status_code == 303
    survey_url = reached.headers["location"]
    assert "尚未开放" in (await client.get(survey_url)).text
    opened = await post_form(client, survey_url + "/status", {"action": "open"})
    assert opened.status_code == 303
    refused = await post_form(client, survey_url + "/status", {"action": "open"})
    assert refused.status_code == 409 and "errors" in refused.text


async def test_a_resident_finds_the_surveys_near_them_on_their_workbench(client, pool, settings, world, survey):
    """Residents reached a survey only by a poster's link or a slip: their workbench now offers their
    community's standing survey and the open surveys of projects done in the community, its street or
    its district, in the reader's language, with the JSON twin saying the same."""
    survey_id, token = survey
    resident = world["resident"]  # of 东坡路社区; the project is the street's
    await act_as(client, pool, settings, resident.user_id)
    page = (await client.get("/dashboard?lang=zh_Hans")).text
    bench = (await client.get("/api/dashboard")).json()["surveys"]
    community = await pool.fetchval("select token from surveys where community_id = $1", world.community)
    assert bench["community"]["link"] == f"/s/{community}" and bench["community"]["title_zh"] == "东坡路社区"
    assert [s["link"] for s in bench["projects"]] == [f"/s/{token}"] and bench["projects_total"] == 1
    assert "评价服务" in page and "东坡路社区的服务做得怎么样？" in page
    assert f'href="/s/{community}"' in page and f'href="/s/{token}"' in page
    assert "东坡路社区上门助浴服务采购" in page
    # and the needs of the community, to support a neighbour's
    assert f'href="/needs?place={world.community}&amp;status=open">东坡路社区居民提出的需求<' in page
    for link, heading in ((f"/s/{community}", "社区服务"), (f"/s/{token}", "满意度调查")):
        public = await client.get(link)
        assert public.status_code == 200 and heading in public.text
    english = (await client.get("/dashboard?lang=en")).text
    assert "Rate the services" in english and "Services near you" in english
    # A closed survey takes no answers and is not offered.
    async with pool.acquire() as conn, conn.transaction():
        await surveys.change_status(conn, settings, await _buyer(pool, settings, world), survey_id, "close")
    bench = (await client.get("/api/dashboard")).json()["surveys"]
    assert bench["projects"] == [] and bench["community"]["link"] == f"/s/{community}"


async def test_a_community_nobody_keeps_offers_no_survey_until_someone_does(client, pool, settings, world):
    """A standing survey is read by the bureau or street office that keeps the community; with none, a
    resident's answers would reach nobody, so none is made or offered."""
    await pool.execute("update organisations set status = 'suspended' where kind = 'buyer'")
    resident = world["resident"]
    await act_as(client, pool, settings, resident.user_id)
    assert (await client.get("/api/dashboard")).json()["surveys"] == {"community": None, "projects": [],
                                                                      "projects_total": 0}
    assert "您的社区目前没有开放的满意度调查。" in (await client.get("/dashboard?lang=zh_Hans")).text
    assert await pool.fetchval("select count(*) from surveys") == 0
    await pool.execute("update organisations set status = 'verified' where kind = 'buyer'")
    assert (await client.get("/api/dashboard")).json()["surveys"]["community"]["title_zh"] == "东坡路社区"
