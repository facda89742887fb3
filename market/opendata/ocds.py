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
from functools import lru_cache
from datetime import date, datetime, time
from typing import Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

import asyncpg

from market.core import clock, keyset
from market.core.i18n import N_, Msg, gettext, ngettext, use_locale
from market.core.settings import Settings
from market.delivery.models import OUTCOME_NAMES, STAGE_NAMES, StageOutcome
from market.delivery.outcomes import outcomes_of
from market.organisations.models import SUBTYPE_NAMES
from market.procurement.calls.models import REVISION_FIELDS
from market.procurement.contracts.models import STANDARD_TITLES

VERSION = "1.1"
PAGE_SIZE = 25  # a page of a city's releases stays within 200 KB (330 KB at 50)
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
# procedure type → OCDS procurementMethod (its closed codelist): a venture round takes proposals from
# anyone eligible; a fair docks the projects with the providers who came to the fair.
METHODS = {"open_competition": "open", "venture_round": "open", "single_source": "direct",
           "fair_docking": "limited"}
MILESTONE_TYPES = {"delivery": "delivery", "report": "reporting", "payment": "payment"}
# A decided delivery evaluation's public report: a mid-term one is a report on progress, a final one
# the review at the end of implementation (OCDS's documentType codelist).
EVALUATION_DOCUMENTS = {"midterm": "physicalProgressReport", "final": "finalAudit"}
DOCUMENT_TITLES = {"tenderNotice": N_("Call notice"), "awardNotice": N_("Award notice"),
                   "contractSigned": N_("Signed contract")}
_BY_ID = keyset.Keyset((keyset.Column("c.id", "id", int),), descending=False)

