"""Bids: submitted by eligible social organisations, sealed until the deadline.

Sealing is enforced here, in `may_read`, and every way of reading a bid — pages, JSON, lists,
counts — goes through `readable_bids`. Before the deadline a bid exists for its bidder alone;
after it, also for the buyer and the platform (and, later, the evaluation panel).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock
from market.core.access import Identity
from market.core.db import fetch, queries
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import Msg, format_date, gettext
from market.organisations.models import SUBTYPE_NAMES
from market.places.services import ancestors
from market.procurement import calls
from market.procurement.models import Bid, BidInput, BidTransition, BudgetLine

BID_TRANSITIONS: tuple[BidTransition, ...] = (
    BidTransition("submit", "none", "submitted", Verb.BID_SUBMIT),
    BidTransition("submit", "withdrawn", "submitted", Verb.BID_SUBMIT),
    BidTransition("edit", "submitted", "submitted", Verb.BID_EDIT),
    BidTransition("withdraw", "submitted", "withdrawn", Verb.BID_WITHDRAW),
    BidTransition("confirm", "submitted", "submitted", Verb.BID_CONFIRM),
)
BID_STATES = ("none", "submitted", "withdrawn")
BID_ACTIONS = ("submit", "edit", "withdraw", "confirm")


def find_step(action: str, source: str) -> BidTransition | None:
    return next((t for t in BID_TRANSITIONS if t.action == action and t.source == source), None)


class Ineligible(Forbidden):
    """The organisation may not bid on this call; `reasons` says which rules it fails."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("Your organisation may not bid on this call: %(reasons)s", reasons="; ".join(reasons))

    def details(self) -> dict[str, object]:
        return {"rules": self.reasons}


class Breach(NamedTuple):
    """One eligibility rule an organisation fails: which rule, and the facts to word it with."""

    rule: Literal["unverified", "provider_type", "rating", "years", "district"]
    params: dict[str, Any]


def full_years(since: date, today: date) -> int:
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


def rule_breaches(org: Mapping[str, Any], rules: Mapping[str, Any], *, in_district: bool, district: str,
                  today: date) -> list[Breach]:
    """The rules of a call — or of a catalogue item, which a call may only tighten — that the
    organisation fails. Pure, so that matching checks thousands of pairs with the same rules that
    bidding does; each caller words the breaches for its reader.

    `rules` has provider_types, min_rating, min_years and cross_district; `in_district` says whether
    the organisation is registered in the district of the project, named `district`."""
    if org["kind"] != "provider" or org["status"] != "verified":
        return [Breach("unverified", {})]
    out = []
    if org["subtype"] not in rules["provider_types"]:
        out.append(Breach("provider_type", {"types": tuple(rules["provider_types"]), "type": org["subtype"]}))
    if rules["min_rating"] and (org["rating"] or 0) < rules["min_rating"]:
        out.append(Breach("rating", {"n": rules["min_rating"], "rating": org["rating"]}))
    if (rules["min_years"] and org["registration_date"] is not None
            and full_years(org["registration_date"], today) < rules["min_years"]):
        out.append(Breach("years", {"n": rules["min_years"], "registered": org["registration_date"]}))
    if not rules["cross_district"] and not in_district:
        out.append(Breach("district", {"district": district}))
    return out


def _to_bidder(breach: Breach) -> str:
    p = breach.params
    match breach.rule:
        case "unverified":
            return gettext("Only verified social organisations may bid.")
        case "provider_type":
            return gettext("This call is for %(types)s; your organisation is a %(type)s.",
                           types="、".join(gettext(SUBTYPE_NAMES[t]) for t in p["types"]),
                           type=Msg(SUBTYPE_NAMES[p["type"]]))
        case "rating":
            return gettext("This call asks for an evaluation rating of at least %(n)sA; yours is %(yours)s.",
                           n=p["n"], yours=f"{p['rating']}A" if p["rating"] else gettext("none"))
        case "years":
            return gettext("This call asks for at least %(n)s full years since registration; yours was "
                           "registered on %(date)s.", n=p["n"], date=format_date(p["registered"]))
    return gettext("This call is for organisations registered in %(district)s; providers from "
                   "other districts may not bid.", district=p["district"])


async def eligibility_problems(conn: asyncpg.Connection, organisation_id: int, call: Any) -> list[str]:
    """Every rule of the call the organisation fails, in words it can act on; empty if it may bid."""
    org = await conn.fetchrow("select * from organisations where id = $1", organisation_id)
    if org is None:
        return [_to_bidder(Breach("unverified", {}))]
    project = await conn.fetchrow("select jurisdiction_id from projects where id = $1", call["project_id"])
    district = next(j for j, level in (await ancestors(conn, project["jurisdiction_id"])).items()
                    if level == "district")
    name = await conn.fetchval("select name_zh from jurisdictions where id = $1", district)
    in_district = district in await ancestors(conn, org["jurisdiction_id"])
    return [_to_bidder(b) for b in rule_breaches(org, call, in_district=in_district, district=name,
                                                 today=clock.today())]


