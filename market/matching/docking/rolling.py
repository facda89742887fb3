"""Rolling docking (滚动对接) for the all-year venture round: fit scoring and the docking solver run
on demand over the projects still waiting for a provider, and a person reviews what they suggest.

A buyer runs it over its own projects that have no call under way, no docking and no place in a
fair still to come; a foundation (a funder) over every such project on the platform. Each run keeps the solver's input and answer,
so a suggestion can be checked again with `market match solve`. The owner pins a provider to a
project or bans a pair, and runs again; the pins and bans stay until changed. Accepting is the
party's own act: the buyer accepts a suggested provider (`dockings.dock`, which publishes it and
tells the suggested funders what the run proposed they give), a foundation pledges the amount the
run suggested it give.
"""

from __future__ import annotations

import asyncio

from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core import i18n
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.funding.pledges import services as pledges
from market.funding.pledges.models import LIVE_PLEDGES, PledgeInput
from market.matching.solver import solve as solver
from market.matching.scoring import bulk_candidates
from market.matching.scoring import candidates
from market.matching.docking import dockings
from market.matching.docking.dockings import Docking, DockingInput
from market.matching.scoring.weights import Weights
from market.notifications import services as notifications

OWNER_KINDS = ("buyer", "funder")
OWNER_ROLES = ("admin", "staff")
# Projects in one run: a district's worth. A foundation's platform-wide run takes the oldest first.
MAX_PROJECTS = 500
TIME_LIMIT_SECONDS = 20.0


class RuleInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: int
    provider_id: int
    rule: Literal["pin", "ban", "clear"]


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    project_id: int
    title_zh: str
    title_en: str
    provider_id: int
    provider_name: str
    rule: str


class SuggestedFunding(msgspec.Struct, frozen=True, kw_only=True):
    funder_id: int
    funder_name: str
    amount_fen: int
    pledged: bool


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    project_id: int
    title_zh: str
    title_en: str
    # The money the project had when the run was made: its budget and the pledges that stood.
    gov_money_fen: int
    provider_id: int | None
    provider_name: str
    price_fen: int
    score: float | None
    funding: list[SuggestedFunding]
    # Where the project stands now: the docking accepted from any run, or gone from the open list.
    docking: Docking | None
    still_open: bool


