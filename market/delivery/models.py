"""What delivery's pages and JSON show."""

from __future__ import annotations

from datetime import datetime

import msgspec

from market.procurement.contracts.models import Contract


class MilestoneState(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    accepted_at: datetime | None
    paid_fen: int
    amount_fen: int  # what accepting it pays (0 for a milestone that pays nothing)
    acceptable: bool
    why_not: str | None  # in the reader's language
    report_status: str | None = None  # a report milestone's report: draft, submitted, … (None: not started)
    report_late: bool = False


class ContractView(Contract, frozen=True, kw_only=True):
    """The contract page: the contract, the reader's side in it, whether the reader may sign, and
    where each milestone stands (`states`, in the milestones' order)."""

    side: str | None = None
    can_sign: bool = False
    states: list[MilestoneState] = msgspec.field(default_factory=list)
    just_accepted: MilestoneState | None = None  # the milestone `?accepted=` names, once accepted
