from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


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
