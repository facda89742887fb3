"""The life cycle of a need, as data. Approval happens when a buyer makes a project of it."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.procurement.needs.models import Transition

NEED_TRANSITIONS: tuple[Transition, ...] = (
    Transition("withdraw", "open", "withdrawn", "raiser", Verb.NEED_WITHDRAW),
    Transition("decline", "open", "declined", "buyer", Verb.NEED_DECLINE),
    Transition("reopen", "declined", "open", "buyer", Verb.NEED_REOPEN),
    Transition("approve", "open", "approved", "buyer", Verb.NEED_APPROVE),
)
NEED_STATUSES = ("open", "declined", "withdrawn", "approved")
NEED_ACTIONS = tuple(t.action for t in NEED_TRANSITIONS)
NEED_ACTION_NAMES = {"withdraw": N_("Withdraw"), "decline": N_("Decline"), "reopen": N_("Reopen"),
                     "approve": N_("Approve as a project")}
# Shown to the raiser and the public, so it must be given.
REASON_REQUIRED = {"decline"}


def find_need_step(action: str, source: str) -> Transition | None:
    return next((t for t in NEED_TRANSITIONS if t.action == action and t.source == source), None)
