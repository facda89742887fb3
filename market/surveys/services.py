"""Surveys: making them, opening and closing them, answering them without an account, the results,
moderating residents' text, and what other domains read of them (`finding_of`,
`satisfaction_by_place`).

A contracted project's survey is made the first time its buyer or provider lists their surveys (or
opens its page), with questions from the satisfaction dimension of the contract's indicator system
(the final one, else the mid-term one; a fixed set where the system has none). A community's
standing survey is made, open, the first time the buyer who keeps that community (the nearest buyer
at or above it) lists its surveys, or a resident of it opens their workbench.

One answer per resident: a printed code is spent by one UPDATE that only one transaction can make;
a phone number answers once by a unique key on its hash."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, keyset
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import gettext
from market.core.settings import Settings
from market.notifications import services as notifications
from market.rectification import services as rectification
from market.sms.services import SmsSender, keyed_hash, normalise_phone
from market.surveys import stats
from market.surveys.models import (
    MAX_CODES,
    MIN_ANSWERS,
    AnswerInput,
    Codes,
    Comment,
    CommunitySatisfaction,
    Finding,
    PublicSurvey,
    Question,
    QuestionResult,
    ResidentSurveys,
    Results,
    SurveyList,
    SurveyRow,
    SurveyToAnswer,
    SurveyView,
)
from market.surveys.workflow import SURVEY, SURVEY_TEXT
from market.workflow import Notice, Transition, step

# What a provider shows to close a survey's finding (one text, as an indicator's evidence is).
EVIDENCE_OF_IMPROVEMENT = ("整改措施说明、改进后的服务记录，以及回访居民的结果 / What was changed, records of the improved "
                           "service, and what residents said when asked again")

RUNNERS = ("admin", "staff")  # who runs a survey for the buyer
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a slip without doubt
MAX_SMS_ATTEMPTS = 5

# Where a survey has no indicator system with a satisfaction part.
PROJECT_QUESTIONS = [
    ("服务人员的态度", "How the staff treated you"),
    ("服务内容符合您的需要", "How well the service met your needs"),
    ("服务的效果", "What the service did for you"),
    ("总体满意度", "Overall satisfaction"),
]
COMMUNITY_QUESTIONS = [
    ("社区环境与卫生", "The community's surroundings and cleanliness"),
    ("为老、为小等便民服务", "Services for older people, children and daily needs"),
    ("社区文体活动", "Cultural and sports activities"),
    ("社区工作人员的服务态度", "How the community's staff treat residents"),
    ("总体满意度", "Overall satisfaction"),
]

_SURVEY_COLUMNS = """s.*, c.title_zh as call_zh, c.title_en as call_en, k.buyer_id, k.provider_id,
       coalesce(d.status, 'in_delivery') as delivery_status, k.status as contract_status,
       j.name_zh as community_zh, j.name_en as community_en"""
_SURVEY_FROM = """surveys s left join contracts k on k.id = s.contract_id left join calls c on c.id = k.call_id
  left join contract_delivery d on d.contract_id = k.id left join jurisdictions j on j.id = s.community_id"""
_SURVEY = f"select {_SURVEY_COLUMNS} from {_SURVEY_FROM}"

# The nearest verified buyer at or above a place: who keeps that community's standing survey.
_KEEPER = """
with recursive up as (
    select id, parent_id, 0 as depth from jurisdictions where id = $1
    union all
    select j.id, j.parent_id, up.depth + 1 from jurisdictions j join up on j.id = up.parent_id
)
select b.id from up join organisations b on b.jurisdiction_id = up.id
 where b.kind = 'buyer' and b.status = 'verified' order by up.depth, b.id limit 1"""

# The communities under a buyer's place that it keeps (no verified buyer sits nearer to them).
_KEPT = """
with recursive down as (
    select j.id, j.level, 0 as depth from organisations o join jurisdictions j on j.id = o.jurisdiction_id
     where o.id = $1
    union all
    select j.id, j.level, down.depth + 1 from jurisdictions j join down on j.parent_id = down.id
     where not exists (select from organisations b where b.jurisdiction_id = j.id and b.kind = 'buyer'
                                                     and b.status = 'verified' and b.id <> $1)
)
select id from down where level = 'community' order by id"""


def _token() -> str:
    return secrets.token_urlsafe(9)


async def keeper_of(conn: asyncpg.Connection, community_id: int) -> int | None:
    keeper: int | None = await conn.fetchval(_KEEPER, community_id)
    return keeper


# The leaves under the satisfaction dimension of each new survey's indicator system ($1 the surveys, $2
# their systems), in the system's order. A share asked of one resident is their own satisfaction:
# "(%)" means nothing to them.
_SYSTEM_QUESTIONS = """
insert into survey_questions (survey_id, position, text_zh, text_en, node_path)
select s.id, row_number() over (partition by s.id order by string_to_array(n.path, '.')::int[]),
       coalesce(nullif(n.question_zh, ''), btrim(replace(replace(n.name_zh, '（%）', ''), '(%)', ''))),
       coalesce(nullif(n.question_en, ''), btrim(replace(n.name_en, '(%)', ''))), n.path
  from unnest($1::bigint[], $2::bigint[]) s (id, system_id)
  join indicator_nodes d on d.version_id = s.system_id and d.satisfaction and position('.' in d.path) = 0
  join indicator_nodes n on n.version_id = d.version_id and n.path like d.path || '.%'
 where not exists (select from indicator_nodes c where c.version_id = n.version_id and c.path like n.path || '.%')"""
# A fixed set of questions ($2, $3) for each new survey ($1) that has none.
_FIXED_QUESTIONS = """
insert into survey_questions (survey_id, position, text_zh, text_en)
select s.id, q.position, q.zh, q.en
  from unnest($1::bigint[]) s (id) cross join unnest($2::text[], $3::text[]) with ordinality q (zh, en, position)
 where not exists (select from survey_questions x where x.survey_id = s.id)"""


async def _make(conn: asyncpg.Connection, *, contracts: Sequence[int] = (), communities: Sequence[int] = ()) -> None:
    """Make the surveys of these signed contracts and communities that nobody has made yet, each with
    its questions, in the same few statements however many: a district bureau lists hundreds at once."""
    if contracts:
        made = await conn.fetch("""
            insert into surveys (kind, contract_id, token, status, system_id)
            select 'project', k.id, t.token, 'draft', coalesce(k.final_system_id, k.midterm_system_id)
              from unnest($1::bigint[], $2::text[]) t (contract_id, token) join contracts k on k.id = t.contract_id
            on conflict do nothing returning id, system_id""", list(contracts), [_token() for _ in contracts])
        await add_questions(conn, [(r["id"], r["system_id"]) for r in made])
    if communities:
        made = await conn.fetch("""
            insert into surveys (kind, community_id, token, status, opened_at)
            select 'community', t.community_id, t.token, 'open', market_now()
              from unnest($1::int[], $2::text[]) t (community_id, token)
            on conflict do nothing returning id""", list(communities), [_token() for _ in communities])
        await _fixed_questions(conn, [r["id"] for r in made], COMMUNITY_QUESTIONS)


async def add_questions(conn: asyncpg.Connection, project_surveys: Sequence[tuple[int, int | None]]) -> None:
    """The questions of new project surveys, each (id, its indicator system): the leaves of the system's
    satisfaction dimension, or the fixed set where it has none (market.citygen asks the same)."""
    with_system = [(survey, system) for survey, system in project_surveys if system is not None]
    if with_system:
        await conn.execute(_SYSTEM_QUESTIONS, [s for s, _ in with_system], [system for _, system in with_system])
    await _fixed_questions(conn, [survey for survey, _ in project_surveys], PROJECT_QUESTIONS)


async def _fixed_questions(conn: asyncpg.Connection, survey_ids: list[int], questions: list[tuple[str, str]]) -> None:
    if survey_ids:
        await conn.execute(_FIXED_QUESTIONS, survey_ids, [zh for zh, _ in questions], [en for _, en in questions])


async def ensure_for_contract(conn: asyncpg.Connection, contract_id: int) -> int:
    """The project's survey, made now if it has none; a signed contract only."""
    if await conn.fetchval("select status from contracts where id = $1", contract_id) != "signed":
        raise NotFound()
    await _make(conn, contracts=[contract_id])
    survey_id: int = await conn.fetchval("select id from surveys where contract_id = $1", contract_id)
    return survey_id


