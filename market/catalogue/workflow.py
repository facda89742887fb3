"""The catalogue version life cycle, as data."""

from __future__ import annotations

from market.audit.models import Verb
from market.catalogue.models import Transition
from market.core.i18n import N_

EDITORS = frozenset({"admin", "staff"})
ADMINS = frozenset({"admin"})

TRANSITIONS: tuple[Transition, ...] = (
    Transition("publish", "draft", "published", ADMINS, Verb.CATALOGUE_PUBLISH),
    Transition("retire", "published", "retired", ADMINS, Verb.CATALOGUE_RETIRE),
)
STATUSES = ("draft", "published", "retired")
ACTIONS = tuple(t.action for t in TRANSITIONS)
ACTION_NAMES = {"publish": N_("Publish"), "retire": N_("Retire")}


def find(action: str, source: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.action == action and t.source == source), None)
