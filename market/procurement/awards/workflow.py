"""The life cycles of a review batch and of an objection, as data. A batch's status is computed
from its timestamps (batches.status_of): the notice ending (notice → decided) is time, not a step."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.procurement.awards.models import (
    BATCH_STATUS_NAMES,
    BATCH_STATUSES,
    OBJECTION_STATUS_NAMES,
)
from market.workflow import machine

BATCHES = machine("batch", BATCH_STATUSES, [
    ("decide", "reviewing", "notice", "buyer", Verb.BATCH_DECIDE),
    # An objection is raised during the notice period; the batch stays as it is.
    ("object", "notice", "notice", "proposer", Verb.OBJECTION_RAISE),
    # An upheld objection may be answered after the notice ends, but not once contracts are made.
    ("reopen", "notice", "reviewing", "buyer", Verb.BATCH_REOPEN),
    ("reopen", "decided", "reviewing", "buyer", Verb.BATCH_REOPEN),
    ("contract", "decided", "decided", "buyer", Verb.CONTRACT_CREATE),
], action_names={"decide": N_("Decide"), "object": N_("Raise the objection"), "reopen": N_("Reopen"),
                 "contract": N_("Prepare the contract")}, status_names=BATCH_STATUS_NAMES)

OBJECTION_STATUSES = ("pending", "upheld", "rejected")
OBJECTIONS = machine("objection", OBJECTION_STATUSES, [
    ("uphold", "pending", "upheld", "buyer", Verb.OBJECTION_UPHOLD),
    ("reject", "pending", "rejected", "buyer", Verb.OBJECTION_REJECT),
], action_names={"uphold": N_("Uphold it and reopen the evaluation"), "reject": N_("Reject the objection")},
    status_names=OBJECTION_STATUS_NAMES)
