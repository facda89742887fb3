from __future__ import annotations

from market.core.i18n import N_

BATCH_STATUSES = ("reviewing", "notice", "decided")
BATCH_STATUS_NAMES = {"reviewing": N_("under review"), "notice": N_("decided, under public notice"),
                      "decided": N_("decided")}
OBJECTION_STATUS_NAMES = {"pending": N_("awaiting an answer"), "upheld": N_("upheld"), "rejected": N_("rejected")}
