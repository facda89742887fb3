"""The organisation life cycle, as data: which action moves which status where, and who may take it."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.organisations.models import Transition

TRANSITIONS: tuple[Transition, ...] = (
    Transition("verify", "pending", "verified", "platform_admin", Verb.ORGANISATION_VERIFY),
    Transition("reject", "pending", "rejected", "platform_admin", Verb.ORGANISATION_REJECT),
    Transition("resubmit", "rejected", "pending", "organisation_admin", Verb.ORGANISATION_UPDATE),
    Transition("suspend", "verified", "suspended", "platform_admin", Verb.ORGANISATION_SUSPEND),
    Transition("reinstate", "suspended", "verified", "platform_admin", Verb.ORGANISATION_REINSTATE),
)
STATUSES = ("pending", "verified", "rejected", "suspended")
ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))
ACTION_NAMES = {"verify": N_("Verify"), "reject": N_("Reject"), "resubmit": N_("Ask for verification again"),
                "suspend": N_("Suspend"), "reinstate": N_("Reinstate")}
# Actions whose reason is shown to the organisation and must be given.
REASON_REQUIRED = {"reject", "suspend"}


def find(action: str, source: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and t.source == source), None)
