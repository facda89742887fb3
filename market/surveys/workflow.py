"""A survey's life: the buyer opens it, closes it (its figures are then judged against the
threshold) and may reopen it while the contract is in delivery. A community's standing survey is
made open and stays so. A resident's comment waits for the buyer, who publishes or hides it, and may
change their mind."""

from market.audit.models import Verb
from market.surveys.models import (
    SURVEY_ACTION_NAMES,
    SURVEY_STATUS_NAMES,
    SURVEY_STATUSES,
    TEXT_ACTION_NAMES,
    TEXT_STATUS_NAMES,
    TEXT_STATUSES,
)
from market.workflow import machine

SURVEY = machine("survey", SURVEY_STATUSES, [
    ("open", "draft", "open", "buyer", Verb.SURVEY_OPEN),
    ("close", "open", "closed", "buyer", Verb.SURVEY_CLOSE),
    ("reopen", "closed", "open", "buyer", Verb.SURVEY_REOPEN),
], action_names=SURVEY_ACTION_NAMES, status_names=SURVEY_STATUS_NAMES)

SURVEY_TEXT = machine("survey_text", TEXT_STATUSES, [
    ("publish", "pending", "published", "buyer", Verb.SURVEY_TEXT_PUBLISH),
    ("hide", "pending", "hidden", "buyer", Verb.SURVEY_TEXT_HIDE),
    ("hide", "published", "hidden", "buyer", Verb.SURVEY_TEXT_HIDE),
    ("publish", "hidden", "published", "buyer", Verb.SURVEY_TEXT_PUBLISH),
], action_names=TEXT_ACTION_NAMES, status_names=TEXT_STATUS_NAMES)
