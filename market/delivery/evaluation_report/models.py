"""What the evaluation report shows, on its page, in its JSON, its PDF and its workbook: one view."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec

from market.evaluation.indicators.models import Bands


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One node of the indicator system (or one criterion, on a panel scoring no system): its weight
    among its siblings and its score — a leaf's the chair's consensus, a parent's the weighted mean
    of its children's; None is not applicable. The note is the chair's, on a leaf, to those who may
    read notes."""

    path: str
    level: int  # 1 dimension, 2 indicator, 3 sub-indicator
    name_zh: str
    name_en: str
    weight: int
    score: Decimal | None
    leaf: bool
    note: str = ""


class Seat(msgspec.Struct, frozen=True, kw_only=True):
    """Who sat on the panel (published with the result, as procurement results name their panels)."""

    display_name: str
    role: str  # chair | member


class ProviderReport(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's report on the stage, as the evaluation found it. `link` to those who may read
    the report itself (the parties, the panels and the platform: its evidence is private)."""

    position: int
    due_date: date
    status: str  # REPORT_STATUS_NAMES
    submitted_at: datetime | None
    accepted_at: datetime | None
    late: bool
    not_filed: bool  # not filed within the grace period: the stage failed without a panel
    link: str | None = None


class EvaluationReport(msgspec.Struct, frozen=True, kw_only=True):
    """A decided evaluation of one stage of a contract's delivery. Decided by a panel: the system it
    scored, every node's weight and score, the total, grade and outcome under the system's bands,
    the panel and its agreement (Krippendorff's alpha, interval, over its members' scores). Decided
    by a rule (a report not filed), `reason` says so and there is no panel. Never any member's own
    scores or notes: those stay on the panel's page."""

    contract_id: int
    stage: str  # midterm | final
    title_zh: str
    title_en: str
    buyer_name: str
    buyer_name_en: str
    provider_name: str
    provider_name_en: str
    service_start: date
    service_end: date
    amount_fen: int
    outcome: str  # passed | failed
    decided_at: datetime
    reason: str | None = None  # a failure without a panel: why, in the reader's language
    panel_id: int | None = None
    standing: bool = True  # False: a later evaluation of the stage decides it now
    system_id: int | None = None
    system_title_zh: str = ""
    system_title_en: str = ""
    system_revision: int | None = None
    bands: Bands = msgspec.field(default_factory=Bands)
    rows: list[Row] = msgspec.field(default_factory=list)
    total: Decimal | None = None
    grade: str | None = None
    members: list[Seat] = msgspec.field(default_factory=list)
    agency_name_zh: str | None = None
    agency_name_en: str | None = None
    agreement: float | None = None  # None: undefined (a single evaluator, or no variation)
    notes_shown: bool = False  # the chair's notes are in the rows (the parties, the panel, the platform)
    report: ProviderReport | None = None

    @property
    def dimensions(self) -> list[Row]:
        return [r for r in self.rows if r.level == 1]
