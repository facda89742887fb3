from market.core.domain import Domain
from market.core.i18n import N_
from market.evaluation.controllers import PanelApi, PanelPages
from market.evaluation.workflow import PANEL_STATUS_NAMES

DOMAIN = Domain(
    "evaluation", routes=[PanelPages, PanelApi], template_globals={"PANEL_STATUS_NAMES": PANEL_STATUS_NAMES},
    notification_kinds={
        "panel_member_added": N_("You sit on the evaluation panel for “%(title)s”: declare any conflict of interest, "
                                 "read the bids and score them."),
    },
)