async def ensure_for_community(conn: asyncpg.Connection, community_id: int) -> int:
    if await conn.fetchval("select level from jurisdictions where id = $1", community_id) != "community":
        raise NotFound()
    await _make(conn, communities=[community_id])
    survey_id: int = await conn.fetchval("select id from surveys where community_id = $1", community_id)
    return survey_id


async def _ensure_for(conn: asyncpg.Connection, identity: Identity, kept: list[int]) -> None:
    """The surveys of the reader's organisation (its contracts', and those of the communities it
    `kept`), made where missing."""
    missing = await conn.fetch("""
        select k.id from contracts k where k.status = 'signed' and (k.buyer_id = $1 or k.provider_id = $1)
           and not exists (select from surveys s where s.contract_id = k.id) order by k.id""", identity.org_id)
    unsurveyed = [r["id"] for r in await conn.fetch(
        "select c.id from unnest($1::int[]) c (id) where not exists (select from surveys s where s.community_id = c.id) "
        "order by c.id", kept)] if kept else []
    await _make(conn, contracts=[r["id"] for r in missing], communities=unsurveyed)


# ---- who may do what ---------------------------------------------------------------------------

async def _load(conn: asyncpg.Connection, survey_id: int, *, lock: bool = False) -> asyncpg.Record:
    row = await conn.fetchrow(_SURVEY + " where s.id = $1" + (" for update of s" if lock else ""), survey_id)
    if row is None:
        raise NotFound()
    return row


