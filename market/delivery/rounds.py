"""Mid-term and final evaluation of a contract's delivery, on the evaluation engine: a panel whose
subject is the contract and whose one candidate is the provider. Such a panel never seats anyone
who belongs to the provider or has declared a conflict of interest with it.

A round scores the indicator system the contract was signed under for that stage (each leaf a
criterion; the tree makes the total and the system's bands the grade). A contract signed before any
system was published keeps the one in force when its round opens. The buyer opens a round, forms
the panel or hands it to an agency, and once the chair has recorded every consensus score decides
it: the panel closes and its verdict stands (market.delivery.ending reads it).
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import asyncpg

from market.core import clock
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, NotFound
from market.delivery import findings, scorecard
from market.delivery.models import STAGES
from market.evaluation import services as engine
from market.evaluation.indicators import services as indicators
from market.evaluation.models import Candidate, Criterion
from market.notifications import services as notifications

OPENERS = ("admin", "staff")  # who opens and decides a round for the buyer
RECTIFICATION_DAYS = 30  # the default of MARKET_RECTIFICATION_DAYS
# Scored on this when no indicator system applies to the contract's catalogue item at all.
PLAIN_CRITERIA = [Criterion(1, "服务交付与成效", "Delivery and outcomes", 100, None, False)]


async def _contract_subject(conn: asyncpg.Connection, contract_id: int, stage: str) -> engine.Subject:
    row = await conn.fetchrow("select c.title_zh, c.title_en from contracts k join calls c on c.id = k.call_id "
                              "where k.id = $1", contract_id)
    zh = {"midterm": "中期评估", "final": "末期评估"}[stage]
    en = {"midterm": "mid-term evaluation", "final": "final evaluation"}[stage]
    return engine.Subject(title_zh=f"{row['title_zh']}（{zh}）", title_en=f"{row['title_en'] or row['title_zh']} ({en})",
                          link=f"/contracts/{contract_id}#delivery",
                          bids_link=f"/contracts/{contract_id}#milestones")


def register() -> None:
    for stage in STAGES:
        engine.register_subject(stage, partial(_contract_subject, stage=stage), excludes_conflicted=True)


def may_run(identity: Identity | None, contract: Any) -> bool:
    """Whether the reader opens and decides rounds for this contract: its buyer's staff."""
    return bool(identity and identity.acts_for_verified and identity.org_id == contract["buyer_id"]
                and identity.role in OPENERS)


async def system_for_contract(conn: asyncpg.Connection, contract_id: int, stage: str) -> int | None:
    """The indicator system version the contract's stage is scored on: the one it was signed under,
    else (signed before one was published) the one in force now, which it then keeps."""
    row = await conn.fetchrow(
        f"select k.{stage}_system_id as pinned, c.catalogue_entry_id from contracts k join calls c on c.id = k.call_id "
        "where k.id = $1", contract_id)
    if row["pinned"] is not None:
        return int(row["pinned"])
    version = await indicators.system_for(conn, row["catalogue_entry_id"], stage)
    if version is not None:
        await conn.execute(f"update contracts set {stage}_system_id = $2 where id = $1", contract_id, version)
    return version


async def new_panel(conn: asyncpg.Connection, identity: Identity, contract: Any, stage: str) -> int:
    """A panel in forming for the stage, scoring the contract's indicator system, its one candidate
    the provider."""
    version = await system_for_contract(conn, contract["id"], stage)
    # The one candidate is named as a bid panel names its bidders: by the organisation's name.
    provider = await conn.fetchrow("select name_zh, name_en from organisations where id = $1", contract["provider_id"])
    criteria = (engine.indicator_criteria(await indicators.load_version(conn, version)) if version is not None
                else PLAIN_CRITERIA)
    return await engine.create_panel(
        conn, identity, subject_type=stage, subject_id=contract["id"], criteria=criteria,
        candidates=[Candidate(contract["id"], contract["provider_id"], provider["name_zh"], None, clock.now(),
                              provider["name_en"])],
        indicator_version_id=version)


