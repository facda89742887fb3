"""Funds (基金) and their matching rounds (配捐).

A fund is a pool run by a foundation, an enterprise or the bureau: pledges to it are paid into the
fund's ledger account, and its owner allocates them to projects (`pledges.allocate`). A fund may
match gifts: the projects taking part are chosen by the owner, and while the round's window is
open, every confirmed pledge a funder other than the owner makes to one of them is a gift the pool
matches, by a ratio or by quadratic funding (`market.funding.funds.arithmetic`, which is the arithmetic).

Until the round closes, every page shows the matches the gifts so far would get from what is in
the pool now. Closing the round computes them once more, stores the inputs and the result (so
anyone can recompute them), and pays each project its match from the fund in one ledger
transaction. A fund runs one round; it cannot close twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import clock, keyset
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_
from market.funding.funds import arithmetic as matching
from market.funding.funds.arithmetic import (
    Gift,
    QuadraticResult,
    RatioResult,
    RatioRules,
)
from market.funding.funds.models import (
    ROUND_STATE_NAMES,
    ROUND_STATES,
    Explanation,
    Fund,
    FundDashboard,
    FundDetail,
    FundInput,
    FundProject,
    FundView,
    GiftMatch,
    MonthFlow,
    PledgeToAllocate,
    PoolPreview,
    ProjectMatch,
)
from market.funding.ledger import services as ledger
from market.funding.pledges import services as pledges
from market.procurement.needs import services as needs
from market.workflow import Transition, machine, step

# How many approved projects the fund page offers to add to a round.
PROJECT_CHOICES = 20
OWNER_KINDS = ("funder", "buyer")
# Setting a fund up is the owner's administrators' and staff's; paying out of it is for those who
# confirm and allocate its money.
SETUP_ROLES = ("admin", "staff")
MONEY_ROLES = pledges.RECEIVER_ROLES
OWNER = "owner"
# A fund's matching round, whose stage follows from its window and whether it has been closed
# (round_state). Its owner sets it up until the round closes; closing pays the matches, once the
# round has opened. A fund without matching is set up the same way and has nothing to close.
_SETUP = ("no_matching", "upcoming", "open", "ended")
FUND = machine("fund", ROUND_STATES, [
    *[("change", s, s, OWNER, Verb.FUND_UPDATE) for s in _SETUP],
    *[("add_project", s, s, OWNER, Verb.FUND_PROJECT_ADD) for s in _SETUP],
    *[("remove_project", s, s, OWNER, Verb.FUND_PROJECT_REMOVE) for s in _SETUP],
    ("close", "open", "closed", OWNER, Verb.MATCHING_CLOSE),
    ("close", "ended", "closed", OWNER, Verb.MATCHING_CLOSE),
], action_names={"change": N_("change the fund"), "add_project": N_("add a project"),
                 "remove_project": N_("take a project out"), "close": N_("close the round and pay the matches")},
   status_names=ROUND_STATE_NAMES)
# A pledge counts once its money has arrived, and for as long as it has not gone back.
CONFIRMED = ("paid", "allocated", "disbursed")
RULES = {"ratio": ("ratio_num", "ratio_den", "min_gift_fen", "per_donor_cap_fen", "per_project_cap_fen"),
         "quadratic": ("per_project_cap_fen",), "none": ()}
# Someone who has not given to any pool: no organisation has id 0.
NEW_DONOR = 0

Result = RatioResult | QuadraticResult

_FUND_COLUMNS = """f.*, o.name_zh as owner_name_zh, o.name_en as owner_name_en,
           coalesce(a.balance_fen, 0) as balance_fen, r.id as run_id"""
_FUND_FROM = """funds f join organisations o on o.id = f.owner_id
      left join ledger_accounts a on a.kind = 'fund' and a.fund_id = f.id and a.currency = 'CNY'
      left join matching_runs r on r.fund_id = f.id"""
_FUND_VIEW = f"select {_FUND_COLUMNS} from {_FUND_FROM}"
# The newest fund first, on the primary key.
_FUNDS_ORDER = keyset.Keyset((keyset.Column("f.id", "id", int),))


def _now() -> datetime:
    return clock.now()


def round_state(row: Any) -> str:
    now = _now()
    if row["matching"] == "none":
        return "no_matching"
    if row["run_id"] is not None:
        return "closed"
    if now < row["opens_at"]:
        return "upcoming"
    return "open" if now < row["closes_at"] else "ended"


def _fund(row: Any) -> Fund:
    return Fund(**{k: row[k] for k in Fund.__struct_fields__ if k != "state"}, state=round_state(row))


async def _row(conn: asyncpg.Connection, fund_id: int) -> Any:
    row = await conn.fetchrow(_FUND_VIEW + " where f.id = $1", fund_id)
    if row is None:
        raise NotFound()
    return row


async def get_fund(conn: asyncpg.Connection, fund_id: int) -> Fund:
    return _fund(await _row(conn, fund_id))


async def list_funds(conn: asyncpg.Connection, *, cursor: str | None = None,
                     limit: int = 50) -> tuple[list[Fund], keyset.Window]:
    """A page of the funds, the newest first, and the way on (market.core.keyset)."""
    window = await keyset.fetch(conn, select=_FUND_COLUMNS, from_=_FUND_FROM, filters=keyset.Filters(),
                                keyset=_FUNDS_ORDER, cursor=cursor, limit=limit, count_from="funds f")
    return [_fund(r) for r in window.rows], window


def owns(identity: Identity | None, fund: Fund | Any, roles: tuple[str, ...] = SETUP_ROLES) -> bool:
    owner = fund.owner_id if isinstance(fund, Fund) else fund["owner_id"]
    return (identity is not None and identity.acts_for_verified and identity.org_id == owner
            and identity.role in roles)


def require_owner(identity: Identity | None, fund: Fund | Any, roles: tuple[str, ...] = SETUP_ROLES) -> None:
    if owns(identity, fund, roles):
        return
    if roles == SETUP_ROLES:
        raise Forbidden("Only the fund's administrators and staff change it.")
    raise Forbidden("Only the fund's administrators and finance staff pay out of it.")


async def _own(conn: asyncpg.Connection, identity: Identity, fund_id: int, roles: tuple[str, ...]) -> Any:
    """The fund, locked against a concurrent change or close, for its owner to change."""
    row = await conn.fetchrow(_FUND_VIEW + " where f.id = $1 for update of f", fund_id)
    if row is None:
        raise NotFound()
    require_owner(identity, row, roles)
    return row


def _columns(data: FundInput) -> dict[str, Any]:
    """The fund's columns from what was entered; every problem at once. Rules the chosen matching
    does not use are not kept."""
    errors: list[Invalid] = []
    name_zh = data.name_zh.strip()
    if len(name_zh) < 2:
        errors.append(Invalid("This is too short: at least %(n)s characters.", field="name_zh", n=2))
    kept = RULES[data.matching]
    if data.matching == "ratio" and (data.ratio_num is None or data.ratio_den is None):
        errors.append(Invalid("Ratio matching needs both numbers: how much the pool adds for how much given.",
                              field="ratio_num"))
    if data.matching != "none":
        if data.opens_at is None or data.closes_at is None:
            errors.append(Invalid("A matching round needs the time it opens and the time it closes.",
                                  field="opens_at"))
        elif data.opens_at.tzinfo is None or data.closes_at.tzinfo is None:
            errors.append(Invalid("Give the time with its time zone.", field="opens_at"))
        elif data.closes_at <= data.opens_at:
            errors.append(Invalid("The round must close after it opens.", field="closes_at"))
    if errors:
        raise InvalidFields(errors)
    matches = data.matching != "none"
    return {"name_zh": name_zh, "name_en": data.name_en.strip(), "description": data.description.strip(),
            "matching": data.matching,
            **{k: getattr(data, k) if k in kept else None
               for k in ("ratio_num", "ratio_den", "per_donor_cap_fen", "per_project_cap_fen")},
            "min_gift_fen": data.min_gift_fen if "min_gift_fen" in kept else 0,
            "opens_at": data.opens_at if matches else None, "closes_at": data.closes_at if matches else None}


async def create_fund(conn: asyncpg.Connection, identity: Identity, data: FundInput) -> int:
    if not (identity.acts_for_verified and identity.org_kind in OWNER_KINDS and identity.role in SETUP_ROLES):
        raise Forbidden("Funds are set up by the administrators and staff of verified funders and buyers.")
    columns = _columns(data)
    fund_id = await conn.fetchval(
        f"insert into funds ({', '.join(columns)}, owner_id, created_by) "
        f"values ({', '.join(f'${i}' for i in range(1, len(columns) + 3))}) returning id",
        *columns.values(), identity.org_id, identity.user_id)
    await audit.record(conn, verb=Verb.FUND_CREATE, object_type="fund", object_id=fund_id, actor=identity.user_id,
                       organisation=identity.org_id, after=columns)
    return fund_id


async def update_fund(conn: asyncpg.Connection, identity: Identity, fund_id: int, data: FundInput) -> None:
    row = await _own(conn, identity, fund_id, SETUP_ROLES)
    columns = _columns(data)

    async def write(_: Transition) -> None:
        sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(columns, start=2))
        await conn.execute(f"update funds set {sets}, updated_at = market_now() where id = $1", fund_id,
                           *columns.values())

    await step(conn, FUND, "change", round_state(row), object_id=fund_id, capacities={OWNER}, actor=identity.user_id,
               organisation=identity.org_id, write=write, before={k: row[k] for k in columns}, after=columns)


async def add_project(conn: asyncpg.Connection, identity: Identity, fund_id: int, project_id: int) -> None:
    row = await _own(conn, identity, fund_id, SETUP_ROLES)

    async def write(_: Transition) -> None:
        if await conn.fetchval("select status from projects where id = $1", project_id) != "approved":
            raise InvalidFields([Invalid("Choose an approved project.", field="project_id")])
        if not await conn.fetchval("insert into fund_projects (fund_id, project_id, added_by) values ($1, $2, $3) "
                                   "on conflict do nothing returning true", fund_id, project_id, identity.user_id):
            raise Conflict("The project takes part in this fund already.")

    await step(conn, FUND, "add_project", round_state(row), object_id=fund_id, capacities={OWNER},
               actor=identity.user_id, organisation=identity.org_id, write=write, after={"project_id": project_id})


async def remove_project(conn: asyncpg.Connection, identity: Identity, fund_id: int, project_id: int) -> None:
    row = await _own(conn, identity, fund_id, SETUP_ROLES)

    async def write(_: Transition) -> None:
        if not await conn.fetchval("delete from fund_projects where fund_id = $1 and project_id = $2 returning true",
                                   fund_id, project_id):
            raise NotFound()

    await step(conn, FUND, "remove_project", round_state(row), object_id=fund_id, capacities={OWNER},
               actor=identity.user_id, organisation=identity.org_id, write=write, before={"project_id": project_id})


async def gifts(conn: asyncpg.Connection, fund_id: int, until: datetime | None = None) -> list[Gift]:
    """The gifts the round counts: confirmed pledges to its projects, made while its window is open
    (and before `until`), by funders other than the fund's owner."""
    return [Gift(id=r["id"], donor=r["funder_id"], project=r["project_id"], amount_fen=r["amount_fen"])
            for r in await conn.fetch(
                """select p.id, p.funder_id, p.project_id, p.amount_fen
                     from funds f join fund_projects fp on fp.fund_id = f.id
                     join pledges p on p.project_id = fp.project_id and p.target_type = 'project'
                    where f.id = $1 and p.status = any($2::text[]) and p.funder_id <> f.owner_id
                      and p.created_at >= f.opens_at and p.created_at < least(f.closes_at, $3::timestamptz)
                    order by p.id""", fund_id, list(CONFIRMED), until)]


