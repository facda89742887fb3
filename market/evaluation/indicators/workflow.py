"""The life cycle of an indicator system version, as data: a draft is published (then it never
changes, and contracts signed under it keep it) and retired when a newer version replaces it."""

from __future__ import annotations

from market.audit.models import Verb
from market.core.i18n import N_
from market.evaluation.indicators.models import STATUS_NAMES
from market.workflow import machine

# Staff of the bureau (or the platform) edit drafts; its administrators publish and retire.
EDITORS = frozenset({"admin", "staff"})
ACTION_NAMES = {"publish": N_("Publish"), "retire": N_("Retire")}
VERSION = machine("indicator_version", ("draft", "published", "retired"), [
    ("publish", "draft", "published", "admin", Verb.INDICATORS_PUBLISH),
    ("retire", "published", "retired", "admin", Verb.INDICATORS_RETIRE),
], action_names=ACTION_NAMES, status_names=STATUS_NAMES)
