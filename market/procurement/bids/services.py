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

from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import Msg, format_date, gettext, series
from market.organisations.models import SUBTYPE_NAMES
from market.places.services import ancestors
from market.procurement.bids.models import Bid, BidInput, BudgetLine
from market.procurement.bids.workflow import BIDS
from market.procurement.calls import services as calls
from market.workflow import Transition, step

# With each bid's budget lines (item, fen), read in the same statement: apart, a call's page sent one
# more, for none most often (a visitor reads no bid).
_BIDS_OF_CALL = """select b.*, o.name_zh as provider_name_zh, o.name_en as provider_name_en,
       array(select row(l.item, l.amount_fen) from bid_budget_lines l where l.bid_id = b.id order by l.position)
         as lines
  from bids b join organisations o on o.id = b.provider_id
 where b.call_id = $1 order by b.submitted_at, b.id"""
_BID_OF_PROVIDER = """select * from bids where call_id = $1 and provider_id = $2 and batch_id is null for update"""
_CALL = """select * from calls where id = $1"""
_CALL_FOR_UPDATE = """select * from calls where id = $1 for update"""
_CONFIRM_BID = """update bids set call_revision = $1 where id = $2"""
_DELETE_LINES = """delete from bid_budget_lines where bid_id = $1"""
# What a bid says, as `submit` gives it: the columns of _INSERT_BID and _REPLACE_BID, in their order.
_VALUES = ("amount_fen", "objectives", "activities", "team", "indicators", "attachments", "call_revision",
           "submitted_by")
_INSERT_BID = """insert into bids (amount_fen, objectives, activities, team, indicators, attachments, call_revision,
                  submitted_by, call_id, provider_id, status)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted')
returning id"""
_INSERT_LINES = """insert into bid_budget_lines (bid_id, position, item, amount_fen) values ($1, $2, $3, $4)"""
_REPLACE_BID = """update bids
   set amount_fen = $1, objectives = $2, activities = $3, team = $4, indicators = $5, attachments = $6,
       call_revision = $7, submitted_by = $8, status = 'submitted', submitted_at = market_now(), withdrawn_at = null
 where id = $9"""
_WITHDRAW_BID = """update bids set status = 'withdrawn', withdrawn_at = market_now() where id = $1"""


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
                           types=series(gettext(SUBTYPE_NAMES[t]) for t in p["types"]),
                           type=Msg(SUBTYPE_NAMES[p["type"]]))
        case "rating":
            return gettext("This call asks for an evaluation rating of at least %(n)sA; yours is %(yours)s.",
                           n=p["n"], yours=f"{p['rating']}A" if p["rating"] else gettext("none"))
        case "years":
            return gettext("This call asks for at least %(n)s full years since registration; yours was "
                           "registered on %(date)s.", n=p["n"], date=format_date(p["registered"]))
    return gettext("This call is for organisations registered in %(district)s; providers from "
                   "other districts may not bid.", district=p["district"])


async def eligibility_problems(conn: asyncpg.Connection, organisation_id: int | None, call: Any) -> list[str]:
    """Every rule of the call the organisation fails, in words it can act on; empty if it may bid. A
    person acting for no organisation (None) is told to act for a verified one."""
    org = await conn.fetchrow("select * from organisations where id = $1", organisation_id)
    if org is None:
        return [_to_bidder(Breach("unverified", {}))]
    project = await conn.fetchrow("select jurisdiction_id from projects where id = $1", call["project_id"])
    district = next(j for j, level in (await ancestors(conn, project["jurisdiction_id"])).items()
                    if level == "district")
    name = await conn.fetchval("select name_zh from jurisdictions where id = $1", district)
    in_district = district in await ancestors(conn, org["jurisdiction_id"])
    today = clock.today()
    problems = [_to_bidder(b) for b in rule_breaches(org, call, in_district=in_district, district=name, today=today)]
    if (bar := await conn.fetchrow(_BARRED, organisation_id, call["catalogue_entry_id"], today)) is not None:
        problems.append(_barred(bar))
    return problems


# The provider's standing (market/delivery/scorecard.py writes it): the bar on the call's catalogue
# item — its code in the catalogue of the buyer that owns it, whatever the year's version — that
# lasts longest, from the evaluation that set it (a story told on a moved clock may come before it).
_BARRED = """
select s.item_code, s.grade, s.barred_until from provider_standing s
  join catalogue_entries e on e.id = $2 join catalogue_versions v on v.id = e.version_id
 where s.organisation_id = $1 and s.catalogue_owner_id = v.buyer_id and s.item_code = e.code
   and s.decided_at <= market_now() and s.barred_until > $3
 order by s.barred_until desc limit 1"""


def _barred(bar: Any) -> str:
    if bar["grade"] is None:
        return gettext("Your organisation may bid for catalogue item %(code)s again from %(date)s: a report on its "
                       "contract for that item was never filed, so that evaluation failed.",
                       code=bar["item_code"], date=format_date(bar["barred_until"]))
    return gettext("Your organisation may bid for catalogue item %(code)s again from %(date)s: a delivery "
                   "evaluation of its contract for that item was graded %(grade)s.",
                   code=bar["item_code"], date=format_date(bar["barred_until"]), grade=bar["grade"])


def opened(call: Any, batched: bool, at: datetime | None = None) -> bool:
    """Whether a bid is open to the buyer: after the call's deadline or, in an all-year round, once it
    is in a review batch. Cancelling a call opens nothing."""
    if call["published_at"] is None:
        return False
    if call["deadline_at"] is None:
        return batched
    return (at or calls.now()) >= call["deadline_at"]