async def buyer_of(conn: asyncpg.Connection, survey: Any) -> int | None:
    if survey["kind"] == "project":
        buyer: int = survey["buyer_id"]
        return buyer
    return await keeper_of(conn, survey["community_id"])


async def side_of(conn: asyncpg.Connection, identity: Identity | None, survey: Any) -> str | None:
    """The reader's side in the survey: the buyer who runs it, or the provider it is about."""
    if identity is None or not identity.acts_for_verified:
        return None
    if identity.org_id == await buyer_of(conn, survey):
        return "buyer"
    if survey["kind"] == "project" and identity.org_id == survey["provider_id"]:
        return "provider"
    return None


async def _readable(conn: asyncpg.Connection, identity: Identity | None, survey_id: int,
                    lock: bool = False) -> tuple[Any, str | None]:
    survey = await _load(conn, survey_id, lock=lock)
    side = await side_of(conn, identity, survey)
    if side is None and not (identity is not None and identity.is_platform_admin):
        raise NotFound()
    return survey, side


def _capacities(identity: Identity, side: str | None) -> set[str]:
    return {side} if side == "buyer" and identity.role in RUNNERS else set()


# ---- results -----------------------------------------------------------------------------------

async def answer_count(conn: asyncpg.Connection, survey_id: int) -> int:
    count: int = await conn.fetchval("select count(*) from survey_answers where survey_id = $1", survey_id)
    return count


async def questions(conn: asyncpg.Connection, survey_id: int) -> list[Question]:
    return [Question(position=r["position"], text_zh=r["text_zh"], text_en=r["text_en"])
            for r in await conn.fetch("select * from survey_questions where survey_id = $1 order by position",
                                      survey_id)]


async def results(conn: asyncpg.Connection, settings: Settings, survey_id: int) -> Results | None:
    """The survey's figures, or None while fewer than 5 residents have answered."""
    rows = await conn.fetch("""
        select a.id, x.position, x.score from survey_answers a join survey_scores x on x.answer_id = a.id
         where a.survey_id = $1 order by a.id, x.position""", survey_id)
    by_answer: dict[int, list[int]] = {}
    by_question: dict[int, list[int]] = {}
    for r in rows:
        by_answer.setdefault(r["id"], []).append(r["score"])
        by_question.setdefault(r["position"], []).append(r["score"])
    if len(by_answer) < MIN_ANSWERS:
        return None
    overall = stats.figure([sum(v) / len(v) for v in by_answer.values()])
    per_question = [QuestionResult(question=q, figure=stats.figure(by_question[q.position]))
                    for q in await questions(conn, survey_id) if len(by_question.get(q.position, [])) >= MIN_ANSWERS]
    below = bool(await conn.fetchval("select below_threshold from surveys where id = $1", survey_id))
    return Results(overall=overall, questions=per_question, threshold_percent=settings.survey_threshold_percent,
                   below_threshold=below)


async def _comments(conn: asyncpg.Connection, survey_id: int, side: str | None, caps: set[str]) -> list[Comment]:
    """The buyer moderates every comment; everyone else reads the published ones."""
    only_published = side != "buyer"
    rows = await conn.fetch("""
        select id, comment, comment_status, answered_at from survey_answers
         where survey_id = $1 and comment_status <> 'none' and (not $2 or comment_status = 'published')
         order by answered_at desc, id desc""", survey_id, only_published)
    return [Comment(answer_id=r["id"], text=r["comment"], status=r["comment_status"], answered_at=r["answered_at"],
                    actions=[t.action for t in SURVEY_TEXT.transitions
                             if t.source == r["comment_status"] and t.who & caps]) for r in rows]


