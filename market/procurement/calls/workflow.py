"""What may be done to a call in each of its (computed) statuses, as data."""

from __future__ import annotations

from market.core.i18n import N_

CALL_STATUSES = ("draft", "open", "closed", "notice", "awarded", "failed", "cancelled")
CALL_ACTIONS: dict[str, frozenset[str]] = {
    "publish": frozenset({"draft"}),
    "edit": frozenset({"draft", "open"}),
    "cancel": frozenset({"draft", "open", "closed"}),
    "fail": frozenset({"closed"}),
}
CALL_ACTION_NAMES = {"publish": N_("Publish"), "edit": N_("Edit"), "cancel": N_("Cancel the call"),
                     "fail": N_("Declare the call failed")}


def allowed(action: str, status: str) -> bool:
    return status in CALL_ACTIONS.get(action, frozenset())
