"""The city-wide rolling docking run (`market match run --platform`): every project on the platform
still waiting for a provider, scored (`bulk_candidates`), solved and kept as a docking run of the
platform organisation, with the time each stage took.

It is not a web request: at city scale it takes a minute or two (the solver alone is given
`TIME_LIMIT_SECONDS`), and its suggestions run to tens of thousands of rows, more than a page shows.
The `/docking` page keeps its interactive run over at most `rolling.MAX_PROJECTS` projects.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core.errors import Conflict
from market.matching import bulk_candidates, candidates, rolling, solver
from market.matching.weights import Weights

# Leaves the rest of the two minutes a city run is allowed for scoring and storing.
TIME_LIMIT_SECONDS = 60.0
STAGES = ("candidates", "instance", "solve", "store")


class Report(msgspec.Struct, frozen=True, kw_only=True):
    run_id: int
    projects: int
    provider_edges: int
    funder_edges: int
    assignments: int
    objective: float
    upper_bound: float
    gap: float
    seconds: dict[str, float]
    # Within "candidates": reading the facts, the providers' pairs, the funders' pairs.
    candidate_seconds: dict[str, float]
    # getrusage's ru_maxrss of this process, in MiB: the peak of the whole process so far.
    peak_mib: float


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def platform_owner(conn: asyncpg.Connection, email: str | None = None) -> tuple[int, int]:
    """(platform organisation, administrator) a city run is kept under: the administrator with this
    email, or the first one."""
    row = await conn.fetchrow(
        """select m.organisation_id, m.user_id from memberships m join organisations o on o.id = m.organisation_id
             join users u on u.id = m.user_id
            where o.kind = 'platform' and m.role = 'admin' and ($1::text is null or u.email = $1)
            order by m.user_id limit 1""", email)
    if row is None:
        raise Conflict("No platform administrator%(who)s: create one with `market admin create`.",
                       who=f" {email}" if email else "")
    return row["organisation_id"], row["user_id"]


async def run_platform(conn: asyncpg.Connection, owner_id: int, user_id: int, weights: Weights,
                       time_limit: float = TIME_LIMIT_SECONDS,
                       progress: Callable[[str, float], None] | None = None) -> Report:
    """Score every waiting project, solve, and keep the run (in the caller's transaction)."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal started
        seconds[stage] = time.perf_counter() - started
        started = time.perf_counter()
        if progress:
            progress(stage, seconds[stage])

    projects = [r["id"] for r in await conn.fetch(rolling._OPEN, None, None)]
    if not projects:
        raise Conflict("No project is waiting for a provider: every approved project has a call or a docking.")
    rules = await rolling._rules(conn, owner_id)
    pins = {r["project_id"]: r["provider_id"] for r in rules if r["rule"] == "pin"}
    bans = frozenset((r["project_id"], r["provider_id"]) for r in rules if r["rule"] == "ban")
    inside: dict[str, float] = {}
    found = await bulk_candidates.build(conn, projects, weights, pins=pins, bans=bans, seconds=inside)
    lap("candidates")
    instance = candidates.to_instance(found, pins=pins, bans=bans)
    kept = {need for need, _provider in instance["pinned"]}
    problem = msgspec.convert(instance, solver.Instance)
    lap("instance")
    result = solver.solve(problem, time_limit=time_limit)
    lap("solve")
    answer: dict[str, Any] = {**msgspec.to_builtins(result), "pins_left_out": sorted(set(pins) & set(projects) - kept)}
    run_id = await conn.fetchval(
        "insert into docking_runs (owner_id, created_by, instance, result, objective, upper_bound, gap) "
        "values ($1, $2, $3, $4, $5, $6, $7) returning id", owner_id, user_id, instance, answer,
        result.objective, result.upper_bound, result.gap)
    await audit.record(conn, verb=Verb.DOCKING_RUN, object_type="docking_run", object_id=run_id, actor=user_id,
                       organisation=owner_id,
                       after={"projects": len(projects), "assignments": len(result.assignments),
                              "objective": result.objective, "gap": result.gap})
    lap("store")
    return Report(run_id=run_id, projects=len(projects), provider_edges=len(instance["provider_edges"]),
                  funder_edges=len(instance["funder_edges"]), assignments=len(result.assignments),
                  objective=result.objective, upper_bound=result.upper_bound, gap=result.gap, seconds=seconds,
                  candidate_seconds=inside, peak_mib=_peak_mib())
