"""Pledges and their payments: statuses and their names, what forms and JSON send, what pages show."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged
from market.core.money import Fen


PledgeStatus = Literal["pledged", "awaiting_payment", "paid", "allocated", "disbursed", "cancelled", "refunded"]
PLEDGE_STATUSES: tuple[str, ...] = get_args(PledgeStatus)
# A pledge that still stands: money a project can count on (SQL over `pledges`).
LIVE_PLEDGES = "status not in ('cancelled', 'refunded')"
PLEDGE_STATUS_NAMES = {"pledged": N_("pledged"), "awaiting_payment": N_("awaiting payment"), "paid": N_("paid"),
                       "allocated": N_("allocated"), "disbursed": N_("disbursed"), "cancelled": N_("cancelled"),
                       "refunded": N_("refunded")}

PLEDGE_ACTION_NAMES = {"pay": N_("pay the pledge"), "confirm": N_("confirm its payment"),
                       "allocate": N_("allocate it to a project"), "disburse": N_("pay it out to the provider"),
                       "cancel": N_("cancel the pledge"), "lapse": N_("let the pledge lapse unpaid"),
                       "refund": N_("refund the pledge"),
                       "return": N_("return its money to the fund")}

PAYMENT_STATUSES = ("pending", "confirmed", "rejected", "failed")
PAYMENT_ACTION_NAMES = {"confirm": N_("confirm the payment"), "reject": N_("reject the payment"),
                        "fail": N_("record that the payment did not complete")}
PAYMENT_STATUS_NAMES = {"pending": N_("waiting to be confirmed"), "confirmed": N_("confirmed"),
                        "rejected": N_("rejected"), "failed": N_("not completed")}
PAYMENT_METHOD_NAMES = {"offline": N_("bank transfer"), "stripe": N_("online (card, Alipay, WeChat Pay)")}
MOVEMENT_NAMES = {"payment": N_("paid in"), "allocation": N_("allocated to the project"), "refund": N_("refunded"),
                  "disbursement": N_("paid to the provider"), "matching": N_("matching"), "reversal": N_("reversed"),
                  "appropriation": N_("government budget"), "return": N_("returned to the fund")}

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
    funder_name_en: str
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
    # While pledged: the day it must be paid by, or it lapses (None: its need is not a project yet).
    pay_by: date | None = None


class PledgeList(Paged, kw_only=True):
    """A page of a funder's own pledges, newest first."""

    items: list[Pledge]
    status: str | None = None


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
    funder_name_en: str
    target_title: str | None
    target_title_en: str


class TrailStep(msgspec.Struct, frozen=True, kw_only=True):
    """Where a pledge's money went: one ledger movement, and the contract milestone it paid, if any."""

    kind: str
    amount_fen: int
    at: datetime
    project_id: int | None
    project_title: str | None
    contract_id: int | None
    milestone: str | None


class PledgeView(Pledge, frozen=True, kw_only=True):
    """The pledge page: the pledge with its payments, where its money went, what the reader may do."""

    payments: list[Payment] = msgspec.field(default_factory=list)
    pending: Payment | None = None  # the payment waiting to be confirmed, if any
    trail: list[TrailStep] = msgspec.field(default_factory=list)
    is_funder: bool = False
    is_receiver: bool = False
    online: bool = False  # online payment is offered
    bank: dict[str, str] | None = None  # the receiver's account, for its funder to transfer to
    # who receives the money: the project's buyer or the fund's holder (none yet for a need's pledge)
    receiver_id: int | None = None
    receiver_name: str = ""
    receiver_name_en: str = ""


class PaymentQueue(Paged, kw_only=True):
    """The transfers page: a page of the transfers recorded to the reader's organisation, waiting for
    its word, the longest waiting first."""

    items: list[Payment]
    may_decide: bool  # the reader is one of its administrators or finance staff
