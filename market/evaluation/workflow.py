"""What may be done to a panel in each of its states, and where each step leads, as data."""

from __future__ import annotations

from market.core.i18n import N_

PANEL_STATUSES = ("forming", "scoring", "closed")
PANEL_STATUS_NAMES = {"forming": N_("being formed"), "scoring": N_("scoring"), "closed": N_("closed")}
# action → the statuses it may be taken in
PANEL_ACTIONS: dict[str, frozenset[str]] = {
    "add_member": frozenset({"forming"}),
    "start": frozenset({"forming"}),
    "declare": frozenset({"scoring"}),
    "score": frozenset({"scoring"}),
    "consensus": frozenset({"scoring"}),
    "close": frozenset({"scoring"}),
    "reopen": frozenset({"closed"}),
}
# actions that move the panel to another status
PANEL_MOVES = {"start": "scoring", "close": "closed", "reopen": "scoring"}


def allowed(action: str, status: str) -> bool:
    return status in PANEL_ACTIONS[action]
