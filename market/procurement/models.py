from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.evaluation.models import Criterion

Urgency = Literal["low", "normal", "high", "urgent"]
URGENCY_NAMES = {"low": N_("low"), "normal": N_("normal"), "high": N_("high"), "urgent": N_("urgent")}
NEED_STATUS_NAMES = {"open": N_("open for support"), "declined": N_("declined"), "withdrawn": N_("withdrawn"),
                     "approved": N_("approved as a project")}
Id = Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class NeedInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=4, max_length=100)]
    description: Annotated[str, msgspec.Meta(min_length=10, max_length=4000)]
    community_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    beneficiaries: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    beneficiary_count: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] | None = None
    urgency: Urgency = "normal"


class Need(msgspec.Struct, frozen=True, kw_only=True):
    """A need as the public sees it: who raised it is not shown, only where."""

    id: int
    community_id: int
    title: str
    description: str
    beneficiaries: str
    beneficiary_count: int | None
    urgency: str
    suggested_entry_id: int | None
    status: str
    status_reason: str
    supporters: int
    created_at: datetime
    project_id: int | None = None


class Decision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class ProjectInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title_zh: Annotated[str, msgspec.Meta(min_length=4, max_length=100)]
    title_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    description: Annotated[str, msgspec.Meta(min_length=10, max_length=4000)]
    catalogue_entry_id: Id
    budget_fen: Annotated[int, msgspec.Meta(ge=1, le=100_000_000_000)]
    budget_line: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    jurisdiction_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    need_ids: Annotated[list[Id], msgspec.Meta(max_length=50)] = []


class Project(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    buyer_id: int
    jurisdiction_id: int
    catalogue_entry_id: int
    title_zh: str
    title_en: str
    description: str
    budget_fen: int
    budget_line: str
    status: str
    created_at: datetime
    need_ids: list[int] = []


class Transition(msgspec.Struct, frozen=True):
    action: str
    source: str
    target: str
    by: Literal["raiser", "buyer"]
    verb: str


ProviderType = Literal["social_group", "social_service_agency", "foundation"]
BATCH_STATUSES = ("reviewing", "notice", "decided")
BATCH_STATUS_NAMES = {"reviewing": N_("under review"), "notice": N_("decided, under public notice"),
                      "decided": N_("decided")}
OBJECTION_STATUS_NAMES = {"pending": N_("awaiting an answer"), "upheld": N_("upheld"), "rejected": N_("rejected")}
CALL_STATUS_NAMES = {"draft": N_("draft"), "open": N_("open for bids"), "closed": N_("closed for bids"),
                     "notice": N_("award under public notice"), "awarded": N_("awarded"), "failed": N_("failed"),
                     "cancelled": N_("cancelled")}


class CriterionInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    weight: Annotated[int, msgspec.Meta(ge=1, le=100)]
    min_score: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    is_price: bool = False


class CallInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: Id
    procedure_type: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{2,40}$")]
    title_zh: Annotated[str, msgspec.Meta(min_length=4, max_length=100)]
    title_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    description: Annotated[str, msgspec.Meta(min_length=10, max_length=8000)]
    budget_ceiling_fen: Annotated[int, msgspec.Meta(ge=1, le=100_000_000_000)]
    service_start: date
    service_end: date
    service_place: Annotated[str, msgspec.Meta(min_length=2, max_length=300)]
    provider_types: Annotated[list[ProviderType], msgspec.Meta(min_length=1, max_length=3)] | None = None
    min_rating: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    min_years: Annotated[int, msgspec.Meta(ge=0, le=50)] | None = None
    cross_district: bool | None = None
    justification: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    deadline_at: datetime | None = None
    criteria: Annotated[list[CriterionInput], msgspec.Meta(min_length=1, max_length=10)]


class Revision(msgspec.Struct, frozen=True):
    revision: int
    changed_at: datetime
    changes: dict[str, list[object]]
    deadline_moved_to: datetime | None


class Call(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    project_id: int
    buyer_id: int
    procedure_type: str
    title_zh: str
    title_en: str
    description: str
    catalogue_entry_id: int
    budget_ceiling_fen: int
    service_start: date
    service_end: date
    service_place: str
    provider_types: list[str]
    min_rating: int | None
    min_years: int | None
    cross_district: bool
    justification: str
    revision: int
    created_at: datetime
    published_at: datetime | None
    questions_close_at: datetime | None
    deadline_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    awarded_at: datetime | None = None
    notice_ends_at: datetime | None = None
    failed_at: datetime | None = None
    fail_reason: str = ""
    status: str
    criteria: list[Criterion] = []


class ProcedureType(msgspec.Struct, frozen=True):
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    day_kind: str
    min_tender_days: int
    question_close_days: int
    extend_days: int
    min_bids: int
    notice_days: int
    rolling: bool
    requires_justification: bool
    position: int


class QuestionInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    question: Annotated[str, msgspec.Meta(min_length=5, max_length=2000)]


class AnswerInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answer: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]


class Question(msgspec.Struct, frozen=True, kw_only=True):
    """A question as everyone sees it; `asked_by` is filled for the platform only."""

    id: int
    call_id: int
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    asked_by_organisation: str | None = None


class BudgetLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    amount_fen: Annotated[int, msgspec.Meta(ge=1, le=100_000_000_000)]


class TargetInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    target: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class BidInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_fen: Annotated[int, msgspec.Meta(ge=1, le=100_000_000_000)]
    objectives: Annotated[str, msgspec.Meta(min_length=10, max_length=4000)]
    activities: Annotated[str, msgspec.Meta(min_length=10, max_length=8000)]
    team: Annotated[str, msgspec.Meta(min_length=5, max_length=4000)]
    budget_lines: Annotated[list[BudgetLine], msgspec.Meta(min_length=1, max_length=50)]
    indicators: Annotated[list[TargetInput], msgspec.Meta(min_length=1, max_length=20)]
    attachments: Annotated[list[str], msgspec.Meta(max_length=10)] = []


class Bid(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    call_id: int
    provider_id: int
    provider_name_zh: str
    provider_name_en: str
    status: str
    amount_fen: int
    objectives: str
    activities: str
    team: str
    indicators: list[dict[str, str]]
    attachments: list[str]
    call_revision: int
    submitted_at: datetime
    withdrawn_at: datetime | None
    batch_id: int | None = None
    budget_lines: list[BudgetLine] = []
    needs_reconfirmation: bool = False


class BidTransition(msgspec.Struct, frozen=True):
    action: str
    source: str
    target: str
    verb: str