_CALLS = """
select c.id, c.title_zh, c.title_en, c.description, c.buyer_id, c.procedure_type, t.name_zh as procedure_zh,
       t.name_en as procedure_en, c.justification, c.provider_types, c.min_rating, c.min_years, c.cross_district,
       c.budget_ceiling_fen, c.service_start, c.service_end,
       c.service_place, c.created_at, c.published_at, c.questions_close_at, c.deadline_at, c.cancelled_at,
       c.cancel_reason, c.awarded_at, c.notice_ends_at, c.failed_at, c.fail_reason, e.code as item_code,
       e.name_zh as item_zh, e.name_en as item_en, p.id as project_id, p.title_zh as project_title,
       p.title_en as project_title_en, p.budget_fen, p.budget_line,
       (select count(*) from project_needs pn where pn.project_id = p.id) as needs,
       (select coalesce(sum(n.supporters), 0) from project_needs pn join needs n on n.id = pn.need_id
         where pn.project_id = p.id)::bigint as supporters,
       array(select row(k.name_zh, k.name_en, k.weight, k.min_score, k.is_price) from call_criteria k
              where k.call_id = c.id order by k.position) as criteria,
       -- what each change to the published call touched (its values are on the call's page)
       array(select row(r.revision, r.changed_at, array(select jsonb_object_keys(r.changes))) from call_revisions r
              where r.call_id = c.id order by r.revision) as amendments,
       -- the project's earlier calls that failed or were cancelled (one live call a project)
       array(select row(e.id, e.title_zh, e.title_en) from calls e
              where e.project_id = c.project_id and e.id < c.id and e.published_at is not null
                and (e.failed_at is not null or e.cancelled_at is not null) order by e.id) as earlier
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
       k.buyer_signed_at, k.provider_signed_at,
       -- each looked up by its key: a join read all the city's delivery rows to hash them
       coalesce((select d.status from contract_delivery d where d.contract_id = k.id), 'in_delivery') as delivery,
       (select d.ended_at from contract_delivery d where d.contract_id = k.id) as ended_at
  from contracts k
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
        party["name_en"] = org["name_en"]
    return party


def ocid_party(org_id: int) -> str:
    return f"market-org-{org_id}"


def ocid(settings: Settings, call_id: int) -> str:
    return f"{settings.ocds_prefix}-call-{call_id}"


class _Read(NamedTuple):
    """What the statements read for a page of calls, each by its call or its contract."""

    tenderers: defaultdict[int, list[Any]]
    awards: defaultdict[int, list[Any]]
    contracts: defaultdict[int, list[Any]]
    milestones: defaultdict[int, list[Any]]
    transactions: defaultdict[int, list[Any]]
    evaluations: dict[int, dict[str, StageOutcome]]
    orgs: dict[int, Any]


async def releases(conn: asyncpg.Connection, settings: Settings, call_ids: list[int]) -> list[dict[str, Any]]:
    """The compiled release of each of these calls that is published, in the order of their ids
    (a bounded number of statements however many)."""
    now = clock.now()
    calls = await conn.fetch(_CALLS, call_ids)
    if not calls:
        return []
    ids = [c["id"] for c in calls]
    tenderers = _by(await conn.fetch(_TENDERERS, ids, now), "call_id")
    awards = _by(await conn.fetch(_AWARDS, ids), "call_id")
    contracts = _by(await conn.fetch(_CONTRACTS, ids), "call_id")
    transactions = _by(await conn.fetch(_TRANSACTIONS, ids), "contract_id")
    signed = [k["id"] for rows in contracts.values() for k in rows if k["status"] == "signed"]
    wanted = {c["buyer_id"] for c in calls} \
        | {t["provider_id"] for rows in tenderers.values() for t in rows if t["named"]} \
        | {a["provider_id"] for rows in awards.values() for a in rows} \
        | {t["funder_id"] for rows in transactions.values() for t in rows if t["funder_id"] is not None}
    read = _Read(
        tenderers=tenderers, awards=awards, contracts=contracts, transactions=transactions,
        milestones=_by(await conn.fetch(_MILESTONES, ids), "contract_id"),
        evaluations=await outcomes_of(conn, signed) if signed else {},
        orgs={r["id"]: r for r in await conn.fetch(_PARTIES, list(wanted))})
    return [_release(settings, call, read, now) for call in calls]


# The fields of the rows the calls' statement reads as arrays of records, in their order there.
_CRITERION = ("name_zh", "name_en", "weight", "min_score", "is_price")
_AMENDMENT = ("revision", "changed_at", "fields")
_EARLIER = ("id", "title_zh", "title_en")


def _named(records: list[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(fields, r, strict=True)) for r in records]


def _by(rows: list[Any], key: str) -> defaultdict[int, list[Any]]:
    grouped: defaultdict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


@lru_cache(maxsize=4096)
def _both(message: str, plural: str | None = None, **params: Any) -> tuple[str, str]:
    """A message of the product in Chinese and in English, for a field and its `_en` twin (kept: a page
    of releases says the same few dozen things a hundred times)."""
    texts = []
    for locale in ("zh_Hans", "en"):
        with use_locale(locale):
            texts.append(ngettext(message, plural, params["num"], **params) if plural else gettext(message, **params))
    return texts[0], texts[1]


def _bilingual(out: dict[str, Any], field: str, zh: str, en: str | None) -> None:
    """OCDS's own way to give a text in another language: the field suffixed with its language tag."""
    out[field] = zh
    if en:
        out[f"{field}_en"] = en


