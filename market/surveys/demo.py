"""The demo's surveys: every contract in delivery has its survey open, answered by residents with the
codes the buyer printed; one has too few answers to show, one closed below the threshold, comments
published, hidden and waiting; and the communities' standing surveys answered over the last two
years, dated, so the buyers' scorecards have a trend. Everything goes through the same services as
real use, the dates of the standing surveys' answers aside (given, as if answered then)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import asyncpg

from market.core.access import Identity
from market.core.settings import Settings
from market.surveys import services as surveys
from market.surveys.models import AnswerInput

COMMENTS = [
    ("社工每次都提前打电话确认时间，很贴心。", "published"),
    ("希望周末也能安排服务。", "published"),
    ("这条意见里有邻居的电话号码，不宜公开。", "hidden"),
    ("活动场地有点小，人多的时候挤。", "pending"),
]


async def _runner(conn: asyncpg.Connection, org_id: int) -> Identity | None:
    """An administrator of the buyer, acting for it."""
    user_id = await conn.fetchval("select user_id from memberships where organisation_id = $1 and role = 'admin' "
                                  "order by user_id limit 1", org_id)
    if user_id is None:
        return None
    return Identity(user_id=user_id, email="", display_name="", locale="zh_Hans", community_id=None, session_hash="",
                    org_id=org_id, org_kind="buyer", org_status="verified", role="admin")


def _scores(rng: random.Random, questions: int, level: float) -> dict[int, int]:
    """A resident's scores around `level` (1–5)."""
    return {q: min(5, max(1, round(rng.gauss(level, 0.8)))) for q in range(1, questions + 1)}


async def _answer(conn: asyncpg.Connection, token: str, code: str, scores: dict[int, int], comment: str = "",
                  at: datetime | None = None) -> int:
    return await surveys.answer_with_code(conn, token, code, AnswerInput(scores=scores, comment=comment), at)


async def load(conn: asyncpg.Connection, *, today: datetime) -> None:
    if await conn.fetchval("select exists (select from surveys)"):
        return
    settings = Settings()
    rng = random.Random(36)
    contracts = await conn.fetch("""
        select k.id, k.buyer_id from contracts k left join contract_delivery d on d.contract_id = k.id
         where k.status = 'signed' and coalesce(d.status, 'in_delivery') in ('in_delivery', 'rectifying')
         order by k.id""")
    # The first in delivery: a well-liked project with comments; the second: too few answers to show;
    # the third: closed below the threshold; the rest: a good number of content residents.
    plans = [(14, 4.4, True, "open"), (4, 4.6, False, "open"), (9, 3.0, False, "close")]
    for n, contract in enumerate(contracts):
        answers, level, comments, end = plans[n] if n < len(plans) else (6 + n % 4, 4.2, False, "open")
        buyer = await _runner(conn, contract["buyer_id"])
        if buyer is None:
            continue
        survey_id = await surveys.ensure_for_contract(conn, contract["id"])
        await surveys.change_status(conn, settings, buyer, survey_id, "open")
        token = await conn.fetchval("select token from surveys where id = $1", survey_id)
        batch = await surveys.make_codes(conn, buyer, survey_id, answers + 20)
        codes = await surveys.batch_codes(conn, buyer, survey_id, batch)
        questions = len(await surveys.questions(conn, survey_id))
        moderated = []
        for i in range(answers):
            comment, status = COMMENTS[i] if comments and i < len(COMMENTS) else ("", "")
            answer_id = await _answer(conn, token, codes[i], _scores(rng, questions, level), comment)
            if status in ("published", "hidden"):
                moderated.append((answer_id, "publish" if status == "published" else "hide"))
        # Comments are moderated once 5 residents have answered, when they may be shown at all.
        for answer_id, action in moderated:
            await surveys.moderate(conn, buyer, survey_id, answer_id, action)
        if end == "close":
            await surveys.change_status(conn, settings, buyer, survey_id, "close")
    await _communities(conn, rng, today)


async def _communities(conn: asyncpg.Connection, rng: random.Random, today: datetime) -> None:
    """Each community's standing survey, answered through last year and this, a little better this year."""
    communities = await conn.fetch("select id from jurisdictions where level = 'community' order by id")
    for n, community in enumerate(communities):
        survey_id = await surveys.ensure_for_community(conn, community["id"])
        keeper = await surveys.keeper_of(conn, community["id"])
        runner = await _runner(conn, keeper) if keeper is not None else None
        if runner is None:
            continue
        token = await conn.fetchval("select token from surveys where id = $1", survey_id)
        per_year = 6 + n % 5
        batch = await surveys.make_codes(conn, runner, survey_id, 2 * per_year + 10)
        codes = iter(await surveys.batch_codes(conn, runner, survey_id, batch))
        for years_back, level in ((1, 3.7 + 0.1 * (n % 3)), (0, 4.0 + 0.1 * (n % 3))):
            start = datetime(today.year - years_back, 1, 15, 10, tzinfo=today.tzinfo)
            span = (today - start).days - 1 if years_back == 0 else 330
            for _ in range(per_year):
                at = start + timedelta(days=rng.randrange(max(1, span)), hours=rng.randrange(8))
                await _answer(conn, token, next(codes), _scores(rng, 5, level), at=at)
