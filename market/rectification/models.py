"""What a rectification item is: its statuses and actions with their names, what forms and JSON send,
and what the public list, the item page and their JSON twins show."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged

STATUSES = ("open", "fix_submitted", "verified", "withdrawn")
UNFINISHED = ("open", "fix_submitted")
STATUS_NAMES = {"open": N_("open, to be put right"), "fix_submitted": N_("fix submitted, waiting for verification"),
                # Not "verified", which names an organisation the platform has checked (已认证).
                "verified": N_("put right"), "withdrawn": N_("withdrawn")}
ACTION_NAMES = {"submit": N_("submit a fix"), "verify": N_("verify the fix"), "reject": N_("reject the fix"),
                "withdraw": N_("withdraw the item")}
Source = Literal["evaluation", "survey", "complaint"]
SOURCE_NAMES = {"evaluation": N_("evaluation"), "survey": N_("resident survey"), "complaint": N_("complaint")}
LEVEL_NAMES = {0: N_("in time"), 1: N_("late: its buyer has been told"),
               2: N_("late: escalated to the bureau above")}
# Who acts on an item for its owner or its buyer.
ACTORS = ("admin", "staff")


class ReasonInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)]


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """An item as the public sees it: no fix texts, no files, no people."""

    id: int
    source: str
    owner_id: int
    owner_name: str
    owner_name_en: str
    buyer_id: int
    buyer_name: str
    buyer_name_en: str
    finding_zh: str
    finding_en: str
    evidence_required: str
    due: date
    status: str
    late: bool  # not finished and past its due date
    escalation_level: int
    created_at: datetime
    verified_at: datetime | None


class Unfinished(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's items not yet verified, as a page beside its work shows them: the first few,
    late first, then by due date, and how many there are in all (the rest are on its list of items)."""

    items: list[Item] = msgspec.field(default_factory=list)
    total: int = 0


class EvidenceFile(msgspec.Struct, frozen=True, kw_only=True):
    file_id: uuid.UUID
    filename: str
    content_type: str
    link: str  # made out to the reader, expiring (storage's signed links)


class Fix(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    text: str
    submitted_at: datetime
    submitted_by: str
    files: list[EvidenceFile]
    rejected_at: datetime | None = None
    rejection_reason: str = ""


class ItemView(msgspec.Struct, frozen=True, kw_only=True):
    """The item page: public, with the fixes, their evidence and the reasons for rejections only for
    its parties (the owner, the buyer, the bureau it was escalated to) and the platform."""

    item: Item
    source_link: str | None  # where the finding was made, for the parties
    withdrawn_reason: str
    party: bool
    side: str | None  # owner, buyer, overseer or None
    may: list[str]  # actions the reader may take now
    fixes: list[Fix] | None = None  # newest first; None: not the reader's to see


class ItemList(Paged, kw_only=True):
    """A page of the public list, newest first, and how many match the filters."""

    items: list[Item]
    status: str | None
    organisation_id: int | None
    organisation_name: str | None
    organisation_name_en: str = ""
    # Unfinished items escalated to this organisation, as their late buyer or as the bureau above.
    escalated_to: int | None = None
    escalated_to_name: str | None = None
    escalated_to_name_en: str = ""


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's unfinished items, as its scorecard and fit scoring read them."""

    open: int = 0  # not finished, not late
    late: int = 0  # still open after its due date (a fix waiting for verification is not the owner's delay)
