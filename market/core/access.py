"""Who may use a route. Every route handler declares an ``Access`` in ``opt["access"]``; the guard
refuses any route that declares none, so a forgotten declaration fails closed."""

from __future__ import annotations

from typing import Literal

import msgspec

from market.core.errors import Forbidden, NotAuthenticated
from market.core.i18n import N_, Msg, gettext, series

Role = Literal["admin", "staff", "finance", "evaluator"]
ROLE_NAMES = {"admin": N_("Administrator"), "staff": N_("Staff"), "finance": N_("Finance"), "evaluator": N_("Evaluator")}


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
    # How many organisations the person belongs to: a page refused to one of them may be another's.
    organisations: int = 0

    @property
    def is_platform_admin(self) -> bool:
        return self.org_kind == "platform" and self.role == "admin" and self.org_status == "verified"

    @property
    def acts_for_verified(self) -> bool:
        return self.org_id is not None and self.org_status == "verified"

    @property
    def dashboard(self) -> str:
        """Which dashboard the user sees: their organisation's kind, or resident."""
        return self.org_kind if self.org_id is not None and self.org_kind else "resident"


class Access(msgspec.Struct, frozen=True):
    name: str
    signed_in: bool = True
    kinds: frozenset[str] | None = None
    roles: frozenset[str] | None = None

    def check(self, identity: Identity | None) -> None:
        if not self.signed_in:
            return
        if identity is None:
            raise NotAuthenticated()
        if self.kinds is None:
            return
        if identity.org_id is None or identity.org_kind not in self.kinds:
            raise Forbidden("This page is for %(who)s.", who=Msg(self.name))
        if identity.org_status != "verified":
            raise Forbidden("Your organisation has not been verified yet; the platform checks every "
                            "organisation before it can act here.")
        if self.roles is not None and identity.role not in self.roles:
            raise Forbidden("This needs one of these roles in your organisation: %(roles)s.",
                            roles=series(gettext(ROLE_NAMES[r]) for r in sorted(self.roles)))

    def allows(self, identity: Identity | None) -> bool:
        try:
            self.check(identity)
        except (NotAuthenticated, Forbidden):
            return False
        return True


def member(name: str, *kinds: str, roles: set[str] | None = None) -> Access:
    return Access(name, kinds=frozenset(kinds), roles=frozenset(roles) if roles else None)


PUBLIC = Access(N_("everyone"), signed_in=False)
SIGNED_IN = Access(N_("signed-in users"))
PLATFORM_ADMIN = member(N_("platform administrators"), "platform", roles={"admin"})