async def _contract(conn: asyncpg.Connection, identity: Identity, contract_id: int, stage: str) -> Any:
    if stage not in STAGES:
        raise NotFound()
    contract = await conn.fetchrow(
        "select k.*, c.title_zh, c.title_en, coalesce(d.status, 'in_delivery') as delivery_status "
        "from contracts k join calls c on c.id = k.call_id left join contract_delivery d on d.contract_id = k.id "
        "where k.id = $1 for update of k", contract_id)
    if contract is None:
        raise NotFound()
    if not may_run(identity, contract):
        raise Forbidden("Only the buyer of this contract runs its evaluations.")
    if contract["status"] != "signed" or contract["delivery_status"] != "in_delivery":
        raise Conflict("Only a contract in delivery is evaluated.")
    return contract


async def reports_waiting(conn: asyncpg.Connection, contract_id: int) -> set[str]:
    """The stages with a report milestone whose report the buyer has not accepted yet: the panel
    scores the provider on its report, so the stage's evaluation waits for it."""
    return {r["stage"] for r in await conn.fetch(
        "select distinct m.stage from contract_milestones m left join delivery_reports r "
        "on r.contract_id = m.contract_id and r.position = m.position "
        "where m.contract_id = $1 and m.kind = 'report' and m.stage is not null "
        "and r.status is distinct from 'accepted'", contract_id)}


async def open_round(conn: asyncpg.Connection, identity: Identity, contract_id: int, stage: str) -> int:
    """The buyer opens the stage's evaluation: a new panel, to form or hand to an agency. A stage is
    evaluated once (again only when the buyer orders a re-evaluation after a rectification), after
    its report is accepted; the final waits for the mid-term."""
    contract = await _contract(conn, identity, contract_id, stage)
    if await conn.fetchval("select 1 from panels where subject_type = $1 and subject_id = $2", stage, contract_id):
        raise Conflict("This evaluation has been opened already.")
    if stage == "final" and not await conn.fetchval(
            "select 1 from panels where subject_type = 'midterm' and subject_id = $1 and status = 'closed'",
            contract_id):
        raise Conflict("The final evaluation follows the mid-term evaluation.")
    if stage in await reports_waiting(conn, contract_id):
        raise Conflict("The evaluation opens once the provider's report for it is accepted.")
    return await new_panel(conn, identity, contract, stage)


async def decide_round(conn: asyncpg.Connection, identity: Identity, contract_id: int, stage: str,
                       rectification_days: int = RECTIFICATION_DAYS) -> int:
    """The buyer closes the stage's panel once the chair has recorded every consensus score: its
    verdict stands, its findings become rectification items due `rectification_days` from today
    (market.delivery.findings), and the provider is told. Returns the panel."""
    contract = await _contract(conn, identity, contract_id, stage)
    panel_id = await conn.fetchval("select id from panels where subject_type = $1 and subject_id = $2 "
                                   "and status <> 'closed' order by id desc limit 1", stage, contract_id)
    if panel_id is None:
        raise Conflict("No evaluation of this stage is open.")
    if await conn.fetchval("select status from panels where id = $1", panel_id) != "scoring":
        raise Conflict("The panel has not started scoring yet.")
    if missing := await engine.missing_consensus(conn, panel_id):
        raise Conflict("The chair has %(n)s consensus scores still to record.", n=missing)
    await engine.close(conn, panel_id, identity.user_id)
    await scorecard.refresh_standing(conn, contract["provider_id"])  # a C bars, a pass after rectification lifts
    verdict = (await engine.verdicts(conn, [panel_id]))[panel_id]
    await findings.raise_findings(conn, contract, stage, panel_id, verdict,
                                  clock.today() + timedelta(days=rectification_days))
    people = await notifications.members_of(conn, [contract["provider_id"]], OPENERS)
    await notifications.notify(conn, people, "evaluation_decided", f"/contracts/{contract_id}#evaluations",
                               **notifications.titled(contract), total=str(verdict.total),
                               grade=verdict.grade or "—")
    return panel_id