def opened(call: Any, batched: bool, at: datetime | None = None) -> bool:
    """Whether a bid is open to the buyer: after the call's deadline or, in an all-year round, once it
    is in a review batch. Cancelling a call opens nothing."""
    if call["published_at"] is None:
        return False
    if call["deadline_at"] is None:
        return batched
    return (at or calls.now()) >= call["deadline_at"]


def may_read(identity: Identity | None, call: Any, provider_id: int, batched: bool = False,
             at: datetime | None = None, scores_it: bool = False) -> bool:
    """The seal. A bidder always reads its own bid; nobody else reads any bid before it is opened.
    Once opened: the buyer, the platform, and the members of the panel that scores the bid who have
    not declared a conflict with it (`scores_it`)."""
    if identity is None or not identity.acts_for_verified:
        return False
    if identity.org_id == provider_id:
        return True
    if not opened(call, batched, at):
        return False
    return identity.is_platform_admin or identity.org_id == call["buyer_id"] or scores_it


async def bids_i_score(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> set[int]:
    """The bids of a call before a panel (the call's or a review batch's) this person sits on,
    less those they declared a conflict with."""
    if identity is None:
        return set()
    rows = await conn.fetch(
        """select c.candidate_id from panel_members m
             join panels p on p.id = m.panel_id
             join panel_candidates c on c.panel_id = p.id
             left join panel_declarations d on d.panel_id = p.id and d.user_id = m.user_id
                                           and d.candidate_id = c.candidate_id
            where m.user_id = $1 and coalesce(d.conflicted, false) = false
              and ((p.subject_type = 'call' and p.subject_id = $2)
                   or (p.subject_type = 'batch' and p.subject_id in (select id from call_batches where call_id = $2)))""",
        identity.user_id, call_id)
    return {r["candidate_id"] for r in rows}


async def _bid(conn: asyncpg.Connection, row: Any, call: Any) -> Bid:
    lines = [BudgetLine(item=r["item"], amount_fen=r["amount_fen"])
             for r in await fetch(queries.procurement.lines(conn, bid_id=row["id"]))]
    return Bid(**{k: row[k] for k in Bid.__struct_fields__ if k not in ("budget_lines", "needs_reconfirmation",
                                                                        "attachments")},
               attachments=[str(a) for a in row["attachments"]], budget_lines=lines,
               needs_reconfirmation=row["status"] == "submitted" and row["call_revision"] < call["revision"])


async def readable_bids(conn: asyncpg.Connection, identity: Identity | None, call_id: int) -> list[Bid]:
    """The bids of a call this person may read: the one way bids are read, for pages, JSON and counts.
    Others than the bidder see submitted bids only."""
    call = await queries.procurement.call(conn, id=call_id)
    if call is None or call["published_at"] is None:
        raise NotFound()
    out = []
    scored = await bids_i_score(conn, identity, call_id)
    for row in await fetch(queries.procurement.bids_of_call(conn, call_id=call_id)):
        own = identity is not None and identity.org_id == row["provider_id"]
        batched = row["batch_id"] is not None
        if may_read(identity, call, row["provider_id"], batched, scores_it=row["id"] in scored) and (
                own or row["status"] == "submitted"):
            out.append(await _bid(conn, row, call))
    return out


async def get_bid(conn: asyncpg.Connection, identity: Identity | None, bid_id: int) -> Bid:
    call_id = await conn.fetchval("select call_id from bids where id = $1", bid_id)
    found = [b for b in await readable_bids(conn, identity, call_id) if b.id == bid_id] if call_id else []
    if not found:
        raise NotFound()
    return found[0]


async def my_bid(conn: asyncpg.Connection, identity: Identity, call_id: int) -> Bid | None:
    if not identity.acts_for_verified or identity.org_kind != "provider":
        return None
    return next((b for b in await readable_bids(conn, identity, call_id)
                 if b.provider_id == identity.org_id and b.batch_id is None), None)


async def _attachments(conn: asyncpg.Connection, identity: Identity, ids: list[str]) -> list[uuid.UUID]:
    out = []
    for raw in ids:
        try:
            file_id = uuid.UUID(raw)
        except ValueError:
            raise InvalidFields([Invalid("Choose attachments from your organisation's documents.",
                                         field="attachments")]) from None
        owner = await conn.fetchval("select organisation_id from files where id = $1", file_id)
        if owner != identity.org_id:
            raise InvalidFields([Invalid("Choose attachments from your organisation's documents.", field="attachments")])
        out.append(file_id)
    return out


async def _bidder_step(conn: asyncpg.Connection, identity: Identity, call_id: int,
                       *actions: str) -> tuple[Any, Any, BidTransition]:
    """The call and the organisation's bid, locked, and the first of `actions` its state allows."""
    if identity.org_kind != "provider" or not identity.acts_for_verified or identity.role not in ("admin", "staff"):
        raise Forbidden("Bids are made by the administrators and staff of verified social organisations.")
    call = await queries.procurement.call_for_update(conn, id=call_id)
    if call is None or call["published_at"] is None:
        raise NotFound()
    if calls.status_of(call) != "open":
        raise Conflict("The call is closed: bids can no longer be made, changed or withdrawn.")
    row = await queries.procurement.bid_of_provider(conn, call_id=call_id, provider_id=identity.org_id)
    step = next((s for a in actions if (s := find_step(a, row["status"] if row else "none"))), None)
    if step is None:
        raise Conflict("This cannot be done to a bid in its present state.")
    return call, row, step


async def submit(conn: asyncpg.Connection, identity: Identity, call_id: int, data: BidInput) -> int:
    """Submit a bid, or replace a withdrawn or submitted one, until the deadline."""
    call, row, step = await _bidder_step(conn, identity, call_id, "submit", "edit")
    if problems := await eligibility_problems(conn, identity.org_id, call):
        raise Ineligible(problems)
    errors = []
    if data.amount_fen > call["budget_ceiling_fen"]:
        errors.append(Invalid("The bid is above the call's ceiling of %(ceiling)s.", field="amount_fen",
                              ceiling=f"¥{call['budget_ceiling_fen'] / 100:,.2f}"))
    if sum(line.amount_fen for line in data.budget_lines) != data.amount_fen:
        errors.append(Invalid("The budget lines add up to %(total)s, not to the bid amount.", field="budget_lines",
                              total=f"¥{sum(line.amount_fen for line in data.budget_lines) / 100:,.2f}"))
    if errors:
        raise InvalidFields(errors)
    attachments = await _attachments(conn, identity, data.attachments)
    values = {"amount_fen": data.amount_fen, "objectives": data.objectives.strip(),
              "activities": data.activities.strip(), "team": data.team.strip(),
              "indicators": msgspec.to_builtins(data.indicators), "attachments": attachments,
              "call_revision": call["revision"], "submitted_by": identity.user_id}
    if row is None:
        bid_id = await queries.procurement.insert_bid(conn, call_id=call_id, provider_id=identity.org_id, **values)
    else:
        bid_id = row["id"]
        await queries.procurement.replace_bid(conn, id=bid_id, **values)
    await queries.procurement.delete_lines(conn, bid_id=bid_id)
    await queries.procurement.insert_lines(conn, [{"bid_id": bid_id, "position": i, "item": line.item.strip(),
                                                   "amount_fen": line.amount_fen}
                                                  for i, line in enumerate(data.budget_lines, start=1)])
    # Sealed: the audit trail says that a bid moved, never what it says.
    await audit.record(conn, verb=Verb(step.verb), object_type="bid", object_id=bid_id, actor=identity.user_id,
                       organisation=identity.org_id, after={"call_id": call_id, "status": "submitted"})
    return bid_id


async def withdraw(conn: asyncpg.Connection, identity: Identity, call_id: int) -> None:
    _, row, step = await _bidder_step(conn, identity, call_id, "withdraw")
    await queries.procurement.withdraw_bid(conn, id=row["id"])
    await audit.record(conn, verb=Verb(step.verb), object_type="bid", object_id=row["id"], actor=identity.user_id,
                       organisation=identity.org_id, after={"call_id": call_id, "status": "withdrawn"})


async def confirm(conn: asyncpg.Connection, identity: Identity, call_id: int) -> None:
    """Confirm a bid still stands after the call changed; an unconfirmed bid is not evaluated."""
    call, row, step = await _bidder_step(conn, identity, call_id, "confirm")
    await queries.procurement.confirm_bid(conn, id=row["id"], call_revision=call["revision"])
    await audit.record(conn, verb=Verb(step.verb), object_type="bid", object_id=row["id"], actor=identity.user_id,
                       organisation=identity.org_id, after={"call_id": call_id, "call_revision": call["revision"]})



async def public_count(conn: asyncpg.Connection, call_id: int) -> int | None:
    """How many bids came in, for everyone — once they are opened, and not before. In an all-year
    round, the proposals in review batches so far."""
    call = await queries.procurement.call(conn, id=call_id)
    if call is None or not opened(call, batched=True):
        return None
    return await conn.fetchval("select count(*) from bids where call_id = $1 and status = 'submitted' "
                               "and (batch_id is not null or $2)", call_id, call["deadline_at"] is not None)
