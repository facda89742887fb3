"""The life cycle of a need, as data. Approval happens when a buyer makes a project of it."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.procurement.needs.models import NEED_STATUS_NAMES
from market.workflow import machine

NEED_STATUSES = ("open", "declined", "withdrawn", "approved")
NEED_ACTION_NAMES = {"withdraw": N_("Withdraw"), "decline": N_("Decline"), "reopen": N_("Reopen"),
                     "approve": N_("Approve as a project")}
# The raiser is the person who raised the need; a buyer is one whose area includes its community.
NEEDS = machine("need", NEED_STATUSES, [
    ("withdraw", "open", "withdrawn", "raiser", Verb.NEED_WITHDRAW),
    ("decline", "open", "declined", "buyer", Verb.NEED_DECLINE),
    ("reopen", "declined", "open", "buyer", Verb.NEED_REOPEN),
    ("approve", "open", "approved", "buyer", Verb.NEED_APPROVE),
], action_names=NEED_ACTION_NAMES, status_names=NEED_STATUS_NAMES)
# Shown to the raiser and the public, so it must be given.
REASON_REQUIRED = {"decline"}
