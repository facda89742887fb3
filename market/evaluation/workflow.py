"""The life cycle of a panel, as data: formed by its owner, scored by its members, closed when a
result stands on its scores and reopened when an objection is upheld."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.workflow import machine

PANEL_STATUSES = ("forming", "scoring", "closed")
PANEL_STATUS_NAMES = {"forming": N_("being formed"), "scoring": N_("scoring"), "closed": N_("closed")}
# The owner is the organisation that formed the panel; members and the chair sit on it; an agency
# is the evaluator organisation an owner may hand the panel to, which assigns its own experts.
PANELS = machine("panel", PANEL_STATUSES, [
    ("assign_agency", "forming", "forming", "owner", Verb.PANEL_AGENCY),
    ("add_member", "forming", "forming", ("owner", "agency"), Verb.PANEL_MEMBER_ADD),
    ("start", "forming", "scoring", ("owner", "agency"), Verb.PANEL_START),
    ("declare", "scoring", "scoring", "member", Verb.PANEL_DECLARE),
    ("score", "scoring", "scoring", "member", Verb.PANEL_SCORE),
    ("note", "scoring", "scoring", "member", Verb.PANEL_NOTE),
    ("submit", "scoring", "scoring", "member", Verb.PANEL_SUBMIT),
    ("consensus", "scoring", "scoring", "chair", Verb.PANEL_CONSENSUS),
    ("close", "scoring", "closed", "owner", Verb.PANEL_CLOSE),
    ("reopen", "closed", "scoring", "owner", Verb.PANEL_REOPEN),
], action_names={"assign_agency": N_("Hand to an agency"), "add_member": N_("Add a member"),
                 "note": N_("Write a note"), "submit": N_("Submit your scores"), "start": N_("Start scoring"),
                 "declare": N_("Declare"), "score": N_("Score"), "consensus": N_("Record the consensus"), "close": N_("Close"),
                 "reopen": N_("Reopen")}, status_names=PANEL_STATUS_NAMES)