def _rules(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in RULES[row["matching"]]}


def compute(kind: str, rules: dict[str, Any], gifts: list[Gift], pool_fen: int) -> Result:
    if kind == "ratio":
        return matching.ratio_match(RatioRules(**rules), gifts, pool_fen)
    return matching.quadratic_match(gifts, pool_fen, rules["per_project_cap_fen"])


def project_totals(result: Result) -> dict[int, int]:
    if isinstance(result, RatioResult):
        return result.project_totals
    return {p.project: p.match_fen for p in result.projects}


async def preview(conn: asyncpg.Connection, project_id: int, funder_id: int | None,
                  amount_fen: int) -> list[PoolPreview]:
    """For each matching pool the project takes part in, what a gift of `amount_fen` from this funder
    (None: someone who has not given yet) would add, with the pool as it is now, and why nothing
    where it adds nothing (NO_MATCH_REASONS): a round not open, the owner's own gift, a cut."""
    if type(amount_fen) is not int or not 0 < amount_fen <= 100_000_000_000:
        raise InvalidFields([Invalid("Enter an amount above zero.", field="amount_fen")])
    out = []
    for row in await conn.fetch(_FUND_VIEW + " join fund_projects fp on fp.fund_id = f.id where fp.project_id = $1 "
                                "and f.matching <> 'none' order by f.id", project_id):
        match, reason = 0, None
        if (state := round_state(row)) != "open":
            reason = state
        elif funder_id == row["owner_id"]:
            reason = "owner"
        elif row["matching"] == "ratio":
            found = matching.ratio_preview_match(RatioRules(**_rules(row)), await gifts(conn, row["id"]),
                                                 row["balance_fen"], NEW_DONOR if funder_id is None else funder_id,
                                                 project_id, amount_fen)
            match, reason = found.match_fen, found.reason
        else:
            match = matching.quadratic_preview(await gifts(conn, row["id"]), row["balance_fen"],
                                               row["per_project_cap_fen"], NEW_DONOR if funder_id is None else funder_id,
                                               project_id, amount_fen)
            reason = None if match else matching.POOL_EXHAUSTED if not row["balance_fen"] else "quadratic"
        out.append(PoolPreview(fund_id=row["id"], name_zh=row["name_zh"], name_en=row["name_en"],
                               matching=row["matching"], pool_fen=row["balance_fen"], match_fen=match,
                               reason=None if match else reason))
    return out


