"""The audit trail: append-only, hash-chained records of every state change."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

import asyncpg

from market.audit.models import SESSION_VERBS, AuditEvent, ChainBreak, Verb
from market.core import keyset

GENESIS = "0" * 64
# Serialises appends so every entry chains to the one committed before it; held to commit.
AUDIT_LOCK = 7_301_958_222


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in the audit trail")


def entry_hash(prev_hash: str, at: datetime, actor: int | None, org: int | None, verb: str,
               object_type: str, object_id: str, diff: dict[str, Any]) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, org, verb, object_type, object_id, diff],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_canonical,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The fields that differ, as {"field": [before, after]}; a creation has before = None."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


async def record(conn: asyncpg.Connection, *, verb: Verb, object_type: str, object_id: object,
                 actor: int | None = None, organisation: int | None = None,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Append one event inside the caller's transaction, so it commits or rolls back with the change."""
    if not conn.is_in_transaction():
        raise RuntimeError("audit.record must run inside the transaction that makes the change")
    diff = json.loads(json.dumps(changes(before, after), default=_canonical, ensure_ascii=False))
    await conn.execute("select pg_advisory_xact_lock($1)", AUDIT_LOCK)
    prev = await conn.fetchval("select hash from audit_events order by id desc limit 1") or GENESIS
    # The moment itself (not the transaction's start), on the clock every rule reads.
    at = await conn.fetchval("select clock_timestamp() + (market_now() - now())")
    digest = entry_hash(prev, at, actor, organisation, verb.value, object_type, str(object_id), diff)
    await conn.execute("""
        insert into audit_events (at, actor_user_id, organisation_id, verb, object_type, object_id, diff, prev_hash,
                                  hash)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        at, actor, organisation, verb.value, object_type, str(object_id), diff, prev, digest)


async def verify_chain(conn: asyncpg.Connection) -> tuple[int, list[ChainBreak]]:
    """Recompute every hash in order; report each entry whose content or link does not match."""
    breaks: list[ChainBreak] = []
    prev = GENESIS
    count = 0
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        async for row in conn.cursor("select * from audit_events order by id"):
            count += 1
            if row["prev_hash"] != prev:
                breaks.append(ChainBreak(row["id"], "does not link to the entry before it (a row was removed or inserted)"))
            expected = entry_hash(row["prev_hash"], row["at"], row["actor_user_id"], row["organisation_id"],
                                  row["verb"], row["object_type"], row["object_id"], row["diff"])
            if row["hash"] != expected:
                breaks.append(ChainBreak(row["id"], "content does not match its hash (the row was edited)"))
            prev = row["hash"]
    return count, breaks


async def events_for_organisation(conn: asyncpg.Connection, organisation_id: int, limit: int = 20) -> list[AuditEvent]:
    rows = await conn.fetch("""
        select e.*, u.display_name as actor_name
          from audit_events e left join users u on u.id = e.actor_user_id
         where e.organisation_id = $1 and e.verb <> all($2::text[])
         order by e.at desc, e.id desc limit $3""", organisation_id, list(SESSION_VERBS), limit)
    return [AuditEvent(**dict(r)) for r in rows]


class Trail(keyset.Paged, kw_only=True):
    """The audit trail page: a page of events, newest first (of one organisation, or of one object, when
    asked), and how many there are."""

    events: list[AuditEvent]
    organisation: int | None = None
    object_type: str | None = None
    object_id: str | None = None


_NEWEST_FIRST = keyset.Keyset((keyset.Column("e.id", "id", int),))


async def trail(conn: asyncpg.Connection, *, organisation: int | None = None, object_type: str | None = None,
                object_id: str | None = None, cursor: str | None = None, limit: int = 50) -> Trail:
    """Paged on the events' ids, from the indexes of the organisation's or the object's events: at
    offset 500,000 of the generated city's 572,000 events a page had taken 0.57 s, and counting them
    0.03 s at every page."""
    where = keyset.Filters()
    if organisation is not None:
        where.add("e.organisation_id = {}", organisation)
    if object_type:
        where.add("e.object_type = {}", object_type)
        if object_id:
            where.add("e.object_id = {}", object_id)
    window = await keyset.fetch(conn, select="e.*, u.display_name as actor_name",
                                from_="audit_events e left join users u on u.id = e.actor_user_id",
                                count_from="audit_events e", filters=where, keyset=_NEWEST_FIRST, cursor=cursor,
                                limit=limit)
    return Trail(events=[AuditEvent(**r) for r in window.rows], organisation=organisation,
                 object_type=object_type or None, object_id=(object_id or None) if object_type else None,
                 **keyset.paged_fields(window))
