"""Questions on a call (答疑): providers ask before the question deadline; the buyer answers in
public; nobody but the platform learns who asked, so no bidder is favoured or singled out."""

from __future__ import annotations

from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, NotFound
from market.core.i18n import format_datetime
from market.notifications import services as notifications
from market.procurement.calls import services as calls
from market.procurement.calls.models import Question

_ANSWER = """update call_questions set answer = $1, answered_by = $2, answered_at = market_now() where id = $3"""
_CALL = """select * from calls where id = $1"""
_CALL_FOR_UPDATE = """select * from calls where id = $1 for update"""
_INSERT_QUESTION = """insert into call_questions (call_id, asked_by, asked_for, question) values ($1, $2, $3, $4)
returning id"""
_QUESTIONS = """select q.*, o.name_zh as asker_name_zh from call_questions q join organisations o on o.id = q.asked_for
 where q.call_id = $1 order by q.id"""
_QUESTION_FOR_UPDATE = """select * from call_questions where id = $1 for update"""


def _question(row: Any, identity: Identity | None) -> Question:
    return Question(id=row["id"], call_id=row["call_id"], question=row["question"], asked_at=row["asked_at"],
                    answer=row["answer"], answered_at=row["answered_at"],
                    asked_by_organisation=row["asker_name_zh"] if identity and identity.is_platform_admin else None)


async def questions(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> list[Question]:
    await calls.get_call(conn, identity, call_id)
    return await questions_of(conn, identity, call_id)


async def questions_of(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> list[Question]:
    """The questions of a call the reader has been shown (`calls.get_call`, or `read_call`)."""
    return [_question(r, identity) for r in await conn.fetch(_QUESTIONS, call_id)]


async def ask(conn: asyncpg.Connection, identity: Identity, call_id: int, text: str) -> int:
    if identity.org_kind != "provider" or not identity.acts_for_verified:
        raise Forbidden("Questions are asked by verified social organisations that may bid.")
    row = await conn.fetchrow(_CALL_FOR_UPDATE, call_id)
    if row is None or row["published_at"] is None:
        raise NotFound()
    if calls.status_of(row) != "open":
        raise Conflict("This call is not open, so it takes no questions.")
    close = row["questions_close_at"]
    if close is not None and clock.now() >= close:
        raise Conflict("Questions on this call closed on %(date)s.", date=format_datetime(close, "short"))
    question_id = await conn.fetchval(_INSERT_QUESTION, call_id, identity.user_id, identity.org_id, text.strip())
    # The audit entry records the asker for the platform; the public never reads the audit trail.
    await audit.record(conn, verb=Verb.QUESTION_ASK, object_type="question", object_id=question_id,
                       actor=identity.user_id, organisation=identity.org_id, after={"call_id": call_id})
    return question_id


async def call_of(conn: asyncpg.Connection, question_id: int) -> int:
    """The call a question was asked on."""
    call_id = await conn.fetchval("select call_id from call_questions where id = $1", question_id)
    if call_id is None:
        raise NotFound()
    return call_id


async def answer(conn: asyncpg.Connection, identity: Identity, question_id: int, text: str) -> None:
    row = await conn.fetchrow(_QUESTION_FOR_UPDATE, question_id)
    if row is None:
        raise NotFound()
    call = await conn.fetchrow(_CALL, row["call_id"])
    if not (identity.acts_for_verified and identity.org_id == call["buyer_id"] and identity.role in ("admin", "staff")):
        raise Forbidden("Only the buyer that published this call can answer its questions.")
    if row["answer"] is not None:
        raise Conflict("This question has been answered; answers are public and are not rewritten.")
    await conn.execute(_ANSWER, text.strip(), identity.user_id, question_id)
    await notifications.notify(conn, [notifications.Recipient(row["asked_by"], row["asked_for"])], "question_answered", f"/calls/{call['id']}#questions",
                               **notifications.titled(call))
    await audit.record(conn, verb=Verb.QUESTION_ANSWER, object_type="question", object_id=question_id,
                       actor=identity.user_id, organisation=identity.org_id, after={"answer": text.strip()})