def opened_sql(call: str, bid: str, at: str) -> str:
    """`opened` as an SQL condition on the rows `call` and `bid` (aliases) at `at`, for reading the opened
    bids of many calls in one statement. `at` is a parameter holding `calls.now()`: the process's clock,
    which tests move, not the database's."""
    return (f"({call}.published_at is not null and case when {call}.deadline_at is null "
            f"then {bid}.batch_id is not null else {call}.deadline_at <= {at} end)")


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


def _bid(row: Any, call: Any, lines: list[BudgetLine]) -> Bid:
    return Bid(**{k: row[k] for k in Bid.__struct_fields__ if k not in ("budget_lines", "needs_reconfirmation",
                                                                        "attachments")},
               attachments=[str(a) for a in row["attachments"]], budget_lines=lines,
               needs_reconfirmation=row["status"] == "submitted" and row["call_revision"] < call["revision"])


async def readable_bids(conn: asyncpg.Connection, identity: Identity | None, call_id: int,
                        call: Any = None) -> list[Bid]:
    """The bids of a call this person may read: the one way bids are read, for pages, JSON and counts.
    Others than the bidder see submitted bids only. `call`: its row, if the caller has read it."""
    call = call or await conn.fetchrow(_CALL, call_id)
    if call is None or call["published_at"] is None:
        raise NotFound()
    scored = await bids_i_score(conn, identity, call_id)
    readable = [row for row in await conn.fetch(_BIDS_OF_CALL, call_id)
                if may_read(identity, call, row["provider_id"], row["batch_id"] is not None,
                            scores_it=row["id"] in scored)
                and (row["status"] == "submitted" or (identity is not None and identity.org_id == row["provider_id"]))]
    return [_bid(row, call, [BudgetLine(item=item, amount_fen=fen) for item, fen in row["lines"]]) for row in readable]


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
                       *actions: str) -> tuple[Any, Any, str]:
    """The call and the organisation's bid, locked, and the first of `actions` its state allows."""
    if identity.org_kind != "provider" or not identity.acts_for_verified or identity.role not in ("admin", "staff"):
        raise Forbidden("Bids are made by the administrators and staff of verified social organisations.")
    call = await conn.fetchrow(_CALL_FOR_UPDATE, call_id)
    if call is None or call["published_at"] is None:
        raise NotFound()
    if calls.status_of(call) != "open":
        raise Conflict("The call is closed: bids can no longer be made, changed or withdrawn.")
    row = await conn.fetchrow(_BID_OF_PROVIDER, call_id, identity.org_id)
    state = row["status"] if row else "none"
    action = next((a for a in actions if BIDS.allowed(a, state)), actions[0])
    BIDS.check(action, state, {"bidder"})
    return call, row, action


async def submit(conn: asyncpg.Connection, identity: Identity, call_id: int, data: BidInput) -> int:
    """Submit a bid, or replace a withdrawn or submitted one, until the deadline."""
    call, row, action = await _bidder_step(conn, identity, call_id, "submit", "edit")
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
    # The move was checked in _bidder_step; a new bid's id is known once it is written, so it is written first.
    if row is None:
        bid_id = await conn.fetchval(_INSERT_BID, *(values[c] for c in _VALUES), call_id, identity.org_id)
    else:
        bid_id = row["id"]
        await conn.execute(_REPLACE_BID, *(values[c] for c in _VALUES), bid_id)
    await conn.execute(_DELETE_LINES, bid_id)
    await conn.executemany(_INSERT_LINES, [(bid_id, i, line.item.strip(), line.amount_fen)
                                           for i, line in enumerate(data.budget_lines, start=1)])
    # Sealed: the audit trail says that a bid moved, never what it says.
    await step(conn, BIDS, action, row["status"] if row else "none", object_id=bid_id, capacities={"bidder"},
               actor=identity.user_id, organisation=identity.org_id, after={"call_id": call_id})
    return bid_id


async def withdraw(conn: asyncpg.Connection, identity: Identity, call_id: int) -> None:
    _, row, action = await _bidder_step(conn, identity, call_id, "withdraw")

    async def write(_: Transition) -> None:
        await conn.execute(_WITHDRAW_BID, row["id"])

    await step(conn, BIDS, action, row["status"], object_id=row["id"], capacities={"bidder"},
               actor=identity.user_id, organisation=identity.org_id, write=write, after={"call_id": call_id})


async def confirm(conn: asyncpg.Connection, identity: Identity, call_id: int) -> None:
    """Confirm a bid still stands after the call changed; an unconfirmed bid is not evaluated."""
    call, row, action = await _bidder_step(conn, identity, call_id, "confirm")

    async def write(_: Transition) -> None:
        await conn.execute(_CONFIRM_BID, call["revision"], row["id"])

    await step(conn, BIDS, action, row["status"], object_id=row["id"], capacities={"bidder"},
               actor=identity.user_id, organisation=identity.org_id, write=write,
               after={"call_id": call_id, "call_revision": call["revision"]})


async def public_count(conn: asyncpg.Connection, call_id: int, call: Any = None) -> int | None:
    """How many bids came in, for everyone — once they are opened, and not before. In an all-year
    round, the proposals in review batches so far. `call`: its row, if the caller has read it."""
    call = call or await conn.fetchrow(_CALL, call_id)
    if call is None or not opened(call, batched=True):
        return None
    return await conn.fetchval("select count(*) from bids where call_id = $1 and status = 'submitted' "
                               "and (batch_id is not null or $2)", call_id, call["deadline_at"] is not None)
