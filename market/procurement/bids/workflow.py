"""The life cycle of a bid, as data: from none to submitted, changed or confirmed while the call is
open, withdrawn and submitted again."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.workflow import machine

BID_STATES = ("none", "submitted", "withdrawn")
# The bidder is a verified social organisation's administrator or staff.
BIDS = machine("bid", BID_STATES, [
    ("submit", "none", "submitted", "bidder", Verb.BID_SUBMIT),
    ("submit", "withdrawn", "submitted", "bidder", Verb.BID_SUBMIT),
    ("edit", "submitted", "submitted", "bidder", Verb.BID_EDIT),
    ("withdraw", "submitted", "withdrawn", "bidder", Verb.BID_WITHDRAW),
    ("confirm", "submitted", "submitted", "bidder", Verb.BID_CONFIRM),
], action_names={"submit": N_("Submit the bid"), "edit": N_("Change my bid"), "withdraw": N_("Withdraw my bid"),
                 "confirm": N_("Confirm the bid")},
    status_names={"none": N_("not submitted"), "submitted": N_("submitted"), "withdrawn": N_("withdrawn")})
