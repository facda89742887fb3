"""An item's life cycle: the owner submits a fix with its evidence; the buyer verifies it, or
rejects it with a reason and the item is open again; the buyer withdraws an item raised in error."""

from market.audit.models import Verb
from market.rectification.models import ACTION_NAMES, STATUS_NAMES, STATUSES
from market.workflow import machine

ITEM = machine("rectification_item", STATUSES, [
    ("submit", "open", "fix_submitted", "owner", Verb.RECTIFICATION_SUBMIT),
    ("verify", "fix_submitted", "verified", "buyer", Verb.RECTIFICATION_VERIFY),
    ("reject", "fix_submitted", "open", "buyer", Verb.RECTIFICATION_REJECT),
    ("withdraw", "open", "withdrawn", "buyer", Verb.RECTIFICATION_WITHDRAW),
    ("withdraw", "fix_submitted", "withdrawn", "buyer", Verb.RECTIFICATION_WITHDRAW),
], action_names=ACTION_NAMES, status_names=STATUS_NAMES)
