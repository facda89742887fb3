"""Rectification items: raising them from findings, the owner's fixes with their evidence, the
buyer's verification, and what the public, the parties, the scorecard and the workbench read.

Any domain that makes findings raises items through `raise_item` (delivery from its evaluations;
surveys and complaints from theirs). The item is public (群众知晓): its finding, owner, deadline and
status; the fixes, their evidence and the reasons a fix was rejected are for its parties only —
the owner, the buyer that verifies, the bureau a late item was escalated to — and the platform.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, i18n, keyset
from market.core.access import Identity
from market.core.domain import WorkbenchList
from market.core.errors import Invalid, InvalidFields, NotFound
from market.core.settings import Settings
from market.notifications import services as notifications
from market.rectification.models import (
    ACTORS,
    SOURCE_NAMES,
    STATUSES,
    UNFINISHED,
    EvidenceFile,
    Fix,
    Item,
    ItemList,
    ItemView,
    Standing,
    Unfinished,
)
from market.rectification.workflow import ITEM
from market.storage import services as files
from market.storage.interfaces import FileStorage
from market.workflow import Notice, Transition, step

MIN_TEXT = 10  # the least a fix says of what was done, and a rejection or withdrawal of why
MAX_FILES = 10  # evidence files on one fix

_ITEM_COLUMNS = "i.*, o.name_zh as owner_name, b.name_zh as buyer_name, o.name_en as owner_name_en, b.name_en as buyer_name_en"
_ITEM_FROM = "rectification_items i join organisations o on o.id = i.owner_id join organisations b on b.id = i.buyer_id"
_ITEM = f"select {_ITEM_COLUMNS} from {_ITEM_FROM}"


def link(item_id: int) -> str:
    return f"/rectification/{item_id}"


def _item(row: Any, today: date) -> Item:
    return Item(id=row["id"], source=row["source"], owner_id=row["owner_id"], owner_name=row["owner_name"],
                owner_name_en=row["owner_name_en"], buyer_id=row["buyer_id"], buyer_name=row["buyer_name"],
                buyer_name_en=row["buyer_name_en"], finding_zh=row["finding_zh"],
                finding_en=row["finding_en"], evidence_required=row["evidence_required"], due=row["due"],
                status=row["status"], late=row["status"] in UNFINISHED and row["due"] < today,
                escalation_level=row["escalation_level"], created_at=row["created_at"],
                verified_at=row["verified_at"])


async def raise_item(conn: asyncpg.Connection, *, source: str, source_id: int, key: str, owner_id: int,
                     buyer_id: int, finding_zh: str, finding_en: str, evidence_required: str, due: date,
                     source_link: str = "", tell_owner: bool = True) -> int:
    """An item for a finding, its owner told (unless the caller tells it once of several items:
    `tell_findings`); the same finding (source, source_id, key) raised again is the item it already
    is (its id is returned, nothing changes)."""
    if source not in SOURCE_NAMES:
        raise ValueError(f"unknown rectification source {source!r}")
    row = await conn.fetchrow(
        """insert into rectification_items (source, source_id, key, owner_id, buyer_id, finding_zh, finding_en,
                                            evidence_required, due, source_link)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (source, source_id, key) do nothing
           returning id""",
        source, source_id, key, owner_id, buyer_id, finding_zh.strip(), finding_en.strip(),
        evidence_required.strip(), due, source_link)
    if row is None:
        return int(await conn.fetchval("select id from rectification_items where source = $1 and source_id = $2 "
                                       "and key = $3", source, source_id, key))
    item_id = int(row["id"])
    await audit.record(conn, verb=Verb.RECTIFICATION_RAISE, object_type=ITEM.name, object_id=item_id,
                       organisation=buyer_id, after={"status": "open", "source": source, "source_id": source_id,
                                                     "key": key, "owner_id": owner_id, "due": due.isoformat()})
    if tell_owner:
        await notifications.notify(conn, await notifications.members_of(conn, [owner_id], ACTORS),
                                   "rectification_raised", link(item_id), id=item_id, due=due.isoformat())
    return item_id


async def raised_from(conn: asyncpg.Connection, source: str, source_id: int) -> int:
    """How many items one source (an evaluation's panel, a survey, a complaint) has raised."""
    return int(await conn.fetchval("select count(*) from rectification_items where source = $1 and source_id = $2",
                                   source, source_id))


async def tell_findings(conn: asyncpg.Connection, owner_id: int, count: int, due: date, contract_id: int) -> None:
    """One notice for the items one evaluation raised (a failed one may find a dozen), linked to the
    owner's open items."""
    await notifications.notify(conn, await notifications.members_of(conn, [owner_id], ACTORS),
                               "rectification_findings", f"/rectification?status=open&organisation={owner_id}",
                               count=count, due=due.isoformat(), contract=contract_id)


def side_of(identity: Identity | None, row: Any, overseer: int | None) -> str | None:
    """The reader's part in the item: its owner's, its buyer's, or the bureau it was escalated to."""
    if identity is None or not identity.acts_for_verified:
        return None
    return {overseer: "overseer", row["buyer_id"]: "buyer", row["owner_id"]: "owner"}.get(identity.org_id)


def capacities(identity: Identity, side: str | None) -> set[str]:
    return {side} if side in ("owner", "buyer") and identity.role in ACTORS else set()


async def _overseer(conn: asyncpg.Connection, item_id: int) -> int | None:
    return await conn.fetchval("select notified_org_id from rectification_escalations where item_id = $1 "
                               "and level = 2", item_id)


async def _fixes(conn: asyncpg.Connection, settings: Settings, identity: Identity, item_id: int) -> list[Fix]:
    rows = await conn.fetch(
        """select f.version, f.text, f.submitted_at, u.display_name, r.rejected_at, r.reason
             from rectification_fixes f join users u on u.id = f.submitted_by
             left join rectification_rejections r on r.item_id = f.item_id and r.version = f.version
            where f.item_id = $1 order by f.version desc""", item_id)
    evidence: dict[int, list[EvidenceFile]] = {}
    for e in await conn.fetch("select x.version, f.* from rectification_fix_files x join files f on f.id = x.file_id "
                              "where x.item_id = $1 order by x.version, f.created_at, f.filename", item_id):
        record = files.StoredFile(**{k: e[k] for k in files.StoredFile.__struct_fields__})
        # The item has decided who reads its evidence; storage makes the link out to this reader alone.
        evidence.setdefault(e["version"], []).append(EvidenceFile(
            file_id=e["id"], filename=e["filename"], content_type=e["content_type"],
            link=files.granted_link(settings, record, identity).url))
    return [Fix(version=r["version"], text=r["text"], submitted_at=r["submitted_at"], submitted_by=r["display_name"],
                files=evidence.get(r["version"], []), rejected_at=r["rejected_at"],
                rejection_reason=r["reason"] or "") for r in rows]


def may_do(status: str, caps: set[str]) -> list[str]:
    return [t.action for t in ITEM.transitions if t.source == status and t.who & caps]


async def item_view(conn: asyncpg.Connection, settings: Settings, identity: Identity | None, item_id: int) -> ItemView:
    row = await conn.fetchrow(_ITEM + " where i.id = $1", item_id)
    if row is None:
        raise NotFound()
    side = side_of(identity, row, await _overseer(conn, item_id))
    party = identity is not None and (side is not None or identity.is_platform_admin)
    return ItemView(item=_item(row, clock.today()), source_link=row["source_link"] if party else None,
                    withdrawn_reason=row["withdrawn_reason"], party=party, side=side,
                    may=may_do(row["status"], capacities(identity, side)) if identity else [],
                    fixes=await _fixes(conn, settings, identity, item_id) if party and identity else None)


_NEWEST_FIRST = keyset.Keyset((keyset.Column("i.created_at", "created_at", datetime),
                               keyset.Column("i.id", "id", int)))


# Unfinished items escalated to an organisation ({} its id, twice): late ones of its own as their buyer
# (level 1 and on), and those of the buyers below it still late after the escalation period (level 2).
_ESCALATED_TO = """i.id in (
    select x.id from rectification_items x
     where x.buyer_id = {} and x.escalation_level >= 1 and x.status in ('open', 'fix_submitted')
    union all
    select x.id from rectification_escalations e join rectification_items x on x.id = e.item_id
     where e.notified_org_id = {} and e.level = 2 and x.status in ('open', 'fix_submitted'))"""


async def public_list(conn: asyncpg.Connection, *, status: str | None = None, organisation_id: int | None = None,
                      escalated_to: int | None = None, cursor: str | None = None, limit: int = 50) -> ItemList:
    """The public list, newest first: every item, or those in one status (or `late`), of one
    organisation as owner or buyer, or escalated to one. Paged on a stable key, with only the filters
    given in its SQL."""
    if status is not None and status not in (*STATUSES, "late"):
        raise Invalid("Choose one of the options offered.", field="status")
    today = clock.today()
    where = keyset.Filters()
    if status == "late":
        where.add("i.status = 'open' and i.due < {}", today)
    elif status is not None:
        where.add("i.status = {}", status)
    if organisation_id is not None:
        where.add("(i.owner_id = {} or i.buyer_id = {})", organisation_id, organisation_id)
    if escalated_to is not None:
        where.add(_ESCALATED_TO, escalated_to, escalated_to)
    window = await keyset.fetch(conn, select=_ITEM_COLUMNS, from_=_ITEM_FROM, filters=where,
                                keyset=_NEWEST_FIRST, cursor=cursor, limit=limit, count_from="rectification_items i")
    named = await conn.fetch("select id, name_zh, name_en from organisations where id = any($1::bigint[]) "
                             "and kind <> 'platform'", [o for o in (organisation_id, escalated_to) if o is not None])
    names = {r["id"]: r for r in named}
    known = organisation_id if organisation_id in names else None
    return ItemList(items=[_item(r, today) for r in window.rows], status=status, organisation_id=known,
                    organisation_name=names[known]["name_zh"] if known else None,
                    organisation_name_en=names[known]["name_en"] if known else "",
                    escalated_to=escalated_to if escalated_to in names else None,
                    escalated_to_name=names[escalated_to]["name_zh"] if escalated_to in names else None,
                    escalated_to_name_en=names[escalated_to]["name_en"] if escalated_to in names else "",
                    **keyset.paged_fields(window))


async def _for_step(conn: asyncpg.Connection, identity: Identity, item_id: int) -> tuple[Any, set[str]]:
    row = await conn.fetchrow(_ITEM + " where i.id = $1 for update of i", item_id)
    if row is None:
        raise NotFound()
    return row, capacities(identity, side_of(identity, row, None))


def _reason(text: str, field: str = "reason") -> str:
    reason = text.strip()
    if len(reason) < MIN_TEXT:
        raise InvalidFields([Invalid("Say why (at least %(n)s characters).", field=field, n=MIN_TEXT)])
    return reason


async def _notice(conn: asyncpg.Connection, org_id: int, kind: str, row: Any, **params: Any) -> Notice:
    return Notice(await notifications.members_of(conn, [org_id], ACTORS), kind, link(row["id"]),
                  {"id": row["id"], **params})


async def submit_fix(conn: asyncpg.Connection, storage: FileStorage, settings: Settings, identity: Identity,
                     item_id: int, text: str, evidence: list[tuple[bytes, str]]) -> int:
    """The owner's fix: what was done, with the evidence (at least one file: photos lose where they
    were taken; every file stays private to the owner and is read through the item). Returns its version."""
    row, caps = await _for_step(conn, identity, item_id)
    said = text.strip()
    after: dict[str, Any] = {}

    async def write(transition: Transition) -> None:
        errors = []
        if len(said) < MIN_TEXT:
            errors.append(Invalid("Say what was done to put it right (at least %(n)s characters).", field="text",
                                  n=MIN_TEXT))
        if not evidence:
            errors.append(Invalid("Attach the evidence asked for: at least one photo or document.", field="evidence"))
        if len(evidence) > MAX_FILES:
            errors.append(Invalid("At most %(n)s files.", field="evidence", n=MAX_FILES))
        if errors:
            raise InvalidFields(errors)
        version = await conn.fetchval("select coalesce(max(version), 0) + 1 from rectification_fixes "
                                      "where item_id = $1", item_id)
        await conn.execute("insert into rectification_fixes (item_id, version, text, submitted_by) "
                           "values ($1, $2, $3, $4)", item_id, version, said, identity.user_id)
        for data, filename in evidence:
            stored = await files.store(conn, storage, settings, identity, data, filename, "private",
                                       strip_location=True)
            await conn.execute("insert into rectification_fix_files (item_id, version, file_id) values ($1, $2, $3)",
                               item_id, version, stored.id)
        await conn.execute("update rectification_items set status = $2, submitted_at = market_now() where id = $1",
                           item_id, transition.target)
        after["version"] = version

    await step(conn, ITEM, "submit", row["status"], object_id=item_id, capacities=caps, actor=identity.user_id,
               organisation=identity.org_id, write=write, after=after,
               notices=[await _notice(conn, row["buyer_id"], "rectification_submitted", row,
                                       owner=row["owner_name"], owner_en=row["owner_name_en"])])
    return int(after["version"])


async def verify(conn: asyncpg.Connection, identity: Identity, item_id: int) -> None:
    row, caps = await _for_step(conn, identity, item_id)

    async def write(transition: Transition) -> None:
        await conn.execute("update rectification_items set status = $2, verified_at = market_now(), verified_by = $3 "
                           "where id = $1", item_id, transition.target, identity.user_id)

    await step(conn, ITEM, "verify", row["status"], object_id=item_id, capacities=caps, actor=identity.user_id,
               organisation=identity.org_id, write=write,
               notices=[await _notice(conn, row["owner_id"], "rectification_verified", row)])


async def _with_reason(conn: asyncpg.Connection, identity: Identity, item_id: int, action: str, reason: str,
                       change: str, notice: str) -> None:
    """A buyer's step that must say why: `change` sets the item's columns ($1 the item, $2 the new
    status, $3 the reason, $4 the buyer's user)."""
    row, caps = await _for_step(conn, identity, item_id)
    ITEM.check(action, row["status"], caps)
    said = _reason(reason)

    async def write(transition: Transition) -> None:
        await conn.execute(change, item_id, transition.target, said, identity.user_id)

    await step(conn, ITEM, action, row["status"], object_id=item_id, capacities=caps, actor=identity.user_id,
               organisation=identity.org_id, write=write, after={"reason": said},
               notices=[await _notice(conn, row["owner_id"], notice, row, buyer=row["buyer_name"],
                                       buyer_en=row["buyer_name_en"])])


async def reject(conn: asyncpg.Connection, identity: Identity, item_id: int, reason: str) -> None:
    """The buyer sends the fix back, saying why; the item is open again, under the same deadline."""
    await _with_reason(conn, identity, item_id, "reject", reason, """
        with kept as (insert into rectification_rejections (item_id, version, reason, rejected_by)
                      select $1, max(version), $3, $4 from rectification_fixes where item_id = $1)
        update rectification_items set status = $2 where id = $1""", "rectification_rejected")


async def withdraw(conn: asyncpg.Connection, identity: Identity, item_id: int, reason: str) -> None:
    """The buyer withdraws an item raised in error, saying why (the reason is public with the item)."""
    await _with_reason(conn, identity, item_id, "withdraw", reason, """
        update rectification_items set status = $2, withdrawn_at = market_now(), withdrawn_reason = $3,
                                       withdrawn_by = $4 where id = $1""", "rectification_withdrawn")


async def standings(conn: asyncpg.Connection, owner_ids: list[int]) -> dict[int, Standing]:
    """Each owner's unfinished items, counted open (in time, or a fix waiting for verification) and
    late (still open after the due date); an owner with none is left out."""
    rows = await conn.fetch(
        """select owner_id, count(*) filter (where status = 'open' and due < $2) as late,
                  count(*) filter (where not (status = 'open' and due < $2)) as open
             from rectification_items where owner_id = any($1::bigint[]) and status in ('open', 'fix_submitted')
            group by owner_id""", owner_ids, clock.today())
    return {r["owner_id"]: Standing(open=r["open"], late=r["late"]) for r in rows}


async def unfinished_of(conn: asyncpg.Connection, owner_ids: list[int], limit: int = 5) -> dict[int, Unfinished]:
    """Each owner's unfinished items, late first, then by due date (at most `limit` each) and how many
    there are, for the pages that show them beside its work: the contract page, an evaluation panel.
    An owner with none is left out."""
    rows = await conn.fetch(
        f"""select * from (
              select x.*, row_number() over (partition by x.owner_id order by x.due, x.id) as n,
                     count(*) over (partition by x.owner_id) as total from ({_ITEM}
               where i.owner_id = any($1::bigint[]) and i.status in ('open', 'fix_submitted')) x) y
             where n <= $2 order by y.owner_id, y.due, y.id""", owner_ids, limit)
    today = clock.today()
    items: dict[int, list[Item]] = {}
    totals: dict[int, int] = {}
    for r in rows:
        items.setdefault(r["owner_id"], []).append(_item(r, today))
        totals[r["owner_id"]] = r["total"]
    return {owner: Unfinished(items=listed, total=totals[owner]) for owner, listed in items.items()}


# Each list an organisation's workbench shows ($1 the organisation), earliest deadline first, its
# first $2 and how many there are, in one statement.
_TASKS = f"""
select * from (
    select 'rectification_to_fix' as list, x.*, row_number() over (order by x.due, x.id) as n,
           count(*) over () as total
      from ({_ITEM} where i.owner_id = $1 and i.status = 'open') x
    union all
    select 'rectification_to_verify', x.*, row_number() over (order by x.due, x.id), count(*) over ()
      from ({_ITEM} where i.buyer_id = $1 and i.status = 'fix_submitted') x
    union all
    select 'rectification_escalated', x.*, row_number() over (order by x.due, x.id), count(*) over ()
      from ({_ITEM} where {_ESCALATED_TO.format("$1", "$1")}) x
) t where n <= $2 order by list, due, id"""
LISTS = {"rectification_to_fix": None, "rectification_to_verify": "fix_submitted", "rectification_escalated": "late"}
# Where each list goes on past the workbench: the public list so filtered ({} the organisation).
_MORE = {"rectification_to_fix": "/rectification?status=open&organisation={}",
         "rectification_to_verify": "/rectification?status=fix_submitted&organisation={}",
         "rectification_escalated": "/rectification?escalated_to={}"}



def _task(row: Any, today: date, state: str | None) -> dict[str, Any]:
    """A task of one of the lists: named beside it, the other party (who verifies the owner's fix; whose
    fix the verifier checks)."""
    other = "buyer" if row["list"] == "rectification_to_fix" else "owner"
    return {"title_zh": row["finding_zh"], "title_en": row["finding_en"], "due_date": row["due"],
            "link": link(row["id"]), "state": state or ("late" if row["due"] < today else row["status"]),
            "detail": i18n.bilingual(row[f"{other}_name"], row[f"{other}_name_en"])}


async def workbench_lists(conn: asyncpg.Connection, org_id: int, limit: int) -> dict[str, WorkbenchList]:
    """For an organisation's workbench, earliest deadline first (so the late lead), the first `limit`
    of each list and how many there are: items it owns still to put right, fixes it is to verify,
    and late items escalated to it (as the buyer, or as the bureau above)."""
    today = clock.today()
    out = {kind: WorkbenchList([], 0, _MORE[kind].format(org_id)) for kind in LISTS}
    for r in await conn.fetch(_TASKS, org_id, limit):
        out[r["list"]].rows.append(_task(r, today, LISTS[r["list"]]))
        out[r["list"]] = out[r["list"]]._replace(total=r["total"])
    return out


async def deadlines_met(conn: asyncpg.Connection, organisation_ids: list[int], years: list[int],
                        timezone: str) -> list[asyncpg.Record]:
    """Items these organisations own or verify whose deadline fell in these years (the deadline passed):
    owner_id, buyer_id, the deadline's year, and `met` — verified by its deadline (where the deployment
    is). One verified later or still unfinished counts as missed; withdrawn items and those not due
    yet are left out."""
    return await conn.fetch("""
        select owner_id, buyer_id, extract(year from due)::int as year,
               status = 'verified' and (verified_at at time zone $4)::date <= due as met
          from rectification_items
         where (owner_id = any($1::bigint[]) or buyer_id = any($1::bigint[]))
           and extract(year from due)::int = any($2::int[]) and status <> 'withdrawn' and due < $3::date""",
                            organisation_ids, years, clock.today(), timezone)
