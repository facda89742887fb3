from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from market.core.access import Role

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=256)]
MIN_PASSWORD_LENGTH = 10


class Membership(msgspec.Struct, frozen=True):
    organisation_id: int
    organisation_name: str
    kind: str
    status: str
    role: str
    organisation_name_en: str = ""


class Member(msgspec.Struct, frozen=True):
    user_id: int
    display_name: str
    email: str
    role: str
    created_at: datetime


class PendingInvitation(msgspec.Struct, frozen=True, kw_only=True):
    """An invitation to join the organisation not taken up yet (its members page)."""

    id: int
    email: str
    role: str
    invited_by: str
    created_at: datetime
    expires_at: datetime


class Invitation(msgspec.Struct, frozen=True, kw_only=True):
    """What an invitation's link shows the person invited: who asks them to join what, and as what."""

    organisation_id: int
    name_zh: str
    name_en: str | None
    email: str
    role: str
    invited_by: str
    expires_at: datetime


class Joining(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Signing up from an invitation's link: the address is the invitation's own."""

    password: Password
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class AccountDetails(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a person may change of themselves: the name others see, and the community they live in
    (their neighbours' needs, surveys and services)."""

    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    community_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None


class SignUp(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    community_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None


class LogIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class PasswordChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class PasswordResetRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email


class PasswordReset(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    new_password: Password


class ActAs(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    organisation_id: Annotated[int, msgspec.Meta(ge=0, le=2**62)] | None = None


# How a person wants their notices by email: each as it comes, one digest a day, or none (the inbox).
EmailChoice = Literal["each", "daily", "none"]


class EmailNotices(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email_notices: EmailChoice


class AddMember(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    role: Role


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """Who I am, the organisation I act for and the ones I may act for (the account page)."""

    user_id: int
    email: str
    display_name: str
    locale: str
    organisation_id: int | None
    organisation_kind: str | None
    organisation_status: str | None
    role: str | None
    memberships: list[Membership]
    email_notices: EmailChoice = "each"
    community_id: int | None = None
