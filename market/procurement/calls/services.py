"""Calls: a buyer drafts a call for one of its projects, publishes it (once; publishing again changes
nothing), edits it in the open (every change kept and shown; a change close to the deadline moves
the deadline) and may cancel it. A call's status is computed from its timestamps, never stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.catalogue.models import PROVIDER_TYPES
from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import format_datetime
from market.core.keyset import Column, Filters, fetch, paged_fields, ranked
from market.evaluation.models import Criterion
from market.notifications import services as notifications
from market.procurement.eligibility import district_of, may_bid
from market.procurement.calls.models import (
    Call,
    CallInput,
    CallPage,
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

_CALL = """select * from calls where id = $1"""
# A call's criteria, (position, name_zh, name_en, weight, min_score, is_price) each, as a column of the
# call's row (`calls c`): read with the call, in one statement.
_ITS_CRITERIA = """array(select row(position, name_zh, name_en, weight, min_score, is_price)
                           from call_criteria where call_id = c.id order by position) as criteria"""
_CALL_WITH_CRITERIA = f"""select c.*, {_ITS_CRITERIA} from calls c where c.id = $1"""
_CALL_FOR_UPDATE = """select * from calls where id = $1 for update"""
_CANCEL = """update calls set cancelled_at = market_now(), cancel_reason = $1 where id = $2"""
_CRITERIA = """select position, name_zh, name_en, weight, min_score, is_price from call_criteria where call_id = $1
 order by position"""
_DELETE_CRITERIA = """delete from call_criteria where call_id = $1"""
# What a call says, as `_values` gives it: the columns of _INSERT_CALL and _UPDATE_CALL, in their order.
_VALUES = ("procedure_type", "title_zh", "title_en", "description", "budget_ceiling_fen", "service_start",
           "service_end", "service_place", "provider_types", "min_rating", "min_years", "cross_district",
           "justification", "deadline_at")
_INSERT_CALL = """insert into calls (procedure_type, title_zh, title_en, description, budget_ceiling_fen, service_start,
                   service_end, service_place, provider_types, min_rating, min_years, cross_district,
                   justification, deadline_at, project_id, buyer_id, catalogue_entry_id, created_by)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
returning id"""
_INSERT_CRITERIA = """insert into call_criteria (call_id, position, name_zh, name_en, weight, min_score, is_price)
values ($1, $2, $3, $4, $5, $6, $7)"""
_INSERT_REVISION = """insert into call_revisions (call_id, revision, changed_by, changes, deadline_moved_to)
values ($1, $2, $3, $4, $5)"""
_PROCEDURE_TYPE = """select * from procedure_types where code = $1"""
_PROCEDURE_TYPES = """select * from procedure_types order by position"""
# The people of the providers that may bid on a call, as its bid form would take them and the
# provider's workbench lists it. $1 the call, $2 today.
_MAY_BID = district_of("""select j.id, j.parent_id, j.level from calls c join projects p on p.id = c.project_id
      join jurisdictions j on j.id = p.jurisdiction_id where c.id = $1""") + f"""
select m.user_id, m.organisation_id
  from calls c, organisations o join memberships m on m.organisation_id = o.id
 where c.id = $1 and o.kind = 'provider' and o.status = 'verified' and m.role in ('admin', 'staff')
   and {may_bid("$2", "o.jurisdiction_id in (select id from home)")}
 order by m.organisation_id, m.user_id"""

_PUBLISH = """update calls set published_at = $1, questions_close_at = $2, deadline_at = $3
 where id = $4 and published_at is null"""
_BIDDERS = """select distinct provider_id from bids where call_id = $1 and status = 'submitted' order by provider_id"""
_REVISIONS = """select revision, changed_at, changes, deadline_moved_to from call_revisions where call_id = $1
 order by revision"""
_UPDATE_CALL = """update calls
   set procedure_type = $1, title_zh = $2, title_en = $3, description = $4,
       budget_ceiling_fen = $5, service_start = $6, service_end = $7,
       service_place = $8, provider_types = $9, min_rating = $10,
       min_years = $11, cross_district = $12, justification = $13,
       deadline_at = $14, questions_close_at = $15, revision = $16
 where id = $17"""


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
    return [ProcedureType(**dict(r)) for r in await conn.fetch(_PROCEDURE_TYPES)]


async def _procedure(conn: asyncpg.Connection, code: str) -> ProcedureType:
    row = await conn.fetchrow(_PROCEDURE_TYPE, code)
    if row is None:
        raise InvalidFields([Invalid("Choose one of the options offered.", field="procedure_type")])
    return ProcedureType(**dict(row))


async def _call(conn: asyncpg.Connection, row: Any) -> Call:
    return _with_criteria(row, await conn.fetch(_CRITERIA, row["id"]))


def _with_criteria(row: Any, criteria: list[Any]) -> Call:
    return Call(**{k: row[k] for k in _CALL_FIELDS}, status=status_of(row),
                criteria=[Criterion(*r) for r in criteria])  # (position, name_zh, ...) each, Criterion's fields in order


def _owns(identity: Identity | None, row: Any) -> bool:
    return identity is not None and identity.acts_for_verified and identity.org_id == row["buyer_id"]


async def get_call(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> Call:
    """A published call is public; a draft is its buyer's (and the platform's)."""
    return (await read_call(conn, identity, call_id))[0]


async def read_call(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> tuple[Call, Any]:
    """`get_call`, and the call's row as the rules that read its columns take it (bids' seal), for a
    page that shows the call with its parts: read once, not once by each part."""
    row = await conn.fetchrow(_CALL_WITH_CRITERIA, call_id)
    if row is None or (row["published_at"] is None and not _owns(identity, row)
                       and not (identity and identity.is_platform_admin)):
        raise NotFound()
    return _with_criteria(row, row["criteria"]), row


async def call_row(conn: asyncpg.Connection, call_id: int) -> Any:
    """The call's row, as the rules that read its columns take it (bids' eligibility)."""
    row = await conn.fetchrow(_CALL, call_id)
    if row is None:
        raise NotFound()
    return row


async def revisions(conn: asyncpg.Connection, call_id: int) -> list[Revision]:
    return [Revision(**{**dict(r), "changes": {k: [_typed(k, v) for v in pair] for k, pair in r["changes"].items()}})
            for r in await conn.fetch(_REVISIONS, call_id)]


def _typed(field: str, value: Any) -> Any:
    """A revision's value as the call holds it: its JSON keeps dates and moments as text."""
    if value is None:
        return None
    if field == "deadline_at":
        return datetime.fromisoformat(value)
    if field in ("service_start", "service_end"):
        return date.fromisoformat(value)
    return value


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
        "provider_types": _in_order(data.provider_types or item["provider_types"]),
        "min_rating": data.min_rating if data.min_rating is not None else item["min_rating"],
        "min_years": data.min_years if data.min_years is not None else item["min_years"],
        "cross_district": data.cross_district if data.cross_district is not None else item["scope"] == "any",
        "justification": data.justification.strip(),
        "deadline_at": None if procedure.rolling else data.deadline_at,
    }


