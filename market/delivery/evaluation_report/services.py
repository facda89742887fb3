"""The evaluation report: a decided mid-term or final evaluation of a contract, built once for its
page, its JSON, its PDF and its workbook.

Anyone may read it once the contract is public (signed by both) and the stage is decided: the
contract, the indicator system with each node's weight and consensus score, the dimension subtotals,
the total, the grade and the outcome, the panel's composition and its agreement, and where the
provider's report on the stage stood. The chair's consensus notes are written from the provider's
report and its private evidence (homes visited, people served), so they go only to those who read
that report: the parties, the stage's panels and the platform. No one finds a member's own scores
or notes here; the chair and the platform read those on the panel's page.

The statements are the same few whatever the size of the tree or the panel.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from market.core.access import Identity
from market.core.errors import NotFound
from market.delivery import outcomes as evaluated
from market.delivery.evaluation_report.models import EvaluationReport, ProviderReport, Row, Seat
from market.delivery.models import STAGES
from market.delivery.reports import services as reports
from market.evaluation import scoring
from market.evaluation import services as engine
from market.evaluation.indicators import scoring as indicator_scoring
from market.evaluation.indicators import tree
from market.evaluation.indicators.models import Bands, IndicatorSystem
from market.evaluation.models import ConsensusScore, Criterion
from market.evaluation.views import score_matrix
from market.procurement.contracts import services as contracts

# The stage's report milestone with its report, and whether it failed the stage by not being filed.
_PROVIDER_REPORT = """
select m.position, m.due_date, coalesce(r.status, 'draft') as status, r.submitted_at, r.accepted_at,
       coalesce(r.late, false) as late,
       exists (select from contract_stage_failures f where f.contract_id = m.contract_id
                and f.position = m.position) as not_filed
  from contract_milestones m left join delivery_reports r on r.contract_id = m.contract_id and r.position = m.position
 where m.contract_id = $1 and m.kind = 'report' and m.stage = $2
 order by m.position limit 1"""
_PANEL = """
select p.id, p.status, p.closed_at, p.indicator_version_id, a.name_zh as agency_name_zh, a.name_en as agency_name_en
  from panels p left join organisations a on a.id = p.agency_id
 where p.id = $1 and p.subject_type = $2 and p.subject_id = $3 and p.status = 'closed'"""


def _tree_rows(system: IndicatorSystem, criteria: list[Criterion], consensus: list[ConsensusScore],
               notes: bool) -> list[Row]:
    """Every node of the system, parents before their children, with its score from the consensus."""
    paths = {c.position: c.indicator_path for c in criteria if c.indicator_path}
    given = {paths[c.position]: c for c in consensus if c.position in paths}
    scores = indicator_scoring.node_scores(system.nodes, {p: c.score for p, c in given.items()})
    return [Row(path=n.path, level=n.depth, name_zh=n.name_zh, name_en=n.name_en, weight=n.weight,
                score=scores.get(n.path), leaf=not n.children,
                note=given[n.path].note if notes and not n.children and n.path in given else "")
            for n in tree.flatten(system.nodes)]


def _plain_rows(criteria: list[Criterion], consensus: list[ConsensusScore], notes: bool) -> list[Row]:
    """A panel scoring no system: each criterion a dimension of its own."""
    given = {c.position: c for c in consensus}
    return [Row(path=str(c.position), level=1, name_zh=c.name_zh, name_en=c.name_en, weight=c.weight,
                score=given[c.position].score if c.position in given else None, leaf=True,
                note=given[c.position].note if notes and c.position in given else "")
            for c in criteria if not c.is_price]


async def _provider_report(conn: asyncpg.Connection, contract_id: int, stage: str, readable: bool) -> ProviderReport | None:
    row = await conn.fetchrow(_PROVIDER_REPORT, contract_id, stage)
    if row is None:
        return None
    return ProviderReport(**dict(row), link=f"/contracts/{contract_id}/reports/{row['position']}" if readable else None)


async def _panel_part(conn: asyncpg.Connection, panel: Any, notes: bool) -> dict[str, Any]:
    """What a closed panel adds to the report: its system, rows, verdict, seats and agreement."""
    panel_id = panel["id"]
    criteria = await engine.criteria_of(conn, panel_id)
    consensus = await engine.consensus_of(conn, panel_id)
    system = await engine.system_of(conn, panel)
    # The total as the panel's verdict makes it (engine.verdicts): the tree's, or the criteria's
    # weighted mean on a panel scoring no system.
    scores = {c.position: c.score for c in consensus}
    paths = {c.position: c.indicator_path for c in criteria if c.indicator_path}
    total = (indicator_scoring.total(system.nodes, {paths[p]: v for p, v in scores.items() if p in paths}) if system
             else scoring.weighted_total(criteria, scores))
    bands = system.bands if system else Bands()
    # The members' own scores go into the agreement and nowhere else.
    matrix = score_matrix(criteria, await engine.member_scores(conn, panel_id))
    return {
        "panel_id": panel_id,
        "system_id": system.id if system else None,
        "system_title_zh": system.title_zh if system else "",
        "system_title_en": system.title_en if system else "",
        "system_revision": system.revision if system else None,
        "bands": bands,
        "rows": _tree_rows(system, criteria, consensus, notes) if system else _plain_rows(criteria, consensus, notes),
        "total": total, "grade": indicator_scoring.grade(bands, total),
        "members": [Seat(display_name=m.display_name, role=m.role) for m in await engine.members_of(conn, panel_id)],
        "agency_name_zh": panel["agency_name_zh"], "agency_name_en": panel["agency_name_en"],
        "agreement": indicator_scoring.agreement(matrix, sorted({p for m in matrix.values() for p in m})),
    }


async def evaluation_report(conn: asyncpg.Connection, identity: Identity | None, contract_id: int, stage: str,
                            panel_id: int | None = None) -> EvaluationReport:
    """The report of the stage's evaluation as it stands (or of `panel_id`, an earlier closed panel
    of the same stage). Not found: a contract the reader may not read, a stage not decided, or a
    panel that did not evaluate this stage of this contract."""
    if stage not in STAGES:
        raise NotFound()
    contract = await contracts.get(conn, identity, contract_id)
    if contract.status != "signed":
        raise NotFound()
    outcome = (await evaluated.stage_outcomes(conn, contract_id))[stage]
    readable = await reports.may_read(conn, identity, {"contract_id": contract_id, "buyer_id": contract.buyer_id,
                                                       "provider_id": contract.provider_id})
    facts: dict[str, Any] = {
        "contract_id": contract_id, "stage": stage, "title_zh": contract.title_zh, "title_en": contract.title_en,
        "buyer_name": contract.buyer_name, "buyer_name_en": contract.buyer_name_en,
        "provider_name": contract.provider_name, "provider_name_en": contract.provider_name_en,
        "service_start": contract.service_start, "service_end": contract.service_end,
        "amount_fen": contract.amount_fen, "notes_shown": readable,
        "report": await _provider_report(conn, contract_id, stage, readable)}
    chosen = panel_id if panel_id is not None else outcome.panel_id if outcome.reason is None else None
    if chosen is None:
        if outcome.outcome is None:
            raise NotFound()
        # Decided by a rule, not a panel (a report not filed by the end of its grace period).
        assert outcome.decided_at is not None
        return EvaluationReport(**facts, outcome=outcome.outcome, decided_at=outcome.decided_at, reason=outcome.reason)
    panel = await conn.fetchrow(_PANEL, chosen, stage, contract_id)
    if panel is None:
        raise NotFound()
    part = await _panel_part(conn, panel, readable)
    if part["total"] is None:  # nothing was scored that counts: the panel decided nothing
        raise NotFound()
    passed = indicator_scoring.passed(part["bands"], part["total"])
    return EvaluationReport(**facts, **part, outcome="passed" if passed else "failed", decided_at=panel["closed_at"],
                            standing=outcome.reason is None and outcome.panel_id == chosen)
