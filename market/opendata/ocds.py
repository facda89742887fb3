"""Public procurement as open data in the Open Contracting Data Standard (OCDS 1.1): one compiled
release per published call — the call as its tender, its awards, its contracts and what was done
under them (milestones met, money paid out) — in release packages any OCDS tool reads (ProZorro and
the UK's Contracts Finder publish the same way).

What the pages show publicly and nothing more: bids stay sealed (how many once they are opened, who
once the ranking is published), a bid's content is never given, and a private donor's money is told
without the donor. Money is in yuan (fen / 100), as OCDS amounts are. The
shape is the official schema's (tests/opendata hold its 1.1.5 release package schema and check every
package against it), built here as plain mappings: the schema is the contract, not a Struct of ours."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import asyncpg

from market.core import clock, keyset
from market.core.settings import Settings

VERSION = "1.1"
PAGE_SIZE = 50
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
# procedure type → OCDS procurementMethod (its closed codelist): a venture round takes proposals from
# anyone eligible; a fair docks the projects with the providers who came to the fair.
METHODS = {"open_competition": "open", "venture_round": "open", "single_source": "direct",
           "fair_docking": "limited"}
MILESTONE_TYPES = {"delivery": "delivery", "report": "reporting", "payment": "financing"}
_BY_ID = keyset.Keyset((keyset.Column("c.id", "id", int),), descending=False)

_CALLS = """
select c.id, c.title_zh, c.title_en, c.description, c.buyer_id, c.procedure_type, t.name_zh as procedure_zh,
       t.name_en as procedure_en, c.justification, c.budget_ceiling_fen, c.service_start, c.service_end,
       c.service_place, c.created_at, c.published_at, c.questions_close_at, c.deadline_at, c.cancelled_at,
       c.cancel_reason, c.awarded_at, c.notice_ends_at, c.failed_at, c.fail_reason, e.code as item_code,
       e.name_zh as item_zh, e.name_en as item_en, p.id as project_id, p.title_zh as project_title,
       p.budget_fen, p.budget_line,
       (select count(*) from project_needs pn where pn.project_id = p.id) as needs,
       (select coalesce(sum(n.supporters), 0) from project_needs pn join needs n on n.id = pn.need_id
         where pn.project_id = p.id)::bigint as supporters
  from calls c join procedure_types t on t.code = c.procedure_type
  join catalogue_entries e on e.id = c.catalogue_entry_id join projects p on p.id = c.project_id
 where c.id = any($1::bigint[]) and c.published_at is not null
 order by c.id"""
# Bids as the call's page tells them, never what they hold: how many once they are opened (the deadline
# passed, or a round's batch cut off), and who once the ranking is published (the award, or the batch's
# decision).
_TENDERERS = """
select b.call_id, b.provider_id,
       (x.id is null and c.awarded_at is not null) or x.decided_at is not null as named
  from bids b join calls c on c.id = b.call_id left join call_batches x on x.id = b.batch_id
 where b.call_id = any($1::bigint[]) and b.status = 'submitted' and (c.deadline_at <= $2 or x.id is not null)
 order by b.call_id, b.id"""
_AWARDS = """
select a.id, a.call_id, a.amount_fen, a.awarded_at, a.notice_ends_at, a.reopened_at, b.provider_id
  from awards a join bids b on b.id = a.bid_id
 where a.call_id = any($1::bigint[]) order by a.call_id, a.id"""
_CONTRACTS = """
select k.id, k.call_id, k.award_id, k.amount_fen, k.service_start, k.service_end, k.status, k.created_at,
       k.buyer_signed_at, k.provider_signed_at, coalesce(d.status, 'in_delivery') as delivery, d.ended_at
  from contracts k left join contract_delivery d on d.contract_id = k.id
 where k.call_id = any($1::bigint[]) order by k.call_id, k.id"""
_MILESTONES = """
select m.contract_id, m.position, m.kind, m.title, m.due_date, m.accepted_at
  from contract_milestones m join contracts k on k.id = m.contract_id
 where k.call_id = any($1::bigint[]) order by m.contract_id, m.position"""
# Money paid out to the provider, a transaction for each disbursement of the ledger not reversed,
# with who paid it: the buyer's budget line, or the pledges of funders.
_TRANSACTIONS = """
select d.contract_id, d.transaction_id, t.created_at, d.source, p.funder_id, sum(d.amount_fen)::bigint as amount_fen
  from disbursements d join contracts k on k.id = d.contract_id
  join ledger_transactions t on t.id = d.transaction_id left join pledges p on p.id = d.pledge_id
 where k.call_id = any($1::bigint[])
   and not exists (select from ledger_transactions r where r.reverses = d.transaction_id)
 group by d.contract_id, d.transaction_id, t.created_at, d.source, p.funder_id
 order by d.contract_id, d.transaction_id, p.funder_id nulls first"""
_PARTIES = """
select o.id, o.name_zh, o.name_en, o.credit_code, o.subtype from organisations o where o.id = any($1::bigint[])"""


def _money(fen: int) -> dict[str, Any]:
    return {"amount": fen / 100, "currency": "CNY"}


def _moment(value: datetime | date | None, timezone: str) -> str | None:
    """An ISO 8601 date-time where the deployment is; a date is its day's start there."""
    if value is None:
        return None
    zone = ZoneInfo(timezone)
    moment = value.astimezone(zone) if isinstance(value, datetime) else datetime.combine(value, time(0), tzinfo=zone)
    return moment.isoformat(timespec="seconds")


