"""A report's life cycle: the provider saves and submits it; the buyer returns it with comments or
accepts it; a returned report is corrected and resubmitted, as often as it takes."""

from market.audit.models import Verb
from market.delivery.reports.models import REPORT_ACTION_NAMES, REPORT_STATUS_NAMES, REPORT_STATUSES
from market.workflow import machine

REPORT = machine("delivery_report", REPORT_STATUSES, [
    ("save", "draft", "draft", "provider", Verb.REPORT_SAVE),
    ("save", "returned", "returned", "provider", Verb.REPORT_SAVE),
    ("submit", "draft", "submitted", "provider", Verb.REPORT_SUBMIT),
    ("return", "submitted", "returned", "buyer", Verb.REPORT_RETURN),
    ("return", "resubmitted", "returned", "buyer", Verb.REPORT_RETURN),
    ("resubmit", "returned", "resubmitted", "provider", Verb.REPORT_RESUBMIT),
    ("accept", "submitted", "accepted", "buyer", Verb.REPORT_ACCEPT),
    ("accept", "resubmitted", "accepted", "buyer", Verb.REPORT_ACCEPT),
], action_names=REPORT_ACTION_NAMES, status_names=REPORT_STATUS_NAMES)
