"""Calls: a buyer drafts a call for one of its projects, publishes it (once; publishing again changes
nothing), edits it in the open (every change kept and shown; a change close to the deadline moves
the deadline) and may cancel it. A call's status is computed from its timestamps, never stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.db import fetch, queries
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import format_datetime
from market.evaluation.models import Criterion
from market.notifications import services as notifications
from market.procurement.calls.models import (
    Call,
    CallInput,
    ProcedureType,
    Revision,
)
from market.procurement.calls.workflow import CALLS
from market.procurement.days import add_days
from market.workflow import Notice, Transition, step

_CALL_FIELDS = [f for f in Call.__struct_fields__ if f not in ("status", "criteria")]
# Fields a revision records; timestamps and bookkeeping are not "what the call says".
_COMPARED = [f for f in _CALL_FIELDS if f not in ("id", "project_id", "buyer_id", "revision", "created_at",
                                                 "published_at", "cancelled_at", "cancel_reason",
                                                 "questions_close_at", "catalogue_entry_id", "awarded_at",
                                                 "notice_ends_at", "failed_at", "fail_reason")]


class CallOrigin(msgspec.Struct, frozen=True, kw_only=True):
    """Where a call that was not put out to bid came from: a docking at a fair or in a rolling run."""

    fit_score: float | None = None
    fair_id: int | None = None
    fair_title_zh: str | None = None
    fair_title_en: str | None = None
    run_id: int | None = None


# The domains that make calls without bidding (matching's dockings) say where a call came from;
# they register here at import, so procurement imports none of them.
_ORIGINS: list[Callable[[asyncpg.Connection, int], Awaitable[CallOrigin | None]]] = []


def register_call_origin(origin: Callable[[asyncpg.Connection, int], Awaitable[CallOrigin | None]]) -> None:
    _ORIGINS.append(origin)


async def origin_of(conn: asyncpg.Connection, call_id: int) -> CallOrigin | None:
    for origin in _ORIGINS:
        if (found := await origin(conn, call_id)) is not None:
            return found
    return None


def now() -> datetime:
    return clock.now()


def status_of(row: Any, at: datetime | None = None) -> str:
    """What a call is, from its timestamps alone."""
    at = at or now()
    if row["cancelled_at"] is not None:
        return "cancelled"
    if row["failed_at"] is not None:
        return "failed"
    if row["published_at"] is None:
        return "draft"
    if row["deadline_at"] is None or at < row["deadline_at"]:
        return "open"
    if row["awarded_at"] is not None:
        return "notice" if at < row["notice_ends_at"] else "awarded"
    return "closed"


async def procedure_types(conn: asyncpg.Connection) -> list[ProcedureType]:
    return [ProcedureType(**dict(r)) for r in await fetch(queries.procurement.procedure_types(conn))]


async def _procedure(conn: asyncpg.Connection, code: str) -> ProcedureType:
    row = await queries.procurement.procedure_type(conn, code=code)
    if row is None:
        raise InvalidFields([Invalid("Choose one of the options offered.", field="procedure_type")])
    return ProcedureType(**dict(row))


async def _call(conn: asyncpg.Connection, row: Any) -> Call:
    criteria = [Criterion(**dict(r)) for r in await fetch(queries.procurement.criteria(conn, call_id=row["id"]))]
    return Call(**{k: row[k] for k in _CALL_FIELDS}, status=status_of(row), criteria=criteria)


def _owns(identity: Identity | None, row: Any) -> bool:
    return identity is not None and identity.acts_for_verified and identity.org_id == row["buyer_id"]


async def get_call(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> Call:
    """A published call is public; a draft is its buyer's (and the platform's)."""
    row = await queries.procurement.call(conn, id=call_id)
    if row is None or (row["published_at"] is None and not _owns(identity, row)
                       and not (identity and identity.is_platform_admin)):
        raise NotFound()
    return await _call(conn, row)


async def call_row(conn: asyncpg.Connection, call_id: int) -> Any:
    """The call's row, as the rules that read its columns take it (bids' eligibility)."""
    row = await queries.procurement.call(conn, id=call_id)
    if row is None:
        raise NotFound()
    return row


async def revisions(conn: asyncpg.Connection, call_id: int) -> list[Revision]:
    return [Revision(**dict(r)) for r in await fetch(queries.procurement.revisions(conn, call_id=call_id))]


async def _check(conn: asyncpg.Connection, identity: Identity, data: CallInput,
                 procedure: ProcedureType) -> tuple[Any, Any, list[Invalid]]:
    errors: list[Invalid] = []
    project = await conn.fetchrow("select * from projects where id = $1", data.project_id)
    if project is None or project["buyer_id"] != identity.org_id:
        raise NotFound("There is no such project of yours.")
    if project["status"] != "approved":
        errors.append(Invalid("Only an approved project can have a call.", field="project_id"))
    item = await conn.fetchrow("select * from catalogue_entries where id = $1", project["catalogue_entry_id"])
    if data.budget_ceiling_fen > project["budget_fen"]:
        errors.append(Invalid("The ceiling cannot be above the project's budget.", field="budget_ceiling_fen"))
    if data.service_end < data.service_start:
        errors.append(Invalid("The service ends before it starts.", field="service_end"))
    elif data.service_end < now().date():
        # Nobody can be bought a service that is already over; a past year is a slip of the keyboard.
        errors.append(Invalid("The service period is over already: it must end today or later.",
                              field="service_end"))
    # A call may tighten what the catalogue item asks of providers, never loosen it.
    if data.provider_types is not None and not set(data.provider_types) <= set(item["provider_types"]):
        errors.append(Invalid("The catalogue item does not allow this kind of provider.", field="provider_types"))
    if data.min_rating is not None and item["min_rating"] is not None and data.min_rating < item["min_rating"]:
        errors.append(Invalid("The catalogue item asks for at least %(n)sA.", field="min_rating", n=item["min_rating"]))
    if data.min_years is not None and item["min_years"] is not None and data.min_years < item["min_years"]:
        errors.append(Invalid("The catalogue item asks for at least %(n)s years.", field="min_years", n=item["min_years"]))
    if data.cross_district and item["scope"] != "any":
        errors.append(Invalid("The catalogue item is for providers registered in this district.",
                              field="cross_district"))
    weights = sum(c.weight for c in data.criteria)
    if weights != 100:
        errors.append(Invalid("The criteria weights add up to %(total)s; they must add up to 100.", field="criteria",
                              total=weights))
    if sum(1 for c in data.criteria if c.is_price) > 1:
        errors.append(Invalid("At most one criterion is the price.", field="criteria"))
    if len({c.name_zh.strip() for c in data.criteria}) != len(data.criteria):
        errors.append(Invalid("Two criteria have the same name.", field="criteria"))
    if procedure.requires_justification and len(data.justification.strip()) < 20:
        errors.append(Invalid("A single-source purchase must say, publicly, why only this provider can do it "
                              "(at least 20 characters).", field="justification"))
    if not procedure.rolling and data.deadline_at is None:
        errors.append(Invalid("Set the deadline for bids.", field="deadline_at"))
    if data.deadline_at is not None and data.deadline_at.tzinfo is None:
        errors.append(Invalid("The deadline needs a time zone.", field="deadline_at"))
    return project, item, errors


def _values(data: CallInput, item: Any, procedure: ProcedureType) -> dict[str, Any]:
    return {
        "procedure_type": data.procedure_type, "title_zh": data.title_zh.strip(), "title_en": data.title_en.strip(),
        "description": data.description.strip(), "budget_ceiling_fen": data.budget_ceiling_fen,
        "service_start": data.service_start, "service_end": data.service_end,
        "service_place": data.service_place.strip(),
        "provider_types": list(data.provider_types or item["provider_types"]),
        "min_rating": data.min_rating if data.min_rating is not None else item["min_rating"],
        "min_years": data.min_years if data.min_years is not None else item["min_years"],
        "cross_district": data.cross_district if data.cross_district is not None else item["scope"] == "any",
        "justification": data.justification.strip(),
        "deadline_at": None if procedure.rolling else data.deadline_at,
    }


async def _save_criteria(conn: asyncpg.Connection, call_id: int, data: CallInput) -> None:
    await queries.procurement.delete_criteria(conn, call_id=call_id)
    await queries.procurement.insert_criteria(conn, [
        {"call_id": call_id, "position": i, "name_zh": c.name_zh.strip(), "name_en": c.name_en.strip(),
         "weight": c.weight, "min_score": c.min_score, "is_price": c.is_price}
        for i, c in enumerate(data.criteria, start=1)])


def _require_buyer(identity: Identity) -> None:
    if identity.org_kind != "buyer" or not identity.acts_for_verified or identity.role not in ("admin", "staff"):
        raise Forbidden("Only a buyer's administrators and staff can manage calls.")


async def create_call(conn: asyncpg.Connection, identity: Identity, data: CallInput) -> int:
    _require_buyer(identity)
    procedure = await _procedure(conn, data.procedure_type)
    project, item, errors = await _check(conn, identity, data, procedure)
    if errors:
        raise InvalidFields(errors)
    live = await conn.fetchval("select id from calls where project_id = $1 and cancelled_at is null "
                               "and failed_at is null", project["id"])
    if live is not None:
        raise Conflict("This project already has a call; edit that one, or cancel it first.")
    values = _values(data, item, procedure)
    call_id = await queries.procurement.insert_call(
        conn, project_id=project["id"], buyer_id=identity.org_id, catalogue_entry_id=item["id"],
        created_by=identity.user_id, **values)
    await _save_criteria(conn, call_id, data)
    await audit.record(conn, verb=Verb.CALL_CREATE, object_type="call", object_id=call_id, actor=identity.user_id,
                       organisation=identity.org_id, after={**values, "criteria": msgspec.to_builtins(data.criteria)})
    return call_id


async def own_call(conn: asyncpg.Connection, identity: Identity, call_id: int) -> Any:
    _require_buyer(identity)
    row = await queries.procurement.call_for_update(conn, id=call_id)
    if row is None or (row["published_at"] is None and not _owns(identity, row)):
        raise NotFound()
    if not _owns(identity, row):
        raise Forbidden("Only the buyer that published this call can change it.")
    return row


async def update_call(conn: asyncpg.Connection, identity: Identity, call_id: int, data: CallInput,
                      settings_tz: str = "Asia/Shanghai") -> int:
    """Change a draft freely; change a published call in the open. A change with less than the
    procedure's `extend_days` left moves the deadline so that many days remain."""
    row = await own_call(conn, identity, call_id)
    status = status_of(row)
    CALLS.check("edit", status, {"buyer"})
    if data.project_id != row["project_id"]:
        raise InvalidFields([Invalid("A call stays with its project.", field="project_id")])
    procedure = await _procedure(conn, data.procedure_type)
    _, item, errors = await _check(conn, identity, data, procedure)
    if status == "open" and data.procedure_type != row["procedure_type"]:
        errors.append(Invalid("The procedure of a published call cannot change; cancel it and start again.",
                              field="procedure_type"))
    if errors:
        raise InvalidFields(errors)
    values = _values(data, item, procedure)
    # Forms show deadlines to the minute; the same minute means the deadline was left as it was.
    if values["deadline_at"] and row["deadline_at"] and abs(values["deadline_at"] - row["deadline_at"]) < timedelta(minutes=1):
        values["deadline_at"] = row["deadline_at"]
    moved_to = None
    questions_close_at = row["questions_close_at"]
    if status == "open":
        at = now()
        if values["deadline_at"] is not None:
            if values["deadline_at"] < row["deadline_at"]:
                raise InvalidFields([Invalid("A published deadline can be moved later, never earlier.",
                                             field="deadline_at")])
            earliest = add_days(at, procedure.extend_days, procedure.day_kind, settings_tz)
            if values["deadline_at"] < earliest:
                values["deadline_at"] = moved_to = earliest
            elif values["deadline_at"] != row["deadline_at"]:
                moved_to = values["deadline_at"]
            questions_close_at = add_days(values["deadline_at"], -procedure.question_close_days, procedure.day_kind,
                                          settings_tz)
    before = {k: row[k] for k in _COMPARED}
    old_criteria = [dict(r) for r in await fetch(queries.procurement.criteria(conn, call_id=call_id))]
    new_criteria = [{"position": i, **msgspec.to_builtins(c)} for i, c in enumerate(data.criteria, start=1)]
    changes = {k: [before[k], values[k]] for k in _COMPARED if before[k] != values[k]}
    if old_criteria != new_criteria:
        changes["criteria"] = [old_criteria, new_criteria]
    if not changes:
        return row["revision"]
    revision = row["revision"] + 1 if status == "open" else row["revision"]
    diff = msgspec.json.decode(msgspec.json.encode(changes))

    async def write(_: Transition) -> None:
        await queries.procurement.update_call(conn, id=call_id, questions_close_at=questions_close_at,
                                              revision=revision, **values)
        await _save_criteria(conn, call_id, data)
        if status == "open":
            await queries.procurement.insert_revision(conn, call_id=call_id, revision=revision,
                                                      changed_by=identity.user_id, changes=diff,
                                                      deadline_moved_to=moved_to)

    await step(conn, CALLS, "edit", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write, before={k: v[0] for k, v in diff.items()},
               after={k: v[1] for k, v in diff.items()})
    return revision