async def close_round(conn: asyncpg.Connection, identity: Identity, fund_id: int) -> int:
    """Compute the round's matches from the gifts that count and the pool, store the run, and pay
    each project its match from the fund in one ledger transaction. Returns the run's id."""
    await ledger.serialise(conn)
    row = await _own(conn, identity, fund_id, MONEY_ROLES)
    # What the audit entry records, filled in as the round closes (step writes it after `write`).
    closed: dict[str, Any] = {}

    async def write(_: Transition) -> None:
        # Closing early ends the window now: later pledges do not count.
        window_closes_at = min(row["closes_at"], _now())
        counted = await gifts(conn, fund_id, window_closes_at)
        pool = await ledger.balance(conn, ledger.fund(fund_id))
        rules = _rules(row)
        result = compute(row["matching"], rules, counted, pool)
        totals = {p: m for p, m in project_totals(result).items() if m}
        transaction_id = None
        if totals:
            transaction_id = await ledger.post(
                conn, "matching", [(ledger.fund(fund_id), -sum(totals.values())),
                                   *[(ledger.project(p), m) for p, m in sorted(totals.items())]],
                actor=identity.user_id, memo=f"fund #{fund_id} matching round")
        run_id = await conn.fetchval(
            """insert into matching_runs (fund_id, matching, rules, gifts, pool_fen, window_opens_at, window_closes_at,
                                          result, total_match_fen, transaction_id, closed_by)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning id""",
            fund_id, row["matching"], rules, msgspec.to_builtins(counted), pool, row["opens_at"], window_closes_at,
            msgspec.to_builtins(result), sum(totals.values()), transaction_id, identity.user_id)
        closed.update(run_id=run_id, pool_fen=pool, gifts=len(counted), total_match_fen=sum(totals.values()),
                      transaction_id=transaction_id)

    await step(conn, FUND, "close", round_state(row), object_id=fund_id, capacities={OWNER}, actor=identity.user_id,
               organisation=identity.org_id, write=write, after=closed)
    return int(closed["run_id"])


