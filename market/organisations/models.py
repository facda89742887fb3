from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_

Kind = Literal["buyer", "provider", "funder", "evaluator", "platform"]

SUBTYPES: dict[str, tuple[str, ...]] = {
    "buyer": ("bureau", "street_office", "community"),
    "provider": ("social_group", "social_service_agency", "foundation"),
    "funder": ("enterprise", "foundation", "individual"),
    "evaluator": ("agency", "expert"),
    "platform": ("platform",),
}
KIND_NAMES = {"buyer": N_("Buyer"), "provider": N_("Service provider"), "funder": N_("Funder"),
              "evaluator": N_("Evaluation organisation"), "platform": N_("Platform")}
SUBTYPE_NAMES = {
    "bureau": N_("Civil-affairs bureau"), "street_office": N_("Street office"), "community": N_("Community committee"),
    "social_group": N_("Social group"), "social_service_agency": N_("Social service agency"), "foundation": N_("Foundation"),
    "enterprise": N_("Enterprise"), "individual": N_("Individual donor"), "agency": N_("Evaluation agency"),
    "expert": N_("Individual expert"), "platform": N_("Platform"),
}
STATUS_NAMES = {"pending": N_("awaiting verification"), "verified": N_("verified"), "rejected": N_("rejected"),
                "suspended": N_("suspended")}
# A buyer sits at the level of government it belongs to.
BUYER_LEVEL = {"bureau": "district", "street_office": "street", "community": "community"}
# Individual donors and individual experts are people, who have no unified social credit code.
NO_CREDIT_CODE = {"individual", "expert"}

Name = Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
ShortText = Annotated[str, msgspec.Meta(max_length=100)]


class Organisation(msgspec.Struct, frozen=True):
    id: int
    kind: str
    subtype: str
    name_zh: str
    name_en: str
    credit_code: str | None
    jurisdiction_id: int
    rating: int | None
    registration_date: date | None
    description: str
    status: str
    created_at: datetime
    verified_at: datetime | None


class OrganisationPrivate(Organisation, frozen=True):
    """What only the organisation's own members and the platform see."""

    contact_name: str
    contact_phone: str
    contact_email: str
    address: str
    status_reason: str
    # Where bank transfers to the organisation go; funders paying it see these too.
    bank_account_name: str = ""
    bank_name: str = ""
    bank_account_number: str = ""


class OrganisationInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["buyer", "provider", "funder", "evaluator"]
    subtype: Literal["bureau", "street_office", "community", "social_group", "social_service_agency",
                     "foundation", "enterprise", "individual", "agency", "expert"]
    name_zh: Name
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    credit_code: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    jurisdiction_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    registration_date: date | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    contact_name: ShortText = ""
    contact_phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    contact_email: Annotated[str, msgspec.Meta(max_length=254)] = ""
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    bank_account_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    bank_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    bank_account_number: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[0-9 -]*$")] = ""


class StatusChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""

