"""What a contract is: its statuses and milestone kinds with their names, what forms and JSON
send, and what pages and JSON show."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_, gettext

CONTRACT_STATUS_NAMES = {"draft": N_("awaiting signatures"), "buyer_signed": N_("signed by the buyer"),
                         "provider_signed": N_("signed by the provider"), "signed": N_("signed by both parties")}
MILESTONE_KIND_NAMES = {"delivery": N_("delivery"), "report": N_("report"), "payment": N_("payment")}
# What a payment milestone waits for before it may be accepted and paid.
WAITS_FOR_NAMES = {"none": N_("nothing"), "midterm": N_("a passed mid-term evaluation"),
                   "final": N_("a passed final evaluation")}
WaitsFor = Literal["none", "midterm", "final"]
# What a report milestone reports on: a mid-term or final report, which the evaluation of that stage
# reads, or a progress report between them.
REPORT_STAGE_NAMES = {"progress": N_("progress report"), "midterm": N_("mid-term report"),
                      "final": N_("final report")}
ReportStage = Literal["progress", "midterm", "final"]
CONTRACT_STATUSES = ("draft", "buyer_signed", "provider_signed", "signed")


class MilestoneInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["delivery", "report", "payment"]
    title: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    due_date: date
    payment_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    waits_for: WaitsFor = "none"
    stage: ReportStage | None = None  # report milestones only; unsaid, a progress report


class Milestones(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    milestones: Annotated[list[MilestoneInput], msgspec.Meta(min_length=1, max_length=30)]


class Contract(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    call_id: int
    buyer_id: int
    provider_id: int
    buyer_name: str
    buyer_name_en: str
    provider_name: str
    provider_name_en: str
    title_zh: str
    title_en: str
    amount_fen: int
    service_start: date
    service_end: date
    service_place: str
    status: str
    buyer_signed_at: datetime | None
    provider_signed_at: datetime | None
    milestones: list[MilestoneInput] = []


# The standard milestones' titles. A contract stores them in Chinese, as it is signed; pages in
# English show these English names (whose translations are the Chinese titles), and the PDF both.
# A title the parties typed themselves is shown as typed.
STANDARD_TITLES = {
    "合同签订后首期拨付": N_("First payment, on signing"),
    "中期报告及中期评估": N_("Mid-term report and evaluation"),
    "中期评估合格后二期拨付": N_("Second payment, after a passed mid-term evaluation"),
    "服务全部交付": N_("All services delivered"),
    "末期报告及末期评估": N_("Final report and evaluation"),
    "末期评估合格后尾款拨付": N_("Final payment, after a passed final evaluation"),
}


def milestone_title(title: str) -> str:
    """A milestone's title in the page's language, where it is a standard one."""
    return gettext(STANDARD_TITLES[title]) if title in STANDARD_TITLES else title
