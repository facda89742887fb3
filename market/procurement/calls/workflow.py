"""The life cycle of a call, as data. A call's status is computed from its timestamps (calls.status_of),
never stored: a step writes the timestamp that makes the call what the transition says; the
deadline passing (open → closed) and the notice ending (notice → awarded) are time, not steps."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.procurement.calls.models import CALL_STATUS_NAMES
from market.workflow import machine

CALL_STATUSES = ("draft", "open", "closed", "notice", "awarded", "failed", "cancelled")
CALL_ACTION_NAMES = {"publish": N_("Publish"), "edit": N_("Edit"), "cancel": N_("Cancel the call"),
                     "fail": N_("Declare the call failed"), "award": N_("Award")}
CALLS = machine("call", CALL_STATUSES, [
    ("publish", "draft", "open", "buyer", Verb.CALL_PUBLISH),
    ("edit", "draft", "draft", "buyer", Verb.CALL_EDIT),
    ("edit", "open", "open", "buyer", Verb.CALL_EDIT),
    *[("cancel", status, "cancelled", "buyer", Verb.CALL_CANCEL) for status in ("draft", "open", "closed")],
    ("fail", "closed", "failed", "buyer", Verb.CALL_FAIL),
    ("award", "closed", "notice", "buyer", Verb.CALL_AWARD),
], action_names=CALL_ACTION_NAMES, status_names=CALL_STATUS_NAMES)
