"""Where each evaluation of a contract's delivery stands, read by the contract page, the payments
that wait for an evaluation, the buyer's decisions after a failure and the provider's scorecard.

A contract's mid-term and final evaluations are panels of the evaluation engine (subject type
`midterm` or `final`, subject id the contract). The latest closed panel of a stage decides (passed
by the grade bands of the indicator system it scored), unless a failure recorded in
`contract_stage_failures` came after it — that table is where rules other than a panel's score fail
a stage (a report not filed by the end of the grace period, as the standard contract says).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from market.core.i18n import gettext
from market.delivery.models import STAGES, StageOutcome
from market.evaluation import services as engine


async def outcomes_of(conn: asyncpg.Connection, contract_ids: list[int]) -> dict[int, dict[str, StageOutcome]]:
    """Where each evaluation of these contracts stands, in the same few statements however many:
    the latest closed panel of a stage decides, unless a failure recorded for it came later."""
    panels = await conn.fetch(
        """select id, subject_id, subject_type, status, closed_at from panels
            where subject_type in ('midterm', 'final') and subject_id = any($1::bigint[])
            order by subject_id, subject_type, closed_at desc nulls last, id desc""", contract_ids)
    failures = await conn.fetch(
        """select distinct on (contract_id, stage) contract_id, stage, reason, at from contract_stage_failures
            where contract_id = any($1::bigint[]) order by contract_id, stage, at desc, id desc""", contract_ids)
    latest: dict[tuple[int, str], Any] = {}
    evaluating: dict[tuple[int, str], int] = {}
    for p in panels:
        key = (p["subject_id"], p["subject_type"])
        if p["status"] != "closed":
            evaluating[key] = p["id"]
        elif key not in latest:
            latest[key] = p
    verdicts = await engine.verdicts(conn, [p["id"] for p in latest.values()]) if latest else {}
    failed_at = {(f["contract_id"], f["stage"]): f for f in failures}
    out: dict[int, dict[str, StageOutcome]] = {}
    for contract_id in contract_ids:
        out[contract_id] = {}
        for stage in STAGES:
            key = (contract_id, stage)
            panel, failure = latest.get(key), failed_at.get(key)
            now_evaluating, open_panel = key in evaluating, evaluating.get(key)
            if failure is not None and (panel is None or failure["at"] > panel["closed_at"]):
                outcome = StageOutcome(stage=stage, outcome="failed", decided_at=failure["at"],
                                       reason=gettext(failure["reason"]), evaluating=now_evaluating,
                                       open_panel_id=open_panel)
            elif panel is None or verdicts[panel["id"]].total is None:
                outcome = StageOutcome(stage=stage, outcome=None, panel_id=panel and panel["id"],
                                       evaluating=now_evaluating, open_panel_id=open_panel)
            else:
                verdict = verdicts[panel["id"]]
                outcome = StageOutcome(stage=stage, outcome="passed" if verdict.passed else "failed",
                                       total=verdict.total, grade=verdict.grade, decided_at=panel["closed_at"],
                                       panel_id=panel["id"], evaluating=now_evaluating, open_panel_id=open_panel)
            out[contract_id][stage] = outcome
    return out


async def stage_outcomes(conn: asyncpg.Connection, contract_id: int) -> dict[str, StageOutcome]:
    return (await outcomes_of(conn, [contract_id]))[contract_id]


async def stage_outcome(conn: asyncpg.Connection, contract_id: int, stage: str) -> StageOutcome:
    return (await stage_outcomes(conn, contract_id))[stage]


async def evaluation_outcome(conn: asyncpg.Connection, contract_id: int, stage: str) -> str | None:
    """'passed', 'failed', or None while the stage is not decided."""
    return (await stage_outcome(conn, contract_id, stage)).outcome


def failed_stage(outcomes: dict[str, StageOutcome]) -> str | None:
    """The earliest failed evaluation, which stops payments from the first that waits for it."""
    return next((s for s in STAGES if outcomes[s].outcome == "failed"), None)


async def status_of(conn: asyncpg.Connection, contract_id: int) -> Any:
    """The contract's delivery row (a signed contract without one is in delivery)."""
    row = await conn.fetchrow("select * from contract_delivery where contract_id = $1", contract_id)
    return row or {"status": "in_delivery", "decided_stage": None, "rectify_by": None, "rectify_note": "",
                   "ended_reason": "", "ended_at": None}