def _tender_status(row: Any, now: datetime) -> str:
    if row["cancelled_at"] is not None:
        return "cancelled"
    if row["failed_at"] is not None:
        return "unsuccessful"
    if row["awarded_at"] is not None and row["notice_ends_at"] is not None and now >= row["notice_ends_at"]:
        return "complete"
    return "active"


def _award_status(row: Any, now: datetime) -> str:
    if row["reopened_at"] is not None:
        return "cancelled"  # an objection was upheld: the award no longer stands
    return "active" if now >= row["notice_ends_at"] else "pending"


def _contract_status(row: Any) -> str:
    if row["status"] != "signed":
        return "pending"
    return "terminated" if row["delivery"] in ("ended", "completed") else "active"


def _party(org: Any, roles: set[str]) -> dict[str, Any]:
    party: dict[str, Any] = {"id": ocid_party(org["id"]), "name": org["name_zh"], "roles": sorted(roles)}
    if org["credit_code"]:
        # The 18-character unified social credit code (统一社会信用代码, GB 32100-2015).
        party["identifier"] = {"id": org["credit_code"], "legalName": org["name_zh"]}
    if org["name_en"]:
        party["details"] = {"name_en": org["name_en"]}
    return party


def ocid_party(org_id: int) -> str:
    return f"market-org-{org_id}"


def ocid(settings: Settings, call_id: int) -> str:
    return f"{settings.ocds_prefix}-call-{call_id}"


async def releases(conn: asyncpg.Connection, settings: Settings, call_ids: list[int]) -> list[dict[str, Any]]:
    """The compiled release of each of these calls that is published, in the order of their ids
    (seven statements however many)."""
    now, tz = clock.now(), settings.timezone
    calls = await conn.fetch(_CALLS, call_ids)
    if not calls:
        return []
    ids = [c["id"] for c in calls]
    tenderers = _by(await conn.fetch(_TENDERERS, ids, now), "call_id")
    awards = _by(await conn.fetch(_AWARDS, ids), "call_id")
    contracts = _by(await conn.fetch(_CONTRACTS, ids), "call_id")
    milestones = _by(await conn.fetch(_MILESTONES, ids), "contract_id")
    transactions = _by(await conn.fetch(_TRANSACTIONS, ids), "contract_id")
    wanted = {c["buyer_id"] for c in calls} \
        | {t["provider_id"] for rows in tenderers.values() for t in rows if t["named"]} \
        | {a["provider_id"] for rows in awards.values() for a in rows} \
        | {t["funder_id"] for rows in transactions.values() for t in rows if t["funder_id"] is not None}
    orgs = {r["id"]: r for r in await conn.fetch(_PARTIES, list(wanted))}
    return [_release(settings, call, tenderers[call["id"]], awards[call["id"]], contracts[call["id"]], milestones,
                     transactions, orgs, now, tz) for call in calls]