async def recompute(conn: asyncpg.Connection, fund_id: int) -> tuple[Result, Result] | None:
    """A closed round's stored result and the result computed again from its stored inputs (they
    are equal unless something was tampered with); None while the round is not closed."""
    run = await conn.fetchrow("select * from matching_runs where fund_id = $1", fund_id)
    if run is None:
        return None
    kind: type[Result] = RatioResult if run["matching"] == "ratio" else QuadraticResult
    stored = msgspec.convert(run["result"], kind, strict=False)
    again = compute(run["matching"], run["rules"], msgspec.convert(run["gifts"], list[Gift]), run["pool_fen"])
    return stored, again


async def explain(conn: asyncpg.Connection, fund_id: int) -> Explanation | None:
    """Each participating project's match and why: live from the gifts so far and the pool as it
    is, until the round closes; from the stored run after. None for a fund that does not match."""
    row = await _row(conn, fund_id)
    if row["matching"] == "none":
        return None
    run = await conn.fetchrow("select * from matching_runs where fund_id = $1", fund_id)
    verified = None
    if run is not None:
        stored, again = await recompute(conn, fund_id)  # type: ignore[misc]
        result: Result = stored
        verified = stored == again
        counted = msgspec.convert(run["gifts"], list[Gift])
        pool = run["pool_fen"]
    else:
        counted = await gifts(conn, fund_id)
        pool = row["balance_fen"]
        result = compute(row["matching"], _rules(row), counted, pool)
    projects = {r["id"]: r for r in await conn.fetch(
        "select id, title_zh, title_en from projects where id = any($1::bigint[]) "
        "or id in (select project_id from fund_projects where fund_id = $2) order by id",
        [g.project for g in counted], fund_id)}
    contributed: dict[int, int] = {}
    for g in counted:
        contributed[g.project] = contributed.get(g.project, 0) + g.amount_fen
    lines: dict[int, list[GiftMatch]] = {p: [] for p in projects}
    working: dict[int, dict[str, Any]] = {}
    if isinstance(result, RatioResult):
        donors = {r["id"]: r for r in await conn.fetch(
            "select id, name_zh, name_en from organisations where id = any($1::bigint[])",
            [m.donor for m in result.matches])}
        for m in result.matches:
            lines[m.project].append(GiftMatch(
                pledge_id=m.gift_id, funder_id=m.donor, funder_name_zh=donors[m.donor]["name_zh"],
                funder_name_en=donors[m.donor]["name_en"], amount_fen=m.amount_fen, ratio_fen=m.ratio_fen,
                match_fen=m.match_fen, reason=m.reason))
    else:
        working = {p.project: {"donors": p.donors, "sqrt_sum": p.sqrt_sum, "ideal": p.ideal, "k": p.k,
                               "capped": p.capped} for p in result.projects}
    totals = project_totals(result)
    return Explanation(
        fund_id=fund_id, matching=row["matching"], closed=run is not None, verified=verified, pool_fen=pool,
        total_match_fen=result.total_match_fen, k=result.k if isinstance(result, QuadraticResult) else None,
        run_id=run["id"] if run else None, transaction_id=run["transaction_id"] if run else None,
        projects=[ProjectMatch(project_id=p, title_zh=r["title_zh"], title_en=r["title_en"],
                               contributed_fen=contributed.get(p, 0), match_fen=totals.get(p, 0), gifts=lines[p],
                               **working.get(p, {})) for p, r in projects.items()])