async def publish_call(conn: asyncpg.Connection, identity: Identity, call_id: int,
                       settings_tz: str = "Asia/Shanghai") -> Call:
    """Publish a draft. Publishing a published call again is a no-op, so a repeated click is harmless."""
    row = await own_call(conn, identity, call_id)
    status = status_of(row)
    if status != "draft":
        if status == "cancelled":
            CALLS.check("publish", status, {"buyer"})
        return await _call(conn, row)
    procedure = await _procedure(conn, row["procedure_type"])
    at = now()
    deadline = row["deadline_at"]
    if not procedure.rolling:
        earliest = add_days(at, procedure.min_tender_days, procedure.day_kind, settings_tz)
        if deadline is None or deadline < earliest:
            raise InvalidFields([Invalid("Under this procedure the deadline must be at least %(n)s days after "
                                         "publication: %(date)s or later.", field="deadline_at",
                                         n=procedure.min_tender_days, date=format_datetime(earliest, "short"))])
    questions_close = (add_days(deadline, -procedure.question_close_days, procedure.day_kind, settings_tz)
                       if deadline else None)
    interested = await conn.fetch(
        """select m.user_id from memberships m join organisations o on o.id = m.organisation_id
            where o.kind = 'provider' and o.status = 'verified' and o.subtype = any($1)
              and ($2::int is null or coalesce(o.rating, 0) >= $2) and m.role in ('admin', 'staff')""",
        row["provider_types"], row["min_rating"])

    async def write(_: Transition) -> None:
        await queries.procurement.publish(conn, id=call_id, now=at, questions_close_at=questions_close,
                                          deadline_at=deadline)

    await step(conn, CALLS, "publish", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write,
               after={"deadline_at": deadline, "questions_close_at": questions_close},
               notices=[Notice([r["user_id"] for r in interested], "call_opened", f"/calls/{call_id}",
                               {"title": row["title_zh"]})])
    return await _call(conn, await queries.procurement.call(conn, id=call_id))


