"""What a complaint is: its statuses and actions with their names, its categories, what forms and
JSON send, and what its pages and their JSON twins show. The public views carry no complainant's
name, phone, account, text or photo: only where, what kind, who answers for it and how it stands."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_
from market.core.keyset import Paged
from market.places.models import PlacePicker

STATUSES = ("dispatched", "acknowledged", "answered", "closed", "reopened")
STATUS_NAMES = {"dispatched": N_("dispatched, waiting for acknowledgement"), "acknowledged": N_("acknowledged"),
                "answered": N_("answered"), "closed": N_("closed"), "reopened": N_("reopened")}
ACTION_NAMES = {"acknowledge": N_("acknowledge it"), "answer": N_("answer it"), "rate": N_("rate the answer"),
                "close": N_("close it"), "reopen": N_("reopen it"), "escalate": N_("escalate it")}
# The statuses in which the organisation responsible owes something, against a deadline.
OPEN = ("dispatched", "acknowledged", "reopened")
RESPONSIBLE_NAMES = {"provider": N_("the project's social organisation"), "buyer": N_("the project's buyer"),
                     "community": N_("the community's residents' committee"), "district": N_("the district's bureau")}
DAY_KIND_NAMES = {"working": N_("working days"), "calendar": N_("calendar days")}
LODGED_BY_NAMES = {"resident": N_("a resident"), "ngo": N_("a social organisation"), "buyer": N_("a buyer")}
# An answered complaint the complainant neither rates nor reopens closes by itself after this many days.
CLOSE_AFTER_DAYS = 7
MAX_PHOTOS = 3
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

Id = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
PlaceId = Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]


class ComplaintInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    category_id: PlaceId
    community_id: PlaceId
    body: Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]
    address: Annotated[str, msgspec.Meta(max_length=200)] = ""
    project_id: Id | None = None
    provider_id: Id | None = None
    contact_name: Annotated[str, msgspec.Meta(max_length=50)] = ""
    contact_phone: Annotated[str, msgspec.Meta(max_length=30, pattern=r"^[0-9+\- ]*$")] = ""


class AnswerInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    answer: Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]
    upheld: bool


class RatingInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]


class ReopenInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=1000)]


class CategoryInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    responsible: Literal["provider", "buyer", "community", "district"]
    acknowledge_days: Annotated[int, msgspec.Meta(ge=1, le=30)]
    answer_days: Annotated[int, msgspec.Meta(ge=1, le=90)]
    day_kind: Literal["working", "calendar"]
    active: bool = True


class Category(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    name_zh: str
    name_en: str
    responsible: str
    acknowledge_days: int
    answer_days: int
    day_kind: str
    active: bool


class Categories(msgspec.Struct, frozen=True, kw_only=True):
    """The categories and their time limits, public; `editable` for the platform's administrators."""

    categories: list[Category]
    editable: bool = False


class Lodged(msgspec.Struct, frozen=True, kw_only=True):
    """What lodging gives back: the complaint and its private tracking link (shown once)."""

    id: int
    tracking_link: str


class Place(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name_zh: str
    name_en: str


class Party(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name_zh: str
    name_en: str


class PublicComplaint(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the public list: never who lodged it, nor what they wrote."""

    id: int
    category: str  # the category's code
    category_zh: str
    category_en: str
    community: Place
    responsible: Party
    status: str
    escalation_level: int
    lodged_on: date
    due_on: date | None  # while the responsible organisation owes something
    late: bool
    answered_on: date | None
    closed_on: date | None
    upheld: bool | None


class ComplaintList(Paged, kw_only=True):
    """A page of the public list, newest first, and how many match the filters."""

    complaints: list[PublicComplaint]
    status: str | None = None
    category: str | None = None
    place: int | None = None  # a district, street or community
    year: int | None = None  # lodged in
    years: list[int] = []  # the years there are complaints of, the latest first
    organisation: Party | None = None
    categories: list[Category] = []


class OrganisationFigures(msgspec.Struct, frozen=True, kw_only=True):
    """How one organisation handles the complaints dispatched to it (接诉即办's published rates)."""

    organisation: Party
    lodged: int
    closed: int
    closure_rate: float | None  # closed / lodged
    answered: int
    on_time: int
    on_time_rate: float | None  # answered by the answer deadline / answered
    average_days_to_close: float | None
    rated: int
    satisfied_rate: float | None  # rated 4 or 5 / rated


class Figures(Paged, kw_only=True):
    organisations: list[OrganisationFigures]
    year: int  # the year the complaints were lodged; 0: every year
    years: list[int]  # the years there are figures for, the latest first
    place: int | None = None  # of the organisations registered there (and below)


class Photo(msgspec.Struct, frozen=True, kw_only=True):
    file_id: uuid.UUID
    filename: str
    link: str  # expiring, made out to this reader


class Escalation(msgspec.Struct, frozen=True, kw_only=True):
    level: int
    organisation: Party | None  # None: nobody above
    escalated_at: datetime
    due_was: date


class ComplaintView(msgspec.Struct, frozen=True, kw_only=True):
    """A complaint as one who may read it sees it: the organisations responsible and escalated to
    (with the complainant's contact details), the complainant (through the account or the tracking
    link) and the platform's administrators (without the contact details)."""

    id: int
    category: Category
    community: Place
    address: str
    project_id: int | None
    project_title: str | None
    provider: Party | None
    body: str
    lodged_by_kind: str
    contact_name: str | None  # None: not for this reader
    contact_phone: str | None
    responsible: Party
    status: str
    escalation_level: int
    escalations: list[Escalation]
    lodged_at: datetime
    acknowledge_by: date
    answer_by: date
    due_on: date
    late: bool
    acknowledged_at: datetime | None
    answered_at: datetime | None
    answer: str
    upheld: bool | None
    closed_at: datetime | None
    rating: int | None
    reopened_at: datetime | None
    reopen_reason: str
    photos: list[Photo]
    # What this reader may do now (actions of the life cycle), and as whom.
    actions: list[str]
    as_complainant: bool
    tracking: bool = False  # read through the tracking link


class LodgeForm(msgspec.Struct, frozen=True, kw_only=True):
    """What the lodging form offers: the active categories, the communities and what a poster's link fixed."""

    categories: list[Category]
    place_picker: PlacePicker  # where the community list stands, a level at a time
    communities: list[Place]  # those of the picker's street
    project: Party | None = None  # the project named by the link (name_zh/en: its title)
    provider: Party | None = None


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """An upheld complaint as a finding to put right (for rectification)."""

    text_zh: str
    text_en: str
    organisation_id: int  # who should fix it
    verifier_id: int  # the buyer that verifies the fix