def _release(settings: Settings, call: Any, read: _Read, now: datetime) -> dict[str, Any]:
    tz, orgs = settings.timezone, read.orgs
    roles: dict[int, set[str]] = defaultdict(set)

    def ref(org_id: int, role: str) -> dict[str, Any]:
        roles[org_id].add(role)
        return {"id": ocid_party(org_id), "name": orgs[org_id]["name_zh"]}

    buyer = ref(call["buyer_id"], "buyer")
    ref(call["buyer_id"], "procuringEntity")
    item: dict[str, Any] = {"id": "1", "classification": {"scheme": "x_market_catalogue", "id": call["item_code"]}}
    _bilingual(item, "description", call["item_zh"], call["item_en"])
    _bilingual(item["classification"], "description", call["item_zh"], call["item_en"])
    tender: dict[str, Any] = {"id": f"call-{call['id']}"}
    _bilingual(tender, "title", call["title_zh"], call["title_en"])
    tender |= {
        "description": call["description"], "status": _tender_status(call, now), "procuringEntity": buyer,
        "items": [item], "value": _money(call["budget_ceiling_fen"]),
        "procurementMethod": METHODS.get(call["procedure_type"], "open"),
        "procurementMethodDetails": call["procedure_zh"],
        "mainProcurementCategory": "services",
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {k: v for k, v in (("startDate", _moment(call["published_at"], tz)),
                                           ("endDate", _moment(call["deadline_at"], tz))) if v},
        "contractPeriod": {"startDate": _moment(call["service_start"], tz),
                           "endDate": _moment(call["service_end"], tz)},
        "documents": [_document(settings, "notice", "tenderNotice", f"/calls/{call['id']}", call["published_at"], tz)],
    }
    tender |= _eligibility(call) | _award_criteria(_named(call["criteria"], _CRITERION))
    if call["justification"]:
        tender["procurementMethodRationale"] = call["justification"]
    if call["questions_close_at"] is not None:
        tender["enquiryPeriod"] = {"startDate": _moment(call["published_at"], tz),
                                   "endDate": _moment(call["questions_close_at"], tz)}
    if call["amendments"]:
        tender["amendments"] = [_amendment(a, tz) for a in _named(call["amendments"], _AMENDMENT)]
    tenderers = read.tenderers[call["id"]]
    if tenderers:
        tender["numberOfTenderers"] = len(tenderers)
        named = [t["provider_id"] for t in tenderers if t["named"]]
        if named:
            tender["tenderers"] = [ref(p, "tenderer") for p in dict.fromkeys(named)]
    awards, contracts = read.awards[call["id"]], read.contracts[call["id"]]
    released_awards = [{
        "id": f"award-{a['id']}", "status": _award_status(a, now), "date": _moment(a["awarded_at"], tz),
        "value": _money(a["amount_fen"]), "suppliers": [ref(a["provider_id"], "supplier")],
        "documents": [_document(settings, f"award-{a['id']}-notice", "awardNotice", f"/calls/{call['id']}#award",
                                a["awarded_at"], tz)],
    } for a in awards]
    released_contracts = []
    for k in contracts:
        contract: dict[str, Any] = {"id": f"contract-{k['id']}", "awardID": f"award-{k['award_id']}"}
        _bilingual(contract, "title", call["title_zh"], call["title_en"])
        contract |= {
            "status": _contract_status(k), "value": _money(k["amount_fen"]),
            "period": {"startDate": _moment(k["service_start"], tz), "endDate": _moment(k["service_end"], tz)},
        }
        if k["status"] == "signed":
            signed_at = max(k["buyer_signed_at"], k["provider_signed_at"])
            contract["dateSigned"] = _moment(signed_at, tz)
            contract["documents"] = [_document(settings, f"contract-{k['id']}-signed", "contractSigned",
                                               f"/contracts/{k['id']}/pdf", signed_at, tz)]
            implementation: dict[str, Any] = {
                "milestones": [_milestone(m, now, tz) for m in read.milestones[k["id"]]],
                "transactions": [_transaction(t, call["buyer_id"], orgs, ref, tz) for t in read.transactions[k["id"]]],
            }
            reports = [_evaluation_report(settings, k["id"], o, tz) for o in read.evaluations[k["id"]].values()
                       if o.outcome is not None]
            if reports:
                implementation["documents"] = reports
            contract["implementation"] = implementation
        released_contracts.append(contract)
    release: dict[str, Any] = {
        "ocid": ocid(settings, call["id"]),
        "date": _moment(_last_change(call, read), tz),
        "tag": ["compiled"], "initiationType": "tender", "language": "zh", "buyer": buyer,
        "planning": _planning(call), "tender": tender,
    }
    if call["earlier"]:
        release["relatedProcesses"] = [_related(settings, e) for e in _named(call["earlier"], _EARLIER)]
    if released_awards:
        release["awards"] = released_awards
    if released_contracts:
        release["contracts"] = released_contracts
    release["parties"] = [_party(orgs[org_id], r) for org_id, r in roles.items()]
    release["id"] = f"{release['ocid']}-{release['date']}"
    return release


