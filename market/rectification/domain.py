from litestar.datastructures import State

from market.core.domain import Domain
from market.core.i18n import N_
from market.rectification import jobs
from market.rectification.controllers import RectificationApi, RectificationPages
from market.rectification.models import LEVEL_NAMES, SOURCE_NAMES, STATUS_NAMES


async def _clock(state: State) -> None:
    await jobs.run(state.pool, state.settings.rectification_escalate_days, state.settings.timezone)


DOMAIN = Domain(
    "rectification",
    routes=[RectificationPages, RectificationApi],
    template_globals={
        "RECTIFICATION_STATUS_NAMES": STATUS_NAMES, "RECTIFICATION_SOURCE_NAMES": SOURCE_NAMES,
        "RECTIFICATION_LEVEL_NAMES": LEVEL_NAMES,
        "RECTIFICATION_TASK_STATES": {**STATUS_NAMES, "late": N_("late")},
    },
    urgent_notices=frozenset({"rectification_due"}),  # three days before
    notification_kinds={
        "rectification_raised": N_("Rectification item No. %(id)s was raised for your organisation: put it right "
                                   "by %(due)s and submit the fix with its evidence."),
        "rectification_findings": N_("The evaluation of contract No. %(contract)s found %(count)s things for your "
                                     "organisation to put right: submit each fix with its evidence by %(due)s."),
        "rectification_due": N_("Rectification item No. %(id)s is due on %(due)s: submit the fix with its evidence."),
        "rectification_submitted": N_("%(owner)s submitted a fix for rectification item No. %(id)s: verify it."),
        "rectification_verified": N_("Your fix for rectification item No. %(id)s was verified."),
        "rectification_rejected": N_("Your fix for rectification item No. %(id)s was rejected: read why and submit "
                                     "it again."),
        "rectification_withdrawn": N_("Rectification item No. %(id)s was withdrawn by %(buyer)s."),
        "rectification_late": N_("Rectification item No. %(id)s of %(owner)s was due on %(due)s and is not yet "
                                 "verified."),
        "rectification_late_owner": N_("Rectification item No. %(id)s was due on %(due)s and is late: %(buyer)s "
                                       "has been told."),
        "rectification_escalated": N_("Rectification item No. %(id)s of %(owner)s (buyer: %(buyer)s) is more than "
                                      "%(days)s days late and has been escalated to you."),
    },
    done_messages={
        "rectification_submitted": N_("The fix is submitted. Whoever verifies it has been told."),
        "rectification_verified": N_("The fix is verified. The item is closed."),
        "rectification_rejected": N_("The fix is rejected. The item is open again and the owner has been told."),
        "rectification_withdrawn": N_("The item is withdrawn."),
    },
    jobs=[_clock],
)