def link_of(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/s/{token}"


# The open surveys of projects done at a place or above it, nearest first, then the newest.
_NEAR = """
with recursive up as (
    select id, parent_id, 0 as depth from jurisdictions where id = $1
    union all
    select j.id, j.parent_id, up.depth + 1 from jurisdictions j join up on j.id = up.parent_id
)
select s.token, s.opened_at, c.title_zh, c.title_en, o.name_zh, o.name_en, count(*) over () as total
  from up join projects p on p.jurisdiction_id = up.id join calls c on c.project_id = p.id
  join contracts k on k.call_id = c.id join organisations o on o.id = k.provider_id
  join surveys s on s.contract_id = k.id and s.status = 'open'
  -- The places as an array too, which the planner reads as the few they are (it took the recursion for a
  -- hundred and scanned every project).
 where p.jurisdiction_id = any(array(select id from up))
 order by up.depth, s.opened_at desc, s.id desc limit $2"""


async def for_resident(conn: asyncpg.Connection, community_id: int, limit: int = 10) -> ResidentSurveys:
    """The surveys a resident of this community may answer (see ResidentSurveys). The community's own
    is made here if its keeper has not listed its surveys yet: the resident should not wait for that."""
    community = None
    survey = await conn.fetchrow(_SURVEY + " where s.community_id = $1", community_id)
    if survey is None and await keeper_of(conn, community_id) is not None:
        survey = await _load(conn, await ensure_for_community(conn, community_id))
    if survey is not None:
        community = SurveyToAnswer(kind="community", title_zh=survey["community_zh"],
                                   title_en=survey["community_en"] or survey["community_zh"],
                                   link=f"/s/{survey['token']}", opened_at=survey["opened_at"])
    rows = await conn.fetch(_NEAR, community_id, limit)
    return ResidentSurveys(
        community=community,
        projects=[SurveyToAnswer(kind="project", title_zh=r["title_zh"], title_en=r["title_en"] or r["title_zh"],
                                 provider_name_zh=r["name_zh"], provider_name_en=r["name_en"],
                                 link=f"/s/{r['token']}", opened_at=r["opened_at"]) for r in rows],
        projects_total=rows[0]["total"] if rows else 0)


def _titles(survey: Any) -> tuple[str, str]:
    if survey["kind"] == "project":
        return survey["call_zh"], survey["call_en"] or survey["call_zh"]
    return survey["community_zh"], survey["community_en"]


async def _names(conn: asyncpg.Connection, org_id: int | None) -> tuple[str | None, str | None]:
    if org_id is None:
        return None, None
    row = await conn.fetchrow("select name_zh, name_en from organisations where id = $1", org_id)
    return (row["name_zh"], row["name_en"] or row["name_zh"]) if row else (None, None)


def _may_move(survey: Any) -> bool:
    """A project's survey opens only while its contract is in delivery (or being put right)."""
    return survey["kind"] == "project" and survey["delivery_status"] in ("in_delivery", "rectifying")


async def survey_view(conn: asyncpg.Connection, settings: Settings, identity: Identity | None,
                      survey_id: int) -> SurveyView:
    survey, side = await _readable(conn, identity, survey_id)
    caps = _capacities(identity, side) if identity is not None else set()
    count = await answer_count(conn, survey_id)
    shown = count >= MIN_ANSWERS
    buyer_zh, buyer_en = await _names(conn, await buyer_of(conn, survey))
    provider_zh, provider_en = await _names(conn, survey["provider_id"])
    title_zh, title_en = _titles(survey)
    codes = None
    if side == "buyer":
        c = await conn.fetchrow("select count(*) as made, count(spent_at) as spent, coalesce(max(batch), 0) as batches "
                                "from survey_codes where survey_id = $1", survey_id)
        codes = Codes(made=c["made"], spent=c["spent"], batches=c["batches"])
    actions = [t.action for t in SURVEY.transitions if t.source == survey["status"] and t.who & caps] \
        if _may_move(survey) else []
    return SurveyView(
        id=survey_id, kind=survey["kind"], status=survey["status"], title_zh=title_zh, title_en=title_en,
        buyer_name_zh=buyer_zh or "", buyer_name_en=buyer_en or "", provider_name_zh=provider_zh,
        provider_name_en=provider_en, contract_id=survey["contract_id"], community_id=survey["community_id"],
        link=link_of(settings, survey["token"]), questions=await questions(conn, survey_id), answers=count,
        results_shown=shown, results=await results(conn, settings, survey_id) if shown else None,
        comments=await _comments(conn, survey_id, side, caps) if shown else [], codes=codes,
        below_threshold=survey["below_threshold"], opened_at=survey["opened_at"], closed_at=survey["closed_at"],
        actions=actions, manages="buyer" in caps)


async def survey_for_contract(conn: asyncpg.Connection, identity: Identity, contract_id: int) -> int:
    """The project's survey id, for a party to the contract (made on first use)."""
    row = await conn.fetchrow("select buyer_id, provider_id from contracts where id = $1", contract_id)
    if row is None or identity.org_id not in (row["buyer_id"], row["provider_id"]) or not identity.acts_for_verified:
        raise NotFound()
    return await ensure_for_contract(conn, contract_id)


# Projects' surveys before communities', open ones first and closed ones last, then the newest.
_LIST_ORDER = keyset.Keyset((keyset.Column("s.kind", "kind", str),
                             keyset.Column("(case s.status when 'open' then 2 when 'closed' then 0 else 1 end)",
                                           "rank", int),
                             keyset.Column("s.id", "id", int)))


async def survey_list(conn: asyncpg.Connection, identity: Identity, *, cursor: str | None = None,
                      limit: int = 50) -> SurveyList:
    """A page of the reader's organisation's surveys: its contracts' (as buyer or provider) and, for a
    buyer, the standing surveys of the communities it keeps."""
    org = identity.org_id
    kept = [r["id"] for r in await conn.fetch(_KEPT, org)] if identity.org_kind == "buyer" else []
    await _ensure_for(conn, identity, kept)
    where = keyset.Filters()
    where.add("((s.kind = 'project' and (k.buyer_id = {} or k.provider_id = {})) or s.community_id = any({}::int[]))",
              org, org, kept)
    window = await keyset.fetch(conn, select=_SURVEY_COLUMNS + """,
               (select count(*) from survey_answers a where a.survey_id = s.id) as answers,
               (select count(*) from survey_answers a where a.survey_id = s.id
                  and a.comment_status = 'pending') as to_moderate""", from_=_SURVEY_FROM, filters=where,
                                keyset=_LIST_ORDER, cursor=cursor, limit=limit,
                                count_from="surveys s left join contracts k on k.id = s.contract_id")
    out = []
    for r in window.rows:
        title_zh, title_en = _titles(r)
        buyer_side = r["kind"] == "community" or r["buyer_id"] == org
        out.append(SurveyRow(id=r["id"], kind=r["kind"], status=r["status"], title_zh=title_zh, title_en=title_en,
                             answers=r["answers"],
                             to_moderate=r["to_moderate"] if buyer_side and r["answers"] >= MIN_ANSWERS else 0,
                             below_threshold=r["below_threshold"]))
    return SurveyList(surveys=out, **keyset.paged_fields(window))


# ---- the buyer's steps -------------------------------------------------------------------------

async def _notices_to_provider(conn: asyncpg.Connection, survey: Any, kind: str) -> list[Notice]:
    if survey["provider_id"] is None:
        return []
    members = await notifications.members_of(conn, [survey["provider_id"]], RUNNERS)
    return [Notice(members, kind, f"/surveys/{survey['id']}", {"title": survey["call_zh"], "title_en": survey["call_en"]})]


async def change_status(conn: asyncpg.Connection, settings: Settings, identity: Identity, survey_id: int,
                        action: str) -> str:
    """Open, close or reopen a project's survey. Closing judges it against the threshold."""
    survey, side = await _readable(conn, identity, survey_id, lock=True)
    caps = _capacities(identity, side)
    if survey["kind"] == "community":
        raise Conflict("A community's standing survey is always open.")
    if action in ("open", "reopen") and not _may_move(survey):
        raise Conflict("The contract is no longer in delivery, so its survey cannot be opened.")
    SURVEY.check(action, survey["status"], caps)  # refused before anything is judged
    below = False
    if action == "close":
        figures = await results(conn, settings, survey_id)
        below = figures is not None and figures.overall.satisfied_percent < settings.survey_threshold_percent

    async def write(transition: Transition) -> None:
        await conn.execute("""
            update surveys set status = $2, below_threshold = $3, threshold_percent = $4,
                   opened_at = case when $2 = 'open' then coalesce(opened_at, market_now()) else opened_at end,
                   closed_at = case when $2 = 'closed' then market_now() else null end
             where id = $1""", survey_id, transition.target, below,
            settings.survey_threshold_percent if action == "close" else None)

    notices = await _notices_to_provider(conn, survey, "survey_opened") if action == "open" else []
    if below:
        members = await notifications.members_of(conn, [survey["buyer_id"], survey["provider_id"]], RUNNERS)
        notices.append(Notice(members, "survey_below_threshold", f"/surveys/{survey_id}",
                              {"title": survey["call_zh"], "title_en": survey["call_en"],
                               "threshold": settings.survey_threshold_percent}))
    transition = await step(conn, SURVEY, action, survey["status"], object_id=survey_id, capacities=caps,
                            actor=identity.user_id, organisation=identity.org_id, write=write,
                            after={"below_threshold": below}, notices=notices)
    finding = await finding_of(conn, survey_id) if below else None
    if finding is not None and finding.provider_id is not None:
        # A survey closed below the threshold again after reopening is a finding of its own (one a day).
        today = clock.today()
        await rectification.raise_item(
            conn, source="survey", source_id=survey_id, key=f"closed-{today.isoformat()}",
            owner_id=finding.provider_id, buyer_id=finding.buyer_id, finding_zh=finding.text_zh,
            finding_en=finding.text_en, evidence_required=EVIDENCE_OF_IMPROVEMENT,
            due=today + timedelta(days=settings.rectification_days), source_link=f"/surveys/{survey_id}")
    return transition.target


async def make_codes(conn: asyncpg.Connection, identity: Identity, survey_id: int, count: int) -> int:
    """A new batch of one-time codes, for the buyer to print; the batch's number."""
    if not 1 <= count <= MAX_CODES:
        raise Invalid("Enter a number from 1 to %(most)s.", field="count", most=MAX_CODES)
    survey, side = await _readable(conn, identity, survey_id, lock=True)
    caps = _capacities(identity, side)
    if "buyer" not in caps:
        raise Forbidden("Only the buyer running the survey makes its codes.")
    if survey["status"] == "closed":
        raise Conflict("The survey is closed: reopen it before making codes.")
    batch: int = await conn.fetchval("select coalesce(max(batch), 0) + 1 from survey_codes where survey_id = $1",
                                     survey_id)
    made = 0
    while made < count:
        codes = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(8)) for _ in range(count - made)]
        inserted = await conn.fetch("insert into survey_codes (survey_id, code, batch) select $1, unnest($2::text[]), "
                                    "$3 on conflict do nothing returning code", survey_id, codes, batch)
        made += len(inserted)
    await audit.record(conn, verb=Verb.SURVEY_CODES, object_type="survey", object_id=survey_id,
                       actor=identity.user_id, organisation=identity.org_id, after={"batch": batch, "count": count})
    return batch


