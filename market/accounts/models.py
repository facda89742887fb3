from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from market.i18n import N_

Role = Literal["admin", "staff", "finance", "evaluator"]
ROLE_NAMES = {"admin": N_("Administrator"), "staff": N_("Staff"), "finance": N_("Finance"), "evaluator": N_("Evaluator")}

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=256)]
MIN_PASSWORD_LENGTH = 10


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    """Who is making a request: the user, and the organisation they act for (if any)."""

    user_id: int
    email: str
    display_name: str
    locale: str
    community_id: int | None
    session_hash: str
    org_id: int | None = None
    org_kind: str | None = None
    org_status: str | None = None
    org_name_zh: str | None = None
    org_name_en: str | None = None
    role: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.org_kind == "platform" and self.role == "admin" and self.org_status == "verified"

    @property
    def acts_for_verified(self) -> bool:
        return self.org_id is not None and self.org_status == "verified"

    @property
    def dashboard(self) -> str:
        """Which dashboard the user sees: their organisation's kind, or resident."""
        return self.org_kind if self.org_id is not None else "resident"


class Membership(msgspec.Struct, frozen=True):
    organisation_id: int
    organisation_name: str
    kind: str
    status: str
    role: str


class Member(msgspec.Struct, frozen=True):
    user_id: int
    display_name: str
    email: str
    role: str
    created_at: datetime


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


class AddMember(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    role: Role
