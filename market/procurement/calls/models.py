from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged
from market.evaluation.models import Criterion
from market.procurement.needs.models import Id

ProviderType = Literal["social_group", "social_service_agency", "foundation"]
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


# What a revision of a published call changed, in the edit form's order and words, and
# how it shows the two values: "text" and "money" before → after, "long" only that it changed.
REVISION_FIELDS: dict[str, tuple[str, str]] = {
    "procedure_type": (N_("Procedure"), "text"),
    "title_zh": (N_("Title in Chinese"), "text"), "title_en": (N_("Title in English"), "text"),
    "description": (N_("What is to be done"), "long"), "budget_ceiling_fen": (N_("Budget ceiling"), "money"),
    "service_start": (N_("Service starts"), "date"), "service_end": (N_("Service ends"), "date"),
    "service_place": (N_("Service place"), "text"), "deadline_at": (N_("Deadline for bids"), "datetime"),
    "provider_types": (N_("Who may bid"), "types"), "min_rating": (N_("Minimum rating"), "number"),
    "min_years": (N_("Minimum years registered"), "number"),
    "cross_district": (N_("Providers from other districts"), "district"),
    "justification": (N_("Why a single source"), "long"), "criteria": (N_("How bids are scored"), "criteria"),
}


class Revision(msgspec.Struct, frozen=True):
    """A change to a published call: for each field changed, [before, after], dates and moments typed."""

    revision: int
    changed_at: datetime
    changes: dict[str, list[Any]]
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


class CallPage(Paged, kw_only=True):
    """A page of the published calls."""

    items: list[Call]


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