def _in_order(kinds: Iterable[str]) -> list[str]:
    """Kinds of provider in one order, whatever order a form or a catalogue item gave them: the same
    kinds ticked again are not a change of the call."""
    return sorted(set(kinds), key=PROVIDER_TYPES.index)


async def _save_criteria(conn: asyncpg.Connection, call_id: int, data: CallInput) -> None:
    await conn.execute(_DELETE_CRITERIA, call_id)
    await conn.executemany(_INSERT_CRITERIA, [
        (call_id, i, c.name_zh.strip(), c.name_en.strip(), c.weight, c.min_score, c.is_price)
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
    call_id = await conn.fetchval(_INSERT_CALL, *(values[c] for c in _VALUES), project["id"], identity.org_id,
                                  item["id"], identity.user_id)
    await _save_criteria(conn, call_id, data)
    await audit.record(conn, verb=Verb.CALL_CREATE, object_type="call", object_id=call_id, actor=identity.user_id,
                       organisation=identity.org_id, after={**values, "criteria": msgspec.to_builtins(data.criteria)})
    return call_id


async def own_call(conn: asyncpg.Connection, identity: Identity, call_id: int) -> Any:
    _require_buyer(identity)
    row = await conn.fetchrow(_CALL_FOR_UPDATE, call_id)
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
    before = {k: row[k] for k in _COMPARED} | {"provider_types": _in_order(row["provider_types"])}
    old_criteria = [dict(r) for r in await conn.fetch(_CRITERIA, call_id)]
    new_criteria = [{"position": i, **msgspec.to_builtins(c)} for i, c in enumerate(data.criteria, start=1)]
    changes = {k: [before[k], values[k]] for k in _COMPARED if before[k] != values[k]}
    if old_criteria != new_criteria:
        changes["criteria"] = [old_criteria, new_criteria]
    if not changes:
        return row["revision"]
    revision = row["revision"] + 1 if status == "open" else row["revision"]
    diff = msgspec.json.decode(msgspec.json.encode(changes))

    async def write(_: Transition) -> None:
        await conn.execute(_UPDATE_CALL, *(values[c] for c in _VALUES), questions_close_at, revision, call_id)
        await _save_criteria(conn, call_id, data)
        if status == "open":
            await conn.execute(_INSERT_REVISION, call_id, revision, identity.user_id, diff, moved_to)

    # Bidders are told: a bid not confirmed after the change is not evaluated.
    told = await tell_bidders(conn, call_id, "call_changed", f"/calls/{call_id}#bid",
                               notifications.titled(values)) if status == "open" else []
    await step(conn, CALLS, "edit", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write, before={k: v[0] for k, v in diff.items()},
               after={k: v[1] for k, v in diff.items()}, notices=told)
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
    interested = await conn.fetch(_MAY_BID, call_id, clock.today())

    async def write(_: Transition) -> None:
        await conn.execute(_PUBLISH, at, questions_close, deadline, call_id)

    await step(conn, CALLS, "publish", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write,
               after={"deadline_at": deadline, "questions_close_at": questions_close},
               notices=[Notice([notifications.Recipient(r["user_id"], r["organisation_id"]) for r in interested],
                               "call_opened", f"/calls/{call_id}",
                               notifications.titled(row))])
    return await _call(conn, await conn.fetchrow(_CALL, call_id))


async def cancel_call(conn: asyncpg.Connection, identity: Identity, call_id: int, reason: str) -> None:
    row = await own_call(conn, identity, call_id)
    status = status_of(row)
    CALLS.check("cancel", status, {"buyer"})
    if len(reason.strip()) < 4:
        raise InvalidFields([Invalid("Give the reason; bidders and the public will see it.", field="reason")])

    async def write(_: Transition) -> None:
        await conn.execute(_CANCEL, reason.strip(), call_id)

    told = await tell_bidders(conn, call_id, "call_cancelled", f"/calls/{call_id}",
                               {**notifications.titled(row), "reason": reason.strip()})
    await step(conn, CALLS, "cancel", status, object_id=call_id, capacities={"buyer"}, actor=identity.user_id,
               organisation=identity.org_id, write=write, after={"reason": reason.strip()}, notices=told)


async def tell_bidders(conn: asyncpg.Connection, call_id: int, kind: str, link: str,
                        params: dict[str, Any]) -> list[Notice]:
    """A notice to the people of every organisation with a bid standing on the call."""
    bidders = [r["provider_id"] for r in await conn.fetch(_BIDDERS, call_id)]
    return [Notice(await notifications.members_of(conn, bidders), kind, link, params)] if bidders else []


_CALL_ORDER = (Column("c.published_at", "published_at", datetime), Column("c.id", "id", int))


async def call_page(conn: asyncpg.Connection, *, places: list[int] | None = None, procedure: str | None = None,
                    q: str | None = None, biddable: bool = False, identity: Identity | None = None,
                    cursor: str | None = None, limit: int = 50) -> CallPage:
    """The published calls, newest first, each with its criteria (read with the page's calls); each
    filter given narrows them. `biddable`: only the open calls the organisation the reader acts for may
    bid on and has not, as its workbench lists them (a verified social organisation's alone)."""
    where = Filters()
    where.add("c.published_at is not null")
    if biddable:
        if not (identity and identity.acts_for_verified and identity.org_kind == "provider"):
            raise Forbidden("Only a verified social organisation can list the calls it may bid on.")
        org, today, at = where.arg(identity.org_id), where.arg(clock.today()), where.arg(now())
        home = district_of(f"""select j.id, j.parent_id, j.level from jurisdictions j
              join organisations o on o.jurisdiction_id = j.id where o.id = {org}""") + " select id from home"
        in_district = f"(select p.jurisdiction_id from projects p where p.id = c.project_id) in ({home})"
        where.add(f"""c.cancelled_at is null and c.failed_at is null and (c.deadline_at is null or c.deadline_at > {at})
           and not exists (select from bids b where b.call_id = c.id and b.provider_id = {org} and b.batch_id is null)
           and exists (select from organisations o where o.id = {org} and {may_bid(today, in_district)})""")
    if places is not None:
        where.add("c.project_id in (select id from projects where jurisdiction_id = any({}::int[]))", places)
    if procedure:
        where.add("c.procedure_type = {}", procedure)
    if q and q.strip():
        where.search("c.title_zh || ' ' || c.title_en || ' ' || c.description", q.strip())
    window = await fetch(conn, select=f"c.*, {_ITS_CRITERIA}", from_="calls c", filters=where, cursor=cursor,
                         limit=limit, keyset=ranked(q, ("c.title_zh", "c.title_en"), _CALL_ORDER))
    return CallPage(items=[_with_criteria(r, r["criteria"]) for r in window.rows], **paged_fields(window))


async def queue_deadline_reminders(pool: asyncpg.Pool) -> int:
    """Remind the organisations taking part in a call (they asked or bid) that it closes within 48 h.
    Returns how many people were reminded now: each is reminded of a call once."""
    async with pool.acquire() as conn, conn.transaction():
        # The calls closing soon first (calls_live_by_deadline), then each one's askers and bidders not
        # reminded yet (notifications_one_reminder): every process runs this every 30 s, and on the
        # city each run had tried again the 181 reminders already sent, an insert each (25 of its 35 ms).
        rows = await conn.fetch(
            """select c.id, c.title_zh, c.title_en, m.user_id, m.organisation_id from calls c
                 cross join lateral (select asked_for as org from call_questions q where q.call_id = c.id
                                     union select provider_id from bids b where b.call_id = c.id) t
                 join memberships m on m.organisation_id = t.org and m.role in ('admin', 'staff')
                where c.published_at is not null and c.cancelled_at is null
                  and c.deadline_at between market_now() and market_now() + interval '48 hours'
                  and not exists (select from notifications n where n.kind = 'deadline_soon'
                                   and n.user_id = m.user_id and n.link = '/calls/' || c.id)""")
        for row in rows:
            await notifications.notify(conn, [notifications.Recipient(row["user_id"], row["organisation_id"])],
                                       "deadline_soon", f"/calls/{row['id']}",
                                       **notifications.titled(row))
        return len(rows)
