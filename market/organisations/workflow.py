"""The organisation life cycle, as data: which action moves which status where, and who may take it."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.organisations.models import STATUS_NAMES
from market.workflow import machine

ACTION_NAMES = {"verify": N_("Verify"), "reject": N_("Reject"), "resubmit": N_("Ask for verification again"),
                "suspend": N_("Suspend"), "reinstate": N_("Reinstate")}
ORGANISATION = machine("organisation", ("pending", "verified", "rejected", "suspended"), [
    ("verify", "pending", "verified", "platform_admin", Verb.ORGANISATION_VERIFY),
    ("reject", "pending", "rejected", "platform_admin", Verb.ORGANISATION_REJECT),
    ("resubmit", "rejected", "pending", "organisation_admin", Verb.ORGANISATION_RESUBMIT),
    ("suspend", "verified", "suspended", "platform_admin", Verb.ORGANISATION_SUSPEND),
    ("reinstate", "suspended", "verified", "platform_admin", Verb.ORGANISATION_REINSTATE),
], action_names=ACTION_NAMES, status_names=STATUS_NAMES)
# Actions whose reason is shown to the organisation and must be given.
REASON_REQUIRED = {"reject", "suspend"}
# The platform's decisions its organisation's people are told of: action → notification kind.
TOLD = {"verify": "organisation_verified", "reject": "organisation_rejected", "suspend": "organisation_suspended",
        "reinstate": "organisation_reinstated"}