def _by(rows: list[Any], key: str) -> defaultdict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _release(settings: Settings, call: Any, tenderers: list[Any], awards: list[Any], contracts: list[Any],
             milestones: dict[int, list[Any]], transactions: dict[int, list[Any]], orgs: dict[int, Any],
             now: datetime, tz: str) -> dict[str, Any]:
    roles: dict[int, set[str]] = defaultdict(set)

    def ref(org_id: int, role: str) -> dict[str, Any]:
        roles[org_id].add(role)
        return {"id": ocid_party(org_id), "name": orgs[org_id]["name_zh"]}

    buyer = ref(call["buyer_id"], "buyer")
    ref(call["buyer_id"], "procuringEntity")
    tender: dict[str, Any] = {
        "id": f"call-{call['id']}", "title": call["title_zh"], "description": call["description"],
        "status": _tender_status(call, now), "procuringEntity": buyer,
        "items": [{"id": "1", "description": call["item_zh"],
                   "classification": {"scheme": "x_market_catalogue", "id": call["item_code"],
                                      "description": call["item_zh"]}}],
        "value": _money(call["budget_ceiling_fen"]),
        "procurementMethod": METHODS.get(call["procedure_type"], "open"),
        "procurementMethodDetails": call["procedure_zh"],
        "mainProcurementCategory": "services",
        "tenderPeriod": {k: v for k, v in (("startDate", _moment(call["published_at"], tz)),
                                           ("endDate", _moment(call["deadline_at"], tz))) if v},
        "contractPeriod": {"startDate": _moment(call["service_start"], tz),
                           "endDate": _moment(call["service_end"], tz)},
        "documents": [_document(settings, "notice", "tenderNotice", f"/calls/{call['id']}", call["published_at"], tz)],
    }
    if call["justification"]:
        tender["procurementMethodRationale"] = call["justification"]
    if call["questions_close_at"] is not None:
        tender["enquiryPeriod"] = {"startDate": _moment(call["published_at"], tz),
                                   "endDate": _moment(call["questions_close_at"], tz)}
    if tenderers:
        tender["numberOfTenderers"] = len(tenderers)
        named = [t["provider_id"] for t in tenderers if t["named"]]
        if named:
            tender["tenderers"] = [ref(p, "tenderer") for p in dict.fromkeys(named)]
    released_awards = [{
        "id": f"award-{a['id']}", "status": _award_status(a, now), "date": _moment(a["awarded_at"], tz),
        "value": _money(a["amount_fen"]), "suppliers": [ref(a["provider_id"], "supplier")],
        "documents": [_document(settings, f"award-{a['id']}-notice", "awardNotice", f"/calls/{call['id']}#award",
                                a["awarded_at"], tz)],
    } for a in awards]
    released_contracts = []
    for k in contracts:
        contract: dict[str, Any] = {
            "id": f"contract-{k['id']}", "awardID": f"award-{k['award_id']}", "title": call["title_zh"],
            "status": _contract_status(k), "value": _money(k["amount_fen"]),
            "period": {"startDate": _moment(k["service_start"], tz), "endDate": _moment(k["service_end"], tz)},
        }
        if k["status"] == "signed":
            signed_at = max(k["buyer_signed_at"], k["provider_signed_at"])
            contract["dateSigned"] = _moment(signed_at, tz)
            contract["documents"] = [_document(settings, f"contract-{k['id']}-signed", "contractSigned",
                                               f"/contracts/{k['id']}/pdf", signed_at, tz)]
            contract["implementation"] = {
                "milestones": [_milestone(m, now, tz) for m in milestones[k["id"]]],
                "transactions": [_transaction(t, call["buyer_id"], orgs, ref, tz) for t in transactions[k["id"]]],
            }
        released_contracts.append(contract)
    release: dict[str, Any] = {
        "ocid": ocid(settings, call["id"]),
        "date": _moment(_last_change(call, awards, contracts, milestones, transactions), tz),
        "tag": ["compiled"], "initiationType": "tender", "language": "zh", "buyer": buyer,
        "planning": _planning(call), "tender": tender,
    }
    if released_awards:
        release["awards"] = released_awards
    if released_contracts:
        release["contracts"] = released_contracts
    release["parties"] = [_party(orgs[org_id], r) for org_id, r in roles.items()]
    release["id"] = f"{release['ocid']}-{release['date']}"
    return release