def _eligibility(call: Any) -> dict[str, Any]:
    """Who may bid, as the call's page says it."""
    out: dict[str, Any] = {}
    _bilingual(out, "eligibilityCriteria", *_who_may_bid(tuple(call["provider_types"]), call["min_rating"],
                                                         call["min_years"], call["cross_district"]))
    return out


@lru_cache(maxsize=1024)
def _who_may_bid(kinds: tuple[str, ...], min_rating: int | None, min_years: int | None,
                 cross_district: bool) -> tuple[str, str]:
    parts = [_both(SUBTYPE_NAMES[t]) for t in kinds]
    rules = [("、".join(zh for zh, _ in parts), ", ".join(en for _, en in parts))]
    if min_rating:
        rules.append((f"≥{min_rating}A",) * 2)
    if min_years:
        rules.append(_both("registered for at least %(num)s year", "registered for at least %(num)s years", num=min_years))
    rules.append(_both(N_("from any district") if cross_district else N_("registered in this district")))
    return "；".join(zh for zh, _ in rules), "; ".join(en for _, en in rules)


def _award_criteria(criteria: list[Any]) -> dict[str, Any]:
    """How bids are scored: by weighted criteria, by quality alone where price is not scored, or by
    price alone."""
    if not criteria:
        return {}
    priced = [c["is_price"] for c in criteria]
    out: dict[str, Any] = {"awardCriteria": "priceOnly" if all(priced) else "ratedCriteria" if any(priced)
                           else "qualityOnly"}
    zh, en = [], []
    for c in criteria:
        notes = []
        if c["min_score"] is not None:
            minimum = _both(N_("Minimum score"))
            notes.append((f"{minimum[0]} {c['min_score']}", f"{minimum[1]} {c['min_score']}"))
        if c["is_price"]:
            notes.append(_both(N_("by formula from the price")))
        zh.append(f"{c['name_zh']} {c['weight']}%" + "".join(f"（{z}）" for z, _ in notes))
        en.append(f"{c['name_en'] or c['name_zh']} {c['weight']}%" + "".join(f" ({e})" for _, e in notes))
    _bilingual(out, "awardCriteriaDetails", "；".join(zh), "; ".join(en))
    return out


def _amendment(row: Any, tz: str) -> dict[str, Any]:
    """A change to the published call: when, and which of its terms (the call's page gives the values)."""
    with use_locale("zh_Hans"):
        fields = "、".join(gettext(label) for field, (label, _) in REVISION_FIELDS.items() if field in row["fields"])
        description = gettext("Changed: %(fields)s", fields=fields)
    return {"id": f"revision-{row['revision']}", "date": _moment(row["changed_at"], tz), "description": description}


def _related(settings: Settings, earlier: Any) -> dict[str, Any]:
    """The project's earlier call, which failed or was cancelled, that this one follows on from."""
    out: dict[str, Any] = {"id": f"call-{earlier['id']}", "relationship": ["unsuccessfulProcess"], "scheme": "ocid",
                           "identifier": ocid(settings, earlier["id"]),
                           "uri": f"{settings.base_url}/api/ocds/calls/{earlier['id']}"}
    _bilingual(out, "title", earlier["title_zh"], earlier["title_en"])
    return out


def _evaluation_report(settings: Settings, contract_id: int, outcome: StageOutcome, tz: str) -> dict[str, Any]:
    """A decided evaluation of the contract's delivery, its public report (the PDF anyone may read)."""
    assert outcome.outcome is not None and outcome.decided_at is not None
    path = f"/contracts/{contract_id}/evaluations/{outcome.stage}/report"
    out: dict[str, Any] = {"id": f"contract-{contract_id}-{outcome.stage}-evaluation",
                           "documentType": EVALUATION_DOCUMENTS[outcome.stage]}
    title = _both(N_("%(stage)s: %(outcome)s"), stage=Msg(STAGE_NAMES[outcome.stage]),
                  outcome=Msg(OUTCOME_NAMES[outcome.outcome]))
    _bilingual(out, "title", title[0], title[1][:1].upper() + title[1][1:])
    return out | {"url": f"{settings.base_url}{path}.pdf", "format": "application/pdf", "language": "zh",
                  "datePublished": _moment(outcome.decided_at, tz)}