async def batch_codes(conn: asyncpg.Connection, identity: Identity, survey_id: int, batch: int | None) -> list[str]:
    """The codes of a batch (the latest by default) not spent yet, for the slips."""
    _, side = await _readable(conn, identity, survey_id)
    if side != "buyer":
        raise NotFound()
    rows = await conn.fetch("""
        select code from survey_codes where survey_id = $1 and spent_at is null
           and batch = coalesce($2, (select max(batch) from survey_codes where survey_id = $1)) order by code""",
        survey_id, batch)
    return [r["code"] for r in rows]


async def moderate(conn: asyncpg.Connection, identity: Identity, survey_id: int, answer_id: int, action: str) -> None:
    survey, side = await _readable(conn, identity, survey_id)
    caps = _capacities(identity, side)
    row = await conn.fetchrow("select comment_status from survey_answers where id = $1 and survey_id = $2 "
                              "and comment_status <> 'none' for update", answer_id, survey_id)
    if row is None or await answer_count(conn, survey_id) < MIN_ANSWERS:
        raise NotFound()

    async def write(transition: Transition) -> None:
        await conn.execute("update survey_answers set comment_status = $2 where id = $1", answer_id, transition.target)

    await step(conn, SURVEY_TEXT, action, row["comment_status"], object_id=answer_id, capacities=caps,
               actor=identity.user_id, organisation=identity.org_id, write=write, after={"survey_id": survey["id"]})