def _last_change(call: Any, awards: list[Any], contracts: list[Any], milestones: dict[int, list[Any]],
                 transactions: dict[int, list[Any]]) -> datetime:
    """When the release last changed, from every moment it tells: a new moment makes a new release id,
    so a reader sees what changed (a milestone met, money paid out, an award reopened)."""
    moments = [call["published_at"], call["cancelled_at"], call["failed_at"]]
    moments += [m for a in awards for m in (a["awarded_at"], a["reopened_at"])]
    for k in contracts:
        moments += [k["created_at"], k["buyer_signed_at"], k["provider_signed_at"], k["ended_at"]]
        moments += [m["accepted_at"] for m in milestones[k["id"]]] + [t["created_at"] for t in transactions[k["id"]]]
    return max(m for m in moments if m is not None)


def _document(settings: Settings, id_: str, kind: str, path: str, published: datetime, tz: str) -> dict[str, Any]:
    """A public page or file of the product that is this document: the call's page for its notice, the
    signed contract's PDF."""
    return {"id": id_, "documentType": kind, "url": f"{settings.base_url}{path}", "language": "zh",
            "format": "application/pdf" if path.endswith("/pdf") else "text/html",
            "datePublished": _moment(published, tz)}


def _planning(call: Any) -> dict[str, Any]:
    """The project the call buys for (立项): its budget and where the money comes from, and the residents'
    needs it was made from (居民需求服务项目化)."""
    planning: dict[str, Any] = {"budget": {
        "id": f"project-{call['project_id']}", "description": call["budget_line"], "amount": _money(call["budget_fen"]),
        "project": call["project_title"], "projectID": f"project-{call['project_id']}"}}
    if call["needs"]:
        planning["rationale"] = f"由 {call['needs']} 项居民需求立项，共 {call['supporters']} 人支持。"
    return planning


def _milestone(m: Any, now: datetime, tz: str) -> dict[str, Any]:
    met = m["accepted_at"]
    out: dict[str, Any] = {"id": str(m["position"]), "title": m["title"], "type": MILESTONE_TYPES[m["kind"]],
                           "dueDate": _moment(m["due_date"], tz),
                           "status": "met" if met else "notMet" if m["due_date"] < now.date() else "scheduled"}
    if met:
        out["dateMet"] = _moment(met, tz)
    return out


def _transaction(t: Any, buyer_id: int, orgs: dict[int, Any], ref: Any, tz: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"{t['transaction_id']}-{t['funder_id'] or 0}", "date": _moment(t["created_at"], tz),
                           "value": _money(t["amount_fen"])}
    if t["source"] == "budget_line":
        out["payer"] = ref(buyer_id, "payer")
    elif t["funder_id"] is not None and orgs[t["funder_id"]]["credit_code"]:
        out["payer"] = ref(t["funder_id"], "funder")  # a private donor's gift is told without the donor
    return out


async def package(conn: asyncpg.Connection, settings: Settings, call_ids: list[int], uri: str) -> dict[str, Any]:
    """A release package of these calls' compiled releases."""
    return {"uri": uri, "version": VERSION, "publishedDate": _moment(clock.now(), settings.timezone),
            "publisher": {"name": "公益服务市场 · Public Service Market", "uri": settings.base_url},
            "license": LICENSE, "releases": await releases(conn, settings, call_ids)}


async def page(conn: asyncpg.Connection, settings: Settings, cursor: str | None, uri: str,
               limit: int = PAGE_SIZE) -> dict[str, Any]:
    """Every published call's compiled release, a page at a time in the order the calls were made; the
    package links to the next page (`links.next`, as OCDS APIs page) and says how many there are (beyond
    the packages' schema, as are the links)."""
    window = await keyset.fetch(conn, select="c.id", from_="calls c",
                                filters=_published(), keyset=_BY_ID, cursor=cursor, limit=limit)
    out = await package(conn, settings, [r["id"] for r in window.rows], uri)
    out["links"] = {k: f"{settings.base_url}/api/ocds/releases?cursor={quote(v)}"
                    for k, v in (("next", window.next), ("prev", window.previous)) if v}
    out["total"], out["totalEstimated"] = window.total, window.estimated  # estimated past keyset's exact count
    return out


def _published() -> keyset.Filters:
    where = keyset.Filters()
    where.add("c.published_at is not null")
    return where