async def cancel_call(conn: asyncpg.Connection, identity: Identity, call_id: int, reason: str) -> None:
    row = await own_call(conn, identity, call_id)
    status = status_of(row)
    CALLS.check("cancel", status, {"buyer"})
    if len(reason.strip()) < 4:
        raise InvalidFields([Invalid("Give the reason; bidders and the public will see it.", field="reason")])

    async def write(_: Transition) -> None:
        await queries.procurement.cancel(conn, id=call_id, reason=reason.strip())

    await step(conn, CALLS, "cancel", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write, after={"reason": reason.strip()})


async def list_calls(conn: asyncpg.Connection, *, places: list[int] | None = None, procedure: str | None = None,
                     limit: int = 50, offset: int = 0) -> list[Call]:
    rows = await fetch(queries.procurement.list_calls(conn, places=places, procedure=procedure, limit=limit,
                                                      offset=offset))
    criteria: dict[int, list[Criterion]] = {}
    for r in await conn.fetch("select call_id, position, name_zh, name_en, weight, min_score, is_price "
                              "from call_criteria where call_id = any($1) order by call_id, position",
                              [r["id"] for r in rows]):
        criteria.setdefault(r["call_id"], []).append(Criterion(**{k: r[k] for k in Criterion.__struct_fields__}))
    return [Call(**{k: r[k] for k in _CALL_FIELDS}, status=status_of(r), criteria=criteria.get(r["id"], []))
            for r in rows]


async def count_calls(conn: asyncpg.Connection, *, places: list[int] | None = None, procedure: str | None = None) -> int:
    """How many calls `list_calls` lists in all, for its pages."""
    return await queries.procurement.count_calls(conn, places=places, procedure=procedure)


async def queue_deadline_reminders(pool: asyncpg.Pool) -> int:
    """Remind the organisations taking part in a call (they asked or bid) that it closes within 48 h."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """select c.id, c.title_zh, m.user_id from calls c
                 join (select call_id, asked_for as org from call_questions
                       union select call_id, provider_id from bids) t on t.call_id = c.id
                 join memberships m on m.organisation_id = t.org and m.role in ('admin', 'staff')
                where c.published_at is not null and c.cancelled_at is null
                  and c.deadline_at between market_now() and market_now() + interval '48 hours'""")
        for row in rows:
            await notifications.notify(conn, [row["user_id"]], "deadline_soon", f"/calls/{row['id']}", title=row["title_zh"])
        return len(rows)