async def fund_projects(conn: asyncpg.Connection, fund_id: int, explanation: Explanation | None) -> list[FundProject]:
    matched = {p.project_id: p.match_fen for p in explanation.projects} if explanation else {}
    return [FundProject(match_fen=matched.get(r["project_id"], 0), **r) for r in await conn.fetch(
        """select fp.project_id, pr.title_zh, pr.title_en,
                  (select coalesce(sum(amount_fen), 0) from pledges
                    where project_id = fp.project_id and status = any($2::text[]))::bigint as raised_fen,
                  (select coalesce(sum(amount_fen), 0) from pledges
                    where fund_id = $1 and allocated_project_id = fp.project_id
                      and status in ('allocated', 'disbursed'))::bigint as allocated_fen
             from fund_projects fp join projects pr on pr.id = fp.project_id
            where fp.fund_id = $1 order by fp.added_at, fp.project_id""", fund_id, list(CONFIRMED))]


def _months(first: str, last: str) -> list[str]:
    """Every month from first to last ('YYYY-MM'), so a quiet month shows as one."""
    year, month = map(int, first.split("-"))
    out = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        out.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


async def dashboard(conn: asyncpg.Connection, fund_id: int, tz: str) -> FundDashboard:
    """The fund's money from its ledger account, by month in the time zone `tz`."""
    rows = await conn.fetch(
        """select to_char(t.created_at at time zone $2, 'YYYY-MM') as month, t.kind,
                  coalesce(sum(e.amount_fen) filter (where e.amount_fen > 0), 0)::bigint as in_fen,
                  coalesce(-sum(e.amount_fen) filter (where e.amount_fen < 0), 0)::bigint as out_fen
             from ledger_entries e join ledger_transactions t on t.id = e.transaction_id
             join ledger_accounts a on a.id = e.account_id
            where a.kind = 'fund' and a.fund_id = $1
            group by 1, 2 order by 1, 2""", fund_id, tz)
    by_month: dict[str, list[int]] = {}
    out_by_kind: dict[str, int] = {}
    for r in rows:
        flows = by_month.setdefault(r["month"], [0, 0])
        flows[0] += r["in_fen"]
        flows[1] += r["out_fen"]
        if r["out_fen"]:
            out_by_kind[r["kind"]] = out_by_kind.get(r["kind"], 0) + r["out_fen"]
    months, balance = [], 0
    for key in _months(min(by_month), max(by_month)) if by_month else []:
        in_fen, out_fen = by_month.get(key, [0, 0])
        balance += in_fen - out_fen
        months.append(MonthFlow(month=key, in_fen=in_fen, out_fen=out_fen, balance_fen=balance))
    return FundDashboard(in_fen=sum(m.in_fen for m in months), out_fen=sum(m.out_fen for m in months),
                         out_by_kind=out_by_kind, balance_fen=balance, months=months)


