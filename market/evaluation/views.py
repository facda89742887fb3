"""The panel page as one view: the panel as its owner and members see it, and the reader's own part
in it (their role, declarations and scores). Its JSON twin returns the same."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from market.core.access import Identity
from market.core.settings import Settings
from market.core.errors import NotFound
from market.evaluation import services as engine
from market.evaluation.indicators import scoring as indicator_scoring
from market.evaluation.indicators import tree
from market.evaluation.indicators.models import IndicatorNode, IndicatorSystem
from market.evaluation.indicators.scoring import Outlier
from market.evaluation.models import Agency, Candidate, Criterion, Expert, Member, MemberScore, Note, Ranked
from market.rectification import services as rectification
from market.rectification.models import Unfinished


class Panel(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    status: str
    subject_type: str
    subject_id: int
    subject: engine.Subject | None
    members: list[Member]
    criteria: list[Criterion]
    candidates: list[Candidate]
    consensus_missing: int
    # The ranking once every consensus score is in: before that, totals would rest on the price alone.
    results: list[Ranked]
    # Each member's own scores: for the chair, the platform, and members once they have submitted their own.
    member_scores: list[MemberScore]
    agency: Agency | None = None  # the evaluation organisation the owner handed the panel to
    notes: list[Note] = msgspec.field(default_factory=list)  # document-review and site-visit notes, for those on it
    # The indicator system the panel scores (its leaves are the criteria): the scale's anchors, the
    # evidence each indicator expects, whether it may be not applicable, its target.
    system: IndicatorSystem | None = None
    leaves: dict[str, IndicatorNode] = msgspec.field(default_factory=dict)  # the system's leaves by path
    dimensions: dict[str, IndicatorNode] = msgspec.field(default_factory=dict)  # its top level by path
    # For whoever sees every member's scores: Krippendorff's alpha (interval) over members × indicators,
    # None while undefined, and the scores far from the indicator's median.
    agreement: float | None = None
    outliers: list[Outlier] = msgspec.field(default_factory=list)


class MyScore(msgspec.Struct, frozen=True, kw_only=True):
    candidate_id: int
    position: int
    score: Decimal | None
    note: str


class PanelView(msgspec.Struct, frozen=True, kw_only=True):
    panel: Panel
    role: str | None  # the reader's: chair, member, or none
    owner: bool  # the reader acts for the panel's owner
    declared: dict[int, bool]  # candidate → whether the reader declared a conflict with it
    my_scores: list[MyScore]
    submitted: bool = False  # the reader has handed in their scores
    consensus: list[MyScore] = msgspec.field(default_factory=list)  # for the chair: what they have recorded
    agency_staff: bool = False  # the reader acts for the agency, which assigns its experts
    experts: list[Expert] = msgspec.field(default_factory=list)  # the agency's people, for its staff
    agencies: list[Agency] = msgspec.field(default_factory=list)  # whom the owner may hand the panel to
    # On a delivery panel (mid-term, final): the provider's rectification items not yet verified,
    # which the evaluators weigh beside the indicators (整改 counts in the next evaluation).
    rectification: Unfinished = msgspec.field(default_factory=Unfinished)


def score_matrix(criteria: list[Criterion], scores: list[MemberScore]) -> dict[int, dict[str, Decimal | None]]:
    """Each member's scores by indicator path, or by position on a criterion that names no indicator
    (a delivery panel has one candidate; the price is scored by no one)."""
    paths = {c.position: c.indicator_path or str(c.position) for c in criteria if not c.is_price}
    matrix: dict[int, dict[str, Decimal | None]] = {}
    for s in scores:
        if s.position in paths:
            matrix.setdefault(s.user_id, {})[paths[s.position]] = None if s.score is None else Decimal(str(s.score))
    return matrix


async def _rectification(conn: asyncpg.Connection, row: Any, candidates: list[Candidate]) -> Unfinished:
    """A delivery panel's one candidate's unfinished rectification items (a selection panel's
    candidates are bidders, judged on their bids alone)."""
    if row["subject_type"] not in engine.DELIVERY_SUBJECTS or not candidates:
        return Unfinished()
    owner = candidates[0].organisation_id
    return (await rectification.unfinished_of(conn, [owner])).get(owner, Unfinished())


async def panel_view(conn: asyncpg.Connection, identity: Identity, panel_id: int,
                     settings: Settings | None = None) -> PanelView:
    """The panel as the reader may see it; with the settings, the notes' photos carry links for them."""
    row = await conn.fetchrow("select * from panels where id = $1", panel_id)
    if row is None or not await engine.may_see(conn, identity, row):
        raise NotFound()
    missing = await engine.missing_consensus(conn, panel_id)
    role = await engine.role_in(conn, identity, panel_id)
    submitted = role is not None and await engine.submitted(conn, panel_id, identity.user_id)
    owner = row["owner_id"] == identity.org_id
    agency_staff = row["agency_id"] is not None and row["agency_id"] == identity.org_id
    mine: list[Any] = await conn.fetch(
        """select s.candidate_id, s.position, s.score, s.note, null::boolean as conflicted
             from panel_scores s where s.panel_id = $1 and s.user_id = $2
           union all
           select d.candidate_id, null, null, '', d.conflicted
             from panel_declarations d where d.panel_id = $1 and d.user_id = $2""", panel_id, identity.user_id)
    agency = await conn.fetchrow("select id, name_zh, name_en from organisations where id = $1", row["agency_id"])
    sees_all = role == "chair" or identity.is_platform_admin or submitted
    system = await engine.system_of(conn, row)
    criteria = await engine.criteria_of(conn, panel_id)
    everyone = await engine.member_scores(conn, panel_id) if sees_all else []
    matrix = score_matrix(criteria, everyone) if system else {}
    paths = [c.indicator_path for c in criteria if c.indicator_path]
    panel = Panel(
        id=panel_id, status=row["status"], subject_type=row["subject_type"], subject_id=row["subject_id"],
        subject=await engine.subject_of(conn, row["subject_type"], row["subject_id"]),
        members=await engine.members_of(conn, panel_id), criteria=criteria,
        candidates=await engine.candidates_of(conn, panel_id), consensus_missing=missing,
        results=await engine.scoring_results(conn, panel_id) if missing == 0 else [],
        member_scores=everyone, agency=Agency(**dict(agency)) if agency else None,
        notes=await engine.notes_of(conn, panel_id, identity, settings) if role or owner or identity.is_platform_admin
        else [],
        system=system, leaves={n.path: n for n in tree.leaves(system.nodes)} if system else {},
        dimensions={n.path: n for n in system.nodes} if system else {}, agreement=indicator_scoring.agreement(matrix, paths) if matrix else None,
        outliers=indicator_scoring.outliers(matrix, paths) if matrix else [])
    forming = row["status"] == "forming"
    return PanelView(panel=panel, role=role, owner=owner,
                     declared={r["candidate_id"]: r["conflicted"] for r in mine if r["conflicted"] is not None},
                     my_scores=[MyScore(candidate_id=r["candidate_id"], position=r["position"], score=r["score"],
                                        note=r["note"]) for r in mine if r["conflicted"] is None],
                     submitted=submitted, agency_staff=agency_staff,
                     consensus=[MyScore(**dict(r)) for r in await conn.fetch(
                         "select candidate_id, position, score, note from panel_consensus where panel_id = $1",
                         panel_id)] if role == "chair" else [],
                     experts=await engine.experts(conn, panel_id) if agency_staff and forming else [],
                     agencies=await engine.agencies(conn) if owner and forming and row["agency_id"] is None else [],
                     rectification=await _rectification(conn, row, panel.candidates))
