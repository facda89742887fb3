"""The catalogue version life cycle, as data."""

from __future__ import annotations

from market.audit.models import Verb
from market.catalogue.models import VERSION_STATUS_NAMES
from market.core.i18n import N_
from market.workflow import machine

EDITORS = frozenset({"admin", "staff"})

ACTION_NAMES = {"publish": N_("Publish"), "retire": N_("Retire")}
# Who takes a step is a role in the bureau that keeps the catalogue.
VERSION = machine("catalogue_version", ("draft", "published", "retired"), [
    ("publish", "draft", "published", "admin", Verb.CATALOGUE_PUBLISH),
    ("retire", "published", "retired", "admin", Verb.CATALOGUE_RETIRE),
], action_names=ACTION_NAMES, status_names=VERSION_STATUS_NAMES)