# ---- residents' answers ------------------------------------------------------------------------

async def public_survey(conn: asyncpg.Connection, token: str) -> Any:
    row = await conn.fetchrow(_SURVEY + " where s.token = $1", token) if len(token) <= 32 else None
    if row is None:
        raise NotFound()
    return row


async def survey_view_public(conn: asyncpg.Connection, survey: Any) -> PublicSurvey:
    buyer_zh, buyer_en = await _names(conn, await buyer_of(conn, survey))
    provider_zh, provider_en = await _names(conn, survey["provider_id"])
    title_zh, title_en = _titles(survey)
    return PublicSurvey(token=survey["token"], kind=survey["kind"], status=survey["status"], title_zh=title_zh,
                        title_en=title_en, provider_name_zh=provider_zh, provider_name_en=provider_en,
                        buyer_name_zh=buyer_zh or "", buyer_name_en=buyer_en or "",
                        questions=await questions(conn, survey["id"]), accepting=survey["status"] == "open")


def _check_answer(form_scores: dict[int, int], qs: list[Question]) -> None:
    missing = [Invalid("Choose an answer.", field=f"q{q.position}") for q in qs if q.position not in form_scores]
    if missing:
        raise InvalidFields(missing)


async def _store(conn: asyncpg.Connection, survey_id: int, answer: AnswerInput, *, code: str | None = None,
                 phone_hash: str | None = None, at: datetime | None = None) -> int:
    comment = answer.comment.strip()
    try:
        answer_id: int = await conn.fetchval("""
            insert into survey_answers (survey_id, code, phone_hash, comment, comment_status, answered_at,
                                        score_total, score_count)
            values ($1, $2, $3, $4, $5, coalesce($6, market_now()), $7, $8) returning id""",
            survey_id, code, phone_hash, comment, "pending" if comment else "none", at,
            sum(answer.scores.values()), len(answer.scores))
    except asyncpg.UniqueViolationError:
        raise Conflict("This has already been used to answer the survey: each resident answers once.",
                       field="code" if code else "sms_code") from None
    await conn.executemany("insert into survey_scores (answer_id, position, score) values ($1, $2, $3)",
                           [(answer_id, p, s) for p, s in sorted(answer.scores.items())])
    return answer_id


