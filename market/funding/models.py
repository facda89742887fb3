"""Funding's shapes: the resources list, pledges, payments and what forms and JSON send."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_

Fen = Annotated[int, msgspec.Meta(gt=0, le=100_000_000_000)]


class Step(msgspec.Struct, frozen=True):
    """One allowed move of a life cycle: `action` takes `source` to `target`."""

    action: str
    source: str
    target: str


PLEDGE_STATUSES = ("pledged", "awaiting_payment", "paid", "allocated", "disbursed", "cancelled", "refunded")
PLEDGE_STATUS_NAMES = {"pledged": N_("pledged"), "awaiting_payment": N_("awaiting payment"), "paid": N_("paid"),
                       "allocated": N_("allocated"), "disbursed": N_("disbursed"), "cancelled": N_("cancelled"),
                       "refunded": N_("refunded")}

PAYMENT_STATUS_NAMES = {"pending": N_("waiting to be confirmed"), "confirmed": N_("confirmed"),
                        "rejected": N_("rejected"), "failed": N_("not completed")}
PAYMENT_METHOD_NAMES = {"offline": N_("bank transfer"), "stripe": N_("online (card, Alipay, WeChat Pay)")}
MOVEMENT_NAMES = {"payment": N_("paid in"), "allocation": N_("allocated to the project"), "refund": N_("refunded"),
                  "disbursement": N_("paid to the provider"), "matching": N_("matching"), "reversal": N_("reversed"),
                  "appropriation": N_("government budget")}

EVALUATION_STAGE_NAMES = {"call": N_("selection"), "midterm": N_("mid-term"), "final": N_("final")}


class PledgeInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    target_type: Literal["project", "need", "fund"]
    target_id: Annotated[int, msgspec.Meta(ge=1)]
    amount_fen: Fen
    # All or nothing: only if the project raises this much by the deadline, refunded otherwise.
    condition_target_fen: Fen | None = None
    condition_deadline: datetime | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class OfflinePaymentInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    bank_reference: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    paid_on: date
    receipt_file: str | None = None


class Pledge(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    funder_id: int
    funder_name: str
    target_type: str
    project_id: int | None
    need_id: int | None
    fund_id: int | None
    target_title: str
    # The project's or fund's English title, where it has one (a need's title is the resident's words).
    target_title_en: str
    amount_fen: int
    status: str
    condition_target_fen: int | None
    condition_deadline: datetime | None
    allocated_project_id: int | None
    disbursed_fen: int
    created_at: datetime


class Payment(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    pledge_id: int
    method: str
    amount_fen: int
    status: str
    bank_reference: str
    paid_on: date | None
    receipt_file: str | None
    recorded_at: datetime
    decided_at: datetime | None
    reject_reason: str
    failure: str
    funder_name: str
    target_title: str | None
    target_title_en: str


ResourceKind = Literal["money", "goods", "venue", "volunteer_hours"]
RESOURCE_KIND_NAMES = {"money": N_("money"), "goods": N_("goods in kind"), "venue": N_("venue"),
                       "volunteer_hours": N_("volunteer hours")}
# A fixed list, so a funder's preference and a filter mean the same group; needs describe theirs in words.
BeneficiaryGroup = Literal["older_people", "children", "young_people", "disabled", "low_income", "women", "migrants"]
BENEFICIARY_GROUP_NAMES = {"older_people": N_("older people"), "children": N_("children"),
                           "young_people": N_("young people"), "disabled": N_("people with disabilities"),
                           "low_income": N_("families on low incomes"), "women": N_("women"),
                           "migrants": N_("migrant workers and their families")}
CategoryCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}$")]
PlaceId = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]


class ResourceInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a funder offers. Money has an amount; goods, venues and volunteer hours say how much in
    `quantity`. Empty preferences mean any category, anywhere, anyone."""

    kind: ResourceKind
    title: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    amount_fen: Fen | None = None
    quantity: Annotated[str, msgspec.Meta(max_length=200)] = ""
    available_from: date | None = None
    available_until: date | None = None
    categories: Annotated[list[CategoryCode], msgspec.Meta(max_length=30)] = []
    jurisdiction_ids: Annotated[list[PlaceId], msgspec.Meta(max_length=100)] = []
    beneficiary_groups: Annotated[list[BeneficiaryGroup], msgspec.Meta(max_length=10)] = []
    conditions: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    private: bool = False


class Resource(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    funder_id: int
    funder_name_zh: str
    funder_name_en: str
    kind: str
    title: str
    description: str
    amount_fen: int | None
    quantity: str
    available_from: date | None
    available_until: date | None
    categories: list[str]
    jurisdiction_ids: list[int]
    beneficiary_groups: list[str]
    conditions: str
    private: bool
    created_at: datetime
    withdrawn_at: datetime | None


class ResourceFit(msgspec.Struct, frozen=True, kw_only=True):
    """A resource that suits a need: whether it names the need's category and place or is open to
    any, and the reason in words."""

    resource: Resource
    names_category: bool
    names_place: bool
    reason: str