async def detail(conn: asyncpg.Connection, fund_id: int, tz: str) -> FundDetail:
    fund = await get_fund(conn, fund_id)
    explanation = await explain(conn, fund_id)
    return FundDetail(fund=fund, projects=await fund_projects(conn, fund_id, explanation), explanation=explanation,
                      dashboard=await dashboard(conn, fund_id, tz))


async def to_allocate(conn: asyncpg.Connection, identity: Identity, fund_id: int) -> list[PledgeToAllocate]:
    """Paid pledges to the fund not yet allocated: the owner's to see and allocate."""
    if not owns(identity, await _row(conn, fund_id), MONEY_ROLES):
        return []
    return [PledgeToAllocate(**dict(r)) for r in await conn.fetch(
        """select p.id, p.amount_fen, p.created_at, o.name_zh, o.name_en from pledges p
             join organisations o on o.id = p.funder_id
            where p.fund_id = $1 and p.status = 'paid' order by p.id""", fund_id)]


async def fund_view(conn: asyncpg.Connection, identity: Identity | None, fund_id: int, tz: str,
                    project_q: str | None = None) -> FundView:
    """The fund page, for anyone; its owner also sees what it may set up and pay out. The approved
    projects it may add are those whose words `project_q` names (a city has tens of thousands), else
    the newest."""
    shown = await detail(conn, fund_id, tz)
    can_setup = owns(identity, shown.fund)
    taking_part = {p.project_id for p in shown.projects}
    query = (project_q or "").strip()[:100] or None
    choices = [p for p in (await needs.project_page(conn, status="approved", q=query, limit=PROJECT_CHOICES,
                                                    counted=False)).items
               if p.id not in taking_part] if can_setup and shown.fund.state != "closed" else []
    return FundView(fund=shown.fund, projects=shown.projects, explanation=shown.explanation,
                    dashboard=shown.dashboard, can_setup=can_setup, can_pay=owns(identity, shown.fund, MONEY_ROLES),
                    project_choices=choices, project_q=query or "",
                    to_allocate=await to_allocate(conn, identity, fund_id) if identity else [])