async def _open_for_answers(conn: asyncpg.Connection, token: str) -> Any:
    survey = await public_survey(conn, token)
    if survey["status"] != "open":
        raise Conflict("This survey is not taking answers now.")
    return survey


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


async def answer_with_code(conn: asyncpg.Connection, token: str, code: str, answer: AnswerInput,
                           at: datetime | None = None) -> int:
    """Spend the slip's code and keep the answer: of two answers racing with one code, one spends it
    and the other is refused next to the code."""
    survey = await _open_for_answers(conn, token)
    _check_answer(answer.scores, await questions(conn, survey["id"]))
    code = normalise_code(code)
    if not code:
        raise Invalid("Enter the code printed on your slip.", field="code")
    spent = await conn.fetchval("update survey_codes set spent_at = coalesce($3, market_now()) "
                                "where survey_id = $1 and code = $2 and spent_at is null returning code",
                                survey["id"], code, at)
    if spent is None:
        if await conn.fetchval("select exists (select from survey_codes where survey_id = $1 and code = $2)",
                               survey["id"], code):
            raise Conflict("This code has already been used: each slip answers the survey once.", field="code")
        raise Invalid("There is no such code for this survey: check the code on your slip.", field="code")
    return await _store(conn, survey["id"], answer, code=code, at=at)


async def send_sms_code(conn: asyncpg.Connection, settings: Settings, sender: SmsSender, token: str, phone: str,
                        address: str) -> str:
    """Text a 6-digit code to the number; the ticket the answer form carries. Limited per number and
    per client address in any hour."""
    survey = await _open_for_answers(conn, token)
    number = normalise_phone(phone)
    phone_hash = keyed_hash(settings, "phone", number)
    address_hash = keyed_hash(settings, "address", address)
    # One request per number (and per address) at a time, so the limits count exactly.
    await conn.execute("select pg_advisory_xact_lock(hashtext($1)), pg_advisory_xact_lock(hashtext($2))",
                       "sms:" + phone_hash, "sms:" + address_hash)
    if await conn.fetchval("select exists (select from survey_answers where survey_id = $1 and phone_hash = $2)",
                           survey["id"], phone_hash):
        raise Conflict("This number has already answered this survey: each resident answers once.", field="phone")
    since = clock.now() - timedelta(hours=1)
    if await conn.fetchval("select count(*) from survey_phone_codes where phone_hash = $1 and sent_at > $2",
                           phone_hash, since) >= settings.sms_per_number_per_hour:
        raise Invalid("Too many codes were sent to this number: please try again in an hour.", field="phone")
    if await conn.fetchval("select count(*) from survey_phone_codes where address_hash = $1 and sent_at > $2",
                           address_hash, since) >= settings.sms_per_address_per_hour:
        raise Invalid("Too many codes were asked for from this network: please try again in an hour.",
                      field="phone")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    ticket = secrets.token_urlsafe(18)
    await conn.execute("""
        insert into survey_phone_codes (ticket, survey_id, phone_hash, address_hash, code_hash, expires_at)
        values ($1, $2, $3, $4, $5, market_now() + make_interval(mins => $6))""",
        ticket, survey["id"], phone_hash, address_hash, keyed_hash(settings, "code", ticket + code),
        settings.sms_code_minutes)
    await sender.send(conn, number, gettext("[Public Service Market] Your survey code is %(code)s; it lasts "
                                            "%(minutes)s minutes.", code=code, minutes=settings.sms_code_minutes))
    return ticket


async def note_sms_attempt(conn: asyncpg.Connection, settings: Settings, token: str, ticket: str,
                           sms_code: str) -> None:
    """Count a wrong code against its ticket, outside the answer's own savepoint so that the count
    stays when the answer is refused."""
    await conn.execute("""
        update survey_phone_codes p set attempts = attempts + 1 from surveys s
         where p.ticket = $1 and s.id = p.survey_id and s.token = $2 and p.code_hash <> $3""",
        ticket, token, keyed_hash(settings, "code", ticket + (sms_code or "").strip()))


