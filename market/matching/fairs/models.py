"""The fair's shapes: what forms and JSON send, and what the board and report show."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from market.core.i18n import N_
from market.core.money import Fen

FAIR_STATUS_NAMES = {"draft": N_("being prepared"), "open": N_("open for registration"), "live": N_("live"),
                     "closed": N_("closed")}


class FairInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title_zh: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    title_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    place: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    starts_at: datetime
    ends_at: datetime


class ItemInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: Annotated[int, msgspec.Meta(ge=1)]
    target_fen: Fen
    provider_id: Annotated[int, msgspec.Meta(ge=1)] | None = None
    all_or_nothing: bool = False
    pitch: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class RaiseInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: Annotated[int, msgspec.Meta(ge=1)]
    amount_fen: Fen
    # Made by the phone when it shows the form: the same tap sent twice is one raise.
    token: uuid.UUID


class Stage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    on_stage: Annotated[int, msgspec.Meta(ge=1, le=1000)]


class Fair(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    organiser_id: int
    organiser_name: str
    organiser_name_en: str
    title_zh: str
    title_en: str
    place: str
    description: str
    starts_at: datetime
    ends_at: datetime
    status: str
    on_stage: int | None
    closed_at: datetime | None
    # For the reader: whether it organises the fair, and whether its organisation has registered.
    organiser: bool
    registered: bool


class BoardItem(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    project_id: int
    title_zh: str
    title_en: str
    provider_id: int | None
    provider_name_zh: str | None
    provider_name_en: str | None
    target_fen: int
    all_or_nothing: bool
    raised_fen: int
    matched_fen: int
    raises: int
    funders: list[str]  # who raised, by their Chinese names
    funders_en: list[str]  # the same, by their English names where they have one
    reached: bool


class Board(msgspec.Struct, frozen=True, kw_only=True):
    fair_id: int
    status: str
    on_stage: int | None
    items: list[BoardItem]
    raised_fen: int
    matched_fen: int
    raises: int
    funders: int


class FunderRaised(msgspec.Struct, frozen=True, kw_only=True):
    """What one funder raised its paddle for at the fair, and what became of those pledges since."""

    name_zh: str
    name_en: str
    raises: int
    amount_fen: int
    paid_fen: int  # paid in (a refund after an all-or-nothing target was missed still counts: it was paid)
    withdrawn_fen: int  # withdrawn by the funder or lapsed unpaid


class Report(msgspec.Struct, frozen=True, kw_only=True):
    fair: Fair
    board: Board
    by_funder: list[FunderRaised]
    # Projects that leave the fair funded: raised something, and reached the target if all or nothing.
    docked: int
    # Of what was raised: paid in since, still to be paid, withdrawn or lapsed (the pledges' word kept).
    paid_fen: int
    awaiting_fen: int
    withdrawn_fen: int


class Raise(msgspec.Struct, frozen=True, kw_only=True):
    """A paddle a funder raised, as its paddle page lists it."""

    token: uuid.UUID
    project_id: int
    title_zh: str
    amount_fen: int
    status: str
    pledge_id: int | None


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    """A project of the fair that suits a funder, by fit scoring, with the factors that earned most."""

    project_id: int
    title_zh: str
    title_en: str
    score: float
    reasons: list[str]