class Run(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    created_at: datetime
    objective: float
    upper_bound: float
    gap: float
    projects: int
    suggestions: list[Suggestion]
    # Pins the run could not keep, because the pair is no longer eligible.
    pins_left_out: list[int]


class Waiting(msgspec.Struct, frozen=True, kw_only=True):
    project_id: int
    title_zh: str
    title_en: str


class Rolling(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    # The projects this owner's runs cover now.
    waiting: list[Waiting]
    rules: list[Rule]
    run: Run | None


def _owner(identity: Identity) -> int:
    """The owner the person runs rolling docking for, if they may."""
    org = identity.org_id if identity.acts_for_verified else None
    if org is None or identity.org_kind not in OWNER_KINDS or identity.role not in OWNER_ROLES:
        raise Forbidden("Rolling docking is run by the administrators and staff of verified buyers and funders.")
    return org


_OPEN = """
    select p.id, p.title_zh, p.title_en from projects p
     where p.status = 'approved' and ($1::bigint is null or p.buyer_id = $1)
       and not exists (select 1 from calls c where c.project_id = p.id and c.cancelled_at is null and c.failed_at is null)
       and not exists (select 1 from fair_items i join fairs f on f.id = i.fair_id
                        where i.project_id = p.id and f.status <> 'closed')
     order by p.id limit $2"""


async def _waiting(conn: asyncpg.Connection, identity: Identity) -> list[Any]:
    buyer = identity.org_id if identity.org_kind == "buyer" else None
    return await conn.fetch(_OPEN, buyer, MAX_PROJECTS)


async def open_projects(conn: asyncpg.Connection, identity: Identity) -> list[int]:
    """The projects waiting for a provider that this owner's runs cover."""
    return [r["id"] for r in await _waiting(conn, identity)]


async def _rules(conn: asyncpg.Connection, owner_id: int) -> list[Any]:
    return await conn.fetch(
        """select r.*, o.name_zh, o.name_en, p.title_zh, p.title_en from docking_rules r
             join organisations o on o.id = r.provider_id join projects p on p.id = r.project_id
            where r.owner_id = $1 order by r.project_id, r.provider_id""", owner_id)


async def run(conn: asyncpg.Connection, identity: Identity, weights: Weights,
              time_limit: float = TIME_LIMIT_SECONDS) -> int:
    """Score the open projects, solve, and keep the run. Returns its id."""
    owner = _owner(identity)
    projects = await open_projects(conn, identity)
    if not projects:
        raise Conflict("No project is waiting for a provider: every approved project has a call or a docking.")
    rules = await _rules(conn, owner)
    pins = {r["project_id"]: r["provider_id"] for r in rules if r["rule"] == "pin"}
    bans = frozenset((r["project_id"], r["provider_id"]) for r in rules if r["rule"] == "ban")
    # The same candidates as `candidates.build`, computed for all projects at once (see bulk_candidates).
    found = await bulk_candidates.build(conn, projects, weights, pins=pins, bans=bans)
    instance = candidates.to_instance(found, pins=pins, bans=bans)
    kept = {need for need, _provider in instance["pinned"]}
    left_out = sorted(set(pins) & set(projects) - kept)
    # In a thread of its own: solving takes seconds (up to the limit) of pure computing, and on the
    # event loop every other request to this app process waited for it. Beside a district fair's solve
    # in a thread (1.9 s), a loop went on turning, its gaps 6 ms at the 99th percentile.
    result = await asyncio.to_thread(solver.solve, msgspec.convert(instance, solver.Instance), time_limit)
    answer = {**msgspec.to_builtins(result), "pins_left_out": left_out}
    run_id = await conn.fetchval(
        "insert into docking_runs (owner_id, created_by, instance, result, objective, upper_bound, gap) "
        "values ($1, $2, $3, $4, $5, $6, $7) returning id", identity.org_id, identity.user_id, instance, answer,
        result.objective, result.upper_bound, result.gap)
    await audit.record(conn, verb=Verb.DOCKING_RUN, object_type="docking_run", object_id=run_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"projects": len(projects), "assignments": len(result.assignments),
                              "objective": result.objective, "gap": result.gap})
    return run_id


async def set_rule(conn: asyncpg.Connection, identity: Identity, data: RuleInput, weights: Weights) -> None:
    """Pin a provider to one of the owner's open projects, ban the pair, or clear what was set."""
    _owner(identity)
    if data.project_id not in await open_projects(conn, identity):
        raise InvalidFields([Invalid("Choose a project waiting for a provider.", field="project_id")])
    before = await conn.fetchval("select rule from docking_rules where owner_id = $1 and project_id = $2 "
                                 "and provider_id = $3", identity.org_id, data.project_id, data.provider_id)
    if data.rule == "pin":
        await dockings.eligible(conn, data.project_id, data.provider_id, weights)
    elif data.rule == "ban" and not await conn.fetchval(
            "select 1 from organisations where id = $1 and kind = 'provider'", data.provider_id):
        raise InvalidFields([Invalid("Choose a verified social organisation.", field="provider_id")])
    await conn.execute("delete from docking_rules where owner_id = $1 and project_id = $2 and "
                       "(provider_id = $3 or (rule = 'pin' and $4 = 'pin'))", identity.org_id, data.project_id,
                       data.provider_id, data.rule)
    if data.rule != "clear":
        await conn.execute("insert into docking_rules (owner_id, project_id, provider_id, rule, set_by) "
                           "values ($1, $2, $3, $4, $5)", identity.org_id, data.project_id, data.provider_id,
                           data.rule, identity.user_id)
    await audit.record(conn, verb=Verb.DOCKING_RULE, object_type="project", object_id=data.project_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"provider_id": data.provider_id, "rule": before},
                       after={"provider_id": data.provider_id, "rule": None if data.rule == "clear" else data.rule})


async def _run_row(conn: asyncpg.Connection, identity: Identity, run_id: int | None) -> Any:
    if run_id is None:
        return await conn.fetchrow("select * from docking_runs where owner_id = $1 order by id desc limit 1",
                                   identity.org_id)
    row = await conn.fetchrow("select * from docking_runs where id = $1 and owner_id = $2", run_id, identity.org_id)
    if row is None:
        raise NotFound()
    return row


def _name(row: Any) -> str:
    return row["name_en"] if i18n.current_locale.get() == "en" and row["name_en"] else row["name_zh"]