async def answer_with_phone(conn: asyncpg.Connection, settings: Settings, token: str, ticket: str, sms_code: str,
                            answer: AnswerInput) -> int:
    survey = await _open_for_answers(conn, token)
    _check_answer(answer.scores, await questions(conn, survey["id"]))
    row = await conn.fetchrow("select *, expires_at < market_now() as expired from survey_phone_codes "
                              "where ticket = $1 and survey_id = $2 for update", ticket, survey["id"])
    if row is None or row["used_at"] is not None:
        raise Invalid("Ask for a new code by text message.", field="sms_code")
    if row["attempts"] >= MAX_SMS_ATTEMPTS:
        raise Invalid("Too many wrong codes: ask for a new code by text message.", field="sms_code")
    if row["expired"]:
        raise Invalid("The code has expired: ask for a new one.", field="sms_code")
    if keyed_hash(settings, "code", ticket + (sms_code or "").strip()) != row["code_hash"]:
        raise Invalid("That is not the code we sent: check the text message.", field="sms_code")
    await conn.execute("update survey_phone_codes set used_at = market_now() where ticket = $1", ticket)
    return await _store(conn, survey["id"], answer, phone_hash=row["phone_hash"])


# ---- what other domains read -------------------------------------------------------------------

async def _resident_means(conn: asyncpg.Connection, survey_id: int) -> list[float]:
    rows = await conn.fetch("select avg(x.score)::float as mean from survey_answers a join survey_scores x "
                            "on x.answer_id = a.id where a.survey_id = $1 group by a.id", survey_id)
    return [r["mean"] for r in rows]


async def finding_of(conn: asyncpg.Connection, survey_id: int) -> Finding | None:
    """A closed survey below the satisfaction threshold, as a finding for the rectification loop:
    what it says (in Chinese and English), about which provider, for which buyer. None otherwise."""
    survey = await _load(conn, survey_id)
    if not survey["below_threshold"]:
        return None
    means = await _resident_means(conn, survey_id)
    percent = stats.figure(means).satisfied_percent
    threshold = survey["threshold_percent"]
    title_zh, title_en = _titles(survey)
    buyer_id = await buyer_of(conn, survey)
    assert buyer_id is not None
    return Finding(survey_id=survey_id, contract_id=survey["contract_id"], buyer_id=buyer_id,
                   provider_id=survey["provider_id"], satisfied_percent=percent, threshold_percent=threshold,
                   text_zh=f"“{title_zh}”居民满意度调查：{len(means)}位居民中满意的占{percent}%，低于{threshold}%的标准。",
                   text_en=f"Resident satisfaction survey of “{title_en}”: {percent}% of {len(means)} residents "
                           f"satisfied, below the threshold of {threshold}%.")


async def satisfaction_by_place(conn: asyncpg.Connection, place_ids: list[int], years: list[int],
                                timezone: str) -> dict[tuple[int, int], CommunitySatisfaction]:
    """What residents said of their communities' services, for many places and years in one statement:
    (place, year) → the year's answers to the standing surveys of the communities at or under the place
    (a street takes in its communities), by the date answered where the deployment is: how many, the
    share satisfied (a resident's mean of 4 or more) and the mean of residents' means; the share and
    mean are None under 5 answers, and a place and year with no answer is not in the result."""
    # Only the surveys of the communities under the places asked for, and only the years' answers, with
    # each resident's mean from the answer itself (migration 0065): every answer of the city, joined to
    # its scores and grouped back, was 0.29 s of a district's card.
    rows = await conn.fetch("""
        with recursive down as (
            select id as place_id, id from jurisdictions where id = any($1::int[])
            union all
            select down.place_id, j.id from down join jurisdictions j on j.parent_id = down.id
        )
        select down.place_id, extract(year from a.answered_at at time zone $2)::int as year, count(*) as answers,
               count(*) filter (where a.score_total >= 4 * a.score_count) as satisfied,
               avg(a.score_total::float / a.score_count) as mean
          from down join surveys s on s.community_id = down.id and s.kind = 'community'
          join survey_answers a on a.survey_id = s.id
         where a.score_count is not null
           and a.answered_at >= $3 and a.answered_at < $4
         group by 1, 2""", place_ids, timezone, datetime(min(years), 1, 1, tzinfo=ZoneInfo(timezone)),
        datetime(max(years) + 1, 1, 1, tzinfo=ZoneInfo(timezone)))
    out = {}
    for r in rows:
        if r["year"] not in years:
            continue
        enough = r["answers"] >= MIN_ANSWERS
        out[(r["place_id"], r["year"])] = CommunitySatisfaction(
            answers=r["answers"], satisfied_percent=round(100 * r["satisfied"] / r["answers"], 1) if enough else None,
            mean=round(r["mean"], 2) if enough else None)
    return out
