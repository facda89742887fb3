from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged

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


class NeedPage(Paged, kw_only=True):
    """A page of the needs list (需求清单)."""

    items: list[Need]


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


class ProjectPage(Paged, kw_only=True):
    """A page of the project list (项目清单)."""

    items: list[Project]


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A catalogue item as pages name it."""

    id: int
    code: str
    name_zh: str
    name_en: str