def _last_change(call: Any, read: _Read) -> datetime:
    """When the release last changed, from every moment it tells: a new moment makes a new release id,
    so a reader sees what changed (a term amended, a milestone met, money paid out, an award reopened,
    an evaluation decided)."""
    moments = [call["published_at"], call["cancelled_at"], call["failed_at"]]
    moments += [changed_at for _, changed_at, _ in call["amendments"]]
    moments += [m for a in read.awards[call["id"]] for m in (a["awarded_at"], a["reopened_at"])]
    for k in read.contracts[call["id"]]:
        moments += [k["created_at"], k["buyer_signed_at"], k["provider_signed_at"], k["ended_at"]]
        moments += [m["accepted_at"] for m in read.milestones[k["id"]]]
        moments += [t["created_at"] for t in read.transactions[k["id"]]]
        moments += [o.decided_at for o in read.evaluations.get(k["id"], {}).values() if o.outcome is not None]
    return max(m for m in moments if m is not None)


def _document(settings: Settings, id_: str, kind: str, path: str, published: datetime, tz: str) -> dict[str, Any]:
    """A public page or file of the product that is this document: the call's page for its notice, the
    signed contract's PDF."""
    out: dict[str, Any] = {"id": id_, "documentType": kind}
    _bilingual(out, "title", *_both(DOCUMENT_TITLES[kind]))
    return out | {"url": f"{settings.base_url}{path}", "language": "zh",
                  "format": "application/pdf" if path.endswith("/pdf") else "text/html",
                  "datePublished": _moment(published, tz)}


def _planning(call: Any) -> dict[str, Any]:
    """The project the call buys for (立项): its budget and where the money comes from, and the residents'
    needs it was made from (居民需求服务项目化)."""
    budget: dict[str, Any] = {"id": f"project-{call['project_id']}", "description": call["budget_line"],
                              "amount": _money(call["budget_fen"]), "projectID": f"project-{call['project_id']}"}
    _bilingual(budget, "project", call["project_title"], call["project_title_en"])
    planning: dict[str, Any] = {"budget": budget}
    if call["needs"]:
        rationale = N_("Residents' needs it was made from: %(needs)s; their supporters: %(people)s.")
        _bilingual(planning, "rationale", *_both(rationale, needs=call["needs"], people=call["supporters"]))
    return planning


def _milestone(m: Any, now: datetime, tz: str) -> dict[str, Any]:
    met = m["accepted_at"]
    out: dict[str, Any] = {"id": str(m["position"])}
    _bilingual(out, "title", m["title"], STANDARD_TITLES.get(m["title"]))  # the product's standard ones, in English
    out |= {"type": MILESTONE_TYPES[m["kind"]], "dueDate": _moment(m["due_date"], tz),
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
    """A release package of these calls' compiled releases, dated by the last change to them (a package
    made on demand is dated so, OCDS says: the same package read twice is the same)."""
    found = await releases(conn, settings, call_ids)
    return envelope(settings, uri) | {"publishedDate": latest(settings, [r["date"] for r in found]), "releases": found}


def envelope(settings: Settings, uri: str) -> dict[str, Any]:
    """What a release package says of itself besides its releases and its date."""
    return {"uri": uri, "version": VERSION,
            "publisher": {"name": "公益服务市场 · Public Service Market", "uri": settings.base_url},
            "license": LICENSE}


def latest(settings: Settings, dates: list[str]) -> str:
    """A package's publishedDate: the last change to the releases it holds (now, if it holds none)."""
    if not dates:
        return _moment(clock.now(), settings.timezone) or ""
    return max(dates, key=datetime.fromisoformat)


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