async def _suggestions(conn: asyncpg.Connection, row: Any, still: set[int]) -> Run:
    """A run's suggestions, each with where its project stands now (`still` waiting, or docked)."""
    instance, result = row["instance"], row["result"]
    need_ids = [n["id"] for n in instance["needs"]]
    money = {n["id"]: n["gov_money"] for n in instance["needs"]}
    projects = {r["id"]: r for r in await conn.fetch(
        "select id, title_zh, title_en from projects where id = any($1)", need_ids)}
    provider_of = {a["need"]: a["provider"] for a in result["assignments"]}
    edges = {(e["need"], e["provider"]): e for e in instance["provider_edges"]}
    funding: dict[int, list[Any]] = {}
    for f in result["funding"]:
        funding.setdefault(f["need"], []).append(f)
    orgs = {r["id"]: r for r in await conn.fetch(
        "select id, name_zh, name_en from organisations where id = any($1)",
        list(provider_of.values()) + [f["funder"] for f in result["funding"]])}
    pledged = {(r["project_id"], r["funder_id"]) for r in await conn.fetch(
        f"select project_id, funder_id from pledges where project_id = any($1) and {LIVE_PLEDGES}",
        need_ids)}
    docked = await dockings.of_projects(conn, need_ids)
    out = []
    for need in need_ids:
        provider = provider_of.get(need)
        edge = edges.get((need, provider), {})
        out.append(Suggestion(
            project_id=need, title_zh=projects[need]["title_zh"], title_en=projects[need]["title_en"],
            gov_money_fen=money[need], provider_id=provider,
            provider_name=_name(orgs[provider]) if provider is not None else "",
            price_fen=edge.get("price", 0), score=edge.get("value"),
            funding=[SuggestedFunding(funder_id=f["funder"], funder_name=_name(orgs[f["funder"]]),
                                      amount_fen=f["amount"], pledged=(need, f["funder"]) in pledged)
                     for f in sorted(funding.get(need, []), key=lambda f: (-f["amount"], f["funder"]))],
            docking=docked.get(need), still_open=need in still))
    return Run(id=row["id"], created_at=row["created_at"], objective=row["objective"],
               upper_bound=row["upper_bound"], gap=row["gap"], projects=len(need_ids), suggestions=out,
               pins_left_out=result.get("pins_left_out", []))


async def view(conn: asyncpg.Connection, identity: Identity, run_id: int | None = None) -> Rolling:
    """The owner's open projects, pins and bans, and a run's suggestions (the latest by default)."""
    owner = _owner(identity)
    row = await _run_row(conn, identity, run_id)
    waiting = await _waiting(conn, identity)
    return Rolling(kind=identity.org_kind or "",
                   waiting=[Waiting(project_id=r["id"], title_zh=r["title_zh"], title_en=r["title_en"])
                            for r in waiting],
                   rules=[Rule(project_id=r["project_id"], title_zh=r["title_zh"], title_en=r["title_en"],
                               provider_id=r["provider_id"], provider_name=_name(r), rule=r["rule"])
                          for r in await _rules(conn, owner)],
                   run=await _suggestions(conn, row, {r["id"] for r in waiting}) if row else None)


async def instance(conn: asyncpg.Connection, identity: Identity, run_id: int) -> dict[str, Any]:
    """A run's input to the solver, in the format `market match solve` reads."""
    _owner(identity)
    return (await _run_row(conn, identity, run_id))["instance"]


async def suggestion(conn: asyncpg.Connection, identity: Identity, run_id: int, project_id: int) -> Suggestion:
    """What one of the owner's runs suggested for a project."""
    _owner(identity)
    found = await _suggestions(conn, await _run_row(conn, identity, run_id),
                               set(await open_projects(conn, identity)))
    found_one = next((s for s in found.suggestions if s.project_id == project_id), None)
    if found_one is None:
        raise NotFound()
    return found_one


async def accept(conn: asyncpg.Connection, identity: Identity, run_id: int, project_id: int, data: DockingInput,
                 weights: Weights, tz: str = "Asia/Shanghai") -> int:
    """The buyer accepts a run's provider for a project: the docking is published (see
    `dockings.dock`) and each funder the run suggested is told how much. Returns the call's id."""
    if identity.org_kind != "buyer":
        raise Forbidden("Only the administrators and staff of the project's buyer accept a docking: the contract is "
                        "theirs to sign.")
    suggested = await suggestion(conn, identity, run_id, project_id)
    if suggested.provider_id is None:
        raise Conflict("The run suggested no provider for this project.")
    call_id = await dockings.dock(conn, identity, project_id, suggested.provider_id, data, weights, run_id=run_id,
                                  tz=tz)
    for f in suggested.funding:
        await notifications.notify(
            conn, await notifications.members_of(conn, [f.funder_id], ("admin", "staff", "finance")),
            "funding_suggested", f"/pledges/new?target_type=project&target_id={project_id}"
                                 f"&amount_fen={f.amount_fen}", **notifications.titled(suggested),
            amount=i18n.format_money(f.amount_fen))
    return call_id


async def pledge(conn: asyncpg.Connection, identity: Identity, run_id: int, project_id: int) -> int:
    """A foundation gives what its own run suggested it give to a project. Returns the pledge's id."""
    if identity.org_kind != "funder":
        raise Forbidden("Pledges are made by verified funders.")
    suggested = await suggestion(conn, identity, run_id, project_id)
    mine = next((f for f in suggested.funding if f.funder_id == identity.org_id), None)
    if mine is None:
        raise Conflict("The run suggested no money from your organisation for this project.")
    if mine.pledged:
        raise Conflict("Your organisation has pledged to this project already.")
    return await pledges.create(conn, identity, PledgeInput(
        target_type="project", target_id=project_id, amount_fen=mine.amount_fen, note=f"滚动对接第{run_id}次测算建议"))
