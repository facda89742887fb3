"""A complaint's life cycle. The organisation responsible (or one it was escalated to) acknowledges
and answers it; the complainant rates the answer, which closes it, or reopens it once, which sends it
back; an answer nobody rates closes by itself. Escalation keeps the status and raises a level (the
complaint clock, when a deadline passes)."""

from market.audit.models import Verb
from market.complaints.models import ACTION_NAMES, STATUS_NAMES, STATUSES
from market.workflow import machine

HANDLERS = ("responsible", "escalated")

COMPLAINT = machine("complaint", STATUSES, [
    ("acknowledge", "dispatched", "acknowledged", HANDLERS, Verb.COMPLAINT_ACKNOWLEDGE),
    ("acknowledge", "reopened", "acknowledged", HANDLERS, Verb.COMPLAINT_ACKNOWLEDGE),
    # Answering at once acknowledges as well.
    ("answer", "dispatched", "answered", HANDLERS, Verb.COMPLAINT_ANSWER),
    ("answer", "acknowledged", "answered", HANDLERS, Verb.COMPLAINT_ANSWER),
    ("answer", "reopened", "answered", HANDLERS, Verb.COMPLAINT_ANSWER),
    ("rate", "answered", "closed", "complainant", Verb.COMPLAINT_RATE),
    ("close", "answered", "closed", "system", Verb.COMPLAINT_CLOSE),
    ("reopen", "answered", "reopened", "complainant", Verb.COMPLAINT_REOPEN),
    ("reopen", "closed", "reopened", "complainant", Verb.COMPLAINT_REOPEN),
    ("escalate", "dispatched", "dispatched", "system", Verb.COMPLAINT_ESCALATE),
    ("escalate", "acknowledged", "acknowledged", "system", Verb.COMPLAINT_ESCALATE),
    ("escalate", "reopened", "reopened", "system", Verb.COMPLAINT_ESCALATE),
], action_names=ACTION_NAMES, status_names=STATUS_NAMES)
