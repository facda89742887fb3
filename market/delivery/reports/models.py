"""What a report is: its statuses and evidence kinds with their names, what forms and JSON send, and
what the report page and its JSON twin show."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_

REPORT_STATUSES = ("draft", "submitted", "returned", "resubmitted", "accepted")
REPORT_STATUS_NAMES = {"draft": N_("not yet submitted"), "submitted": N_("submitted, waiting for review"),
                       "returned": N_("returned for correction"),
                       "resubmitted": N_("resubmitted, waiting for review"), "accepted": N_("accepted")}
REPORT_ACTION_NAMES = {"save": N_("save the draft"), "submit": N_("submit the report"),
                       "return": N_("return it for correction"), "resubmit": N_("resubmit the report"),
                       "accept": N_("accept the report")}
# The reason a stage failed when its report was not filed by the end of the grace period.
NOT_FILED = N_("The report was not filed by the end of the grace period.")
EVIDENCE_KIND_NAMES = {"photo": N_("photo"), "sign_in_sheet": N_("sign-in sheet"), "document": N_("document")}
EvidenceKind = Literal["photo", "sign_in_sheet", "document"]
# Spent on one line: whole fen, nothing or more, at most a billion yuan.
SpentFen = Annotated[int, msgspec.Meta(ge=0, le=100_000_000_000)]


class TargetInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How far one target of the bid was reached; `position` counts the bid's targets from 1."""

    position: Annotated[int, msgspec.Meta(ge=1, le=50)]
    achieved: Annotated[float, msgspec.Meta(ge=0, le=1e12)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class SpendingInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What was spent on one budget line of the bid; `position` counts the bid's lines from 1."""

    position: Annotated[int, msgspec.Meta(ge=1, le=50)]
    spent_fen: SpentFen = 0


class ReportInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The draft as the provider writes it; a draft may be incomplete, a submitted report may not."""

    activities: Annotated[str, msgspec.Meta(max_length=8000)] = ""
    narrative: Annotated[str, msgspec.Meta(max_length=8000)] = ""
    targets: Annotated[list[TargetInput], msgspec.Meta(max_length=50)] = []
    spending: Annotated[list[SpendingInput], msgspec.Meta(max_length=50)] = []


class ReturnInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(min_length=5, max_length=4000)]


class Target(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    name: str
    target: str
    achieved: float | None
    note: str


class Spending(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    item: str
    budget_fen: int
    spent_fen: int


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    file_id: uuid.UUID
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    link: str  # made out to the reader, expiring (storage's signed links)


class ReportVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One version: the working draft (not submitted) or a submitted one, frozen, with the buyer's
    comment if it was returned."""

    version: int
    activities: str
    narrative: str
    targets: list[Target]
    spending: list[Spending]
    evidence: list[Evidence]
    edited_at: datetime
    submitted_at: datetime | None
    submitted_by: str | None
    returned_at: datetime | None
    returned_by: str | None
    comment: str

    @property
    def spent_fen(self) -> int:
        return sum(line.spent_fen for line in self.spending)


class ReportView(msgspec.Struct, frozen=True, kw_only=True):
    """The report page: the milestone it reports on, where it stands, what the reader may do, the
    working draft (the provider's side only) and every submitted version, newest first."""

    contract_id: int
    position: int
    stage: str
    milestone_title: str
    title_zh: str
    title_en: str
    buyer_name: str
    buyer_name_en: str
    provider_name: str
    provider_name_en: str
    due_date: date
    grace_ends: date  # not filed by the end of this day, the stage counts as failed
    status: str
    late: bool
    failed: bool  # not filed within the grace period: a failed evaluation of its stage
    submitted_at: datetime | None
    accepted_at: datetime | None
    side: str | None  # the reader's side in the contract: buyer, provider or None
    may: list[str]  # the actions the reader may take now: save, submit, resubmit, return, accept
    paid_fen: int  # paid to the provider under this contract so far; spending may not exceed it
    draft: ReportVersion | None
    versions: list[ReportVersion]